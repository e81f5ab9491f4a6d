// Package observables holds the statistical analysis of Monte Carlo time
// series (Wolff's Gamma method) and the per-configuration measurements of
// the U(1) gauge and phi^4 theories.
//
// Conventions:
//
//   - A time series of one Markov chain is a []float64 in chain order; a
//     measurement on R independent chains (replicas) is a [][]float64 with
//     one series per replica, and the replicas are combined as in U. Wolff,
//     Comput. Phys. Commun. 156 (2004) 143, hep-lat/0306017: the mean is over
//     all N = sum_r N_r data, and the autocorrelation function
//     Gamma(t) = sum_r sum_i d_r(i) d_r(i+t) / (N - R t) is the replica
//     average of the products of deviations d from that mean.
//   - The window W is chosen automatically with S_tau = 1.5 unless
//     GammaOptions says otherwise; the integrated autocorrelation time is
//     tau_int = C_F / (2 Gamma(0)), so uncorrelated data have tau_int = 1/2
//     and the error of the mean is sqrt(2 tau_int Gamma(0) / N).
//   - Derived quantities f(<a_1>, ..., <a_n>) are analysed by the linearised
//     method: the deviations are projected on the gradient of f at the means.
//   - The magnetization is m = (1/V) sum_x phi(x); direction 0 is time, so
//     the time slice S(t) sums phi over the sites with x0 = t.
//   - The topological charge of a U(1) configuration is rounded to the
//     nearest integer.
//
// Misuse (nil functions, mismatched lattice sizes) panics with a message
// prefixed by "observables:"; unusable data (empty, too short, non-finite,
// mismatched series) gives an error.
package observables
