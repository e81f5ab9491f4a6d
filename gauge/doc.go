// Package gauge is two-dimensional U(1) lattice gauge theory: link angles,
// plaquettes, the Wilson action with its force, the topological charge,
// gauge transformations, exact results from the character expansion (and,
// where it cancels, from the topological sectors), the independent-plaquette
// proposal and an exact sampler of the Wilson action.
//
// Conventions, shared with the rest of latflow:
//
//   - Sites are indexed as in package lattice: n = x0*L + x1, direction 1 is
//     the contiguous axis, boundaries are periodic, V = L*L.
//   - A configuration is a []float64 of length 2V. The link leaving site n
//     in direction mu holds the angle theta_mu(n) at index mu*V + n, so all
//     mu = 0 links come first, each block in site order.
//   - The canonical range of a link angle is [0, 2pi) (Wrap, WrapLinks,
//     RandomLinksTo). Functions accept angles outside it; the physics only
//     depends on them modulo 2pi.
//   - The plaquette at site n is oriented counter-clockwise in the (0, 1)
//     plane: P(n) = theta_0(n) + theta_1(n+e0) - theta_0(n+e1) - theta_1(n).
//     PlaquettesTo returns this sum unwrapped.
//   - The Wilson action is S = -beta * sum_n cos P(n), and the target
//     density is proportional to exp(-S). The force is the gradient
//     dS/dtheta (not its negative):
//     dS/dtheta_0(n) = beta [sin P(n) - sin P(n-e1)] and
//     dS/dtheta_1(n) = beta [sin P(n-e0) - sin P(n)].
//   - The topological charge is Q = (1/2pi) sum_n wrap(P(n)) with wrap into
//     [-pi, pi); on a periodic lattice it is an integer. A field with
//     uniform plaquette 2pi k/V has Q = k.
//   - A gauge transformation by site angles alpha maps
//     theta_mu(n) -> theta_mu(n) + alpha(n) - alpha(n+e_mu); plaquettes
//     (modulo 2pi), the action and Q are invariant under it.
//   - Exact results (ExactTorus) use the Haar measure dtheta/(2pi) on every
//     link, so log Z of the flat measure on [0, 2pi) is larger by
//     2V log(2pi).
//   - Densities of samplers and proposals (PlaquetteProposal.LogDensity)
//     are densities on the flat measure of [0, 2pi)^(2V).
//
// # Plaquettes as coordinates
//
// In two dimensions the Wilson action is a sum of independent terms, one
// per plaquette, and the only coupling between the plaquettes on the torus
// is topological: every link enters two plaquettes with opposite signs, so
// sum_n P(n) = 0 exactly and the V plaquette angles satisfy one constraint
// modulo 2pi. Fixing a maximal tree of V-1 links (MaximalTreeTo describes
// the one used here), the remaining V+1 links are determined by V-1 of
// the plaquettes and the two Polyakov loops w0, w1 through site 0. The map
// from (V-1 plaquettes, w0, w1, V-1 tree links) to the 2V links has integer
// coefficients and determinant +-1: a bijection of tori with unit
// Jacobian. The tree links are the gauge degrees of freedom: drawing them
// uniformly is a uniform random gauge transformation.
//
// # The independent-plaquette proposal
//
// PlaquetteProposal draws V-1 plaquettes independently from the von Mises
// marginal exp(beta cos P) / (2pi I0(beta)) (VonMises), sets the remaining
// plaquette k by the constraint, and draws the Polyakov loops and the tree
// links uniformly. Constraining plaquette k gives the density on the flat
// measure
//
//	q_k(theta) = (2pi)^-(V+1) prod_(n != k) exp(beta cos P(n)) / (2pi I0(beta)),
//
// whose importance weight p~/q_k with p~ = exp(beta sum_n cos P(n)) is
// proportional to exp(beta cos P(k)). The constrained plaquette, minus the
// sum of V-1 independent angles, is nearly uniform, so the independence
// Metropolis (IMH) acceptance of ConstraintFixed (k = V-1) is about
// E[min(w, w')]/E[w] with P(k) uniform, the same at every volume. The
// default ConstraintRandom picks k uniformly for each sample; its density
// is the mixture
//
//	q(theta) = (1/V) sum_k q_k(theta)
//	         = (2pi)^-(V+1) (2pi I0(beta))^-(V-1) exp(beta sum_n cos P(n))
//	           * (1/V) sum_k exp(-beta cos P(k)),
//
// and its weight is proportional to 1 / mean_k exp(-beta cos P(k)). Over
// von Mises plaquettes exp(-beta cos P) has mean 1/I0(beta) and second
// moment 1, so the relative spread of the mean over V plaquettes is about
// sqrt(I0(beta)^2 - 1)/sqrt(V), and the acceptance grows towards 1 with
// the volume, the more slowly the larger beta.
//
// ConstraintSpread constrains no single plaquette: it draws all V from the
// von Mises marginal and shifts every one by the same c = s/V, s their sum
// wrapped into [-pi, pi), so that the defect of the constraint is spread
// evenly and the shifted plaquettes P'(n) = P(n) - c sum to 0 modulo 2pi.
// (P(0) .. P(V-1)) -> (P'(0) .. P'(V-2), c) is a bijection of the torus onto
// the torus of V-1 plaquettes times [-pi/V, pi/V), linear with determinant
// 1/V, so that with the maximal-tree construction
//
//	q(theta) = (2pi)^-(V+1) V int_(-pi/V)^(pi/V) prod_n exp(beta cos(P(n) + c)) / (2pi I0(beta)) dc.
//
// With R exp(i phi) = sum_n exp(i P(n)) the product is
// exp(beta R cos(c + phi)) / (2pi I0(beta))^V, and log q and its score need
// one integral over c (spread.go), done on Gauss-Legendre panels graded to
// the width of the peak of exp(beta R cos(c + phi)), accurate to about
// 1e-13 relative for any beta and L. Its weight, exp(beta sum_n cos P(n))
// divided by the integral, varies only through the small differences
// between the plaquettes' von Mises product and its best shift, and the
// acceptance tends to 1 quickly, at every beta: at large beta, where the
// plaquettes are nearly Gaussian, iid plaquettes shifted by their mean are
// exactly the constrained ones. The range of c is centred on 0: with s
// wrapped into [0, 2pi) instead, a configuration of negative sum would
// find its best shift at an end of the range, and the acceptance was
// lower (0.68, 0.83, 0.91 at beta = 3 and 0.58, 0.75, 0.87 at beta = 6,
// L = 8, 16, 32).
//
// Measured IMH acceptances (BenchmarkPlaquetteProposalIMH, 20000 proposals
// each):
//
//	beta  L   fixed  random  spread
//	2     8   0.42   0.86    0.977
//	2     16  0.43   0.93    0.994
//	2     32  0.42   0.96    0.999
//	3     8   0.32   0.71    0.961
//	3     16  0.33   0.84    0.991
//	3     32  0.33   0.92    0.998
//	6     8   0.21   0.41    0.910
//	6     16  0.22   0.48    0.977
//	6     32  0.21   0.57    0.995
//
// (fixed and random each to about +-0.01, spread to about +-0.003).
// LogDensity and ScoreTo compute log q and its gradient from the links alone
// (plaquettes on the fly, the mixture in log space, the integral over c as
// a logarithm), without allocation and safely from concurrent goroutines,
// for use as the base density of a flow. At L = 16 the three modes cost
// about the same per sample (the V von Mises draws dominate: 34, 42 and
// 34 microseconds for fixed, random and spread); LogDensity and ScoreTo of
// ConstraintSpread take about 1.5 times those of ConstraintFixed and 0.7
// times those of ConstraintRandom.
//
// # Exact sampling
//
// ExactSampler turns the same construction into an exact sampler of
// exp(-S): it draws V-1 von Mises plaquettes, fixes the last by the
// constraint and accepts with probability exp(beta (cos P_last - 1)),
// otherwise draws again. The accepted plaquettes have the Wilson density,
// and the Polyakov loops and the gauge, on which the action does not
// depend, are uniform. Samples are independent, so topological freezing
// does not arise. A try is accepted with probability
// exp(-beta) Z_Haar / I0(beta)^(V-1), which tends to exp(-beta) I0(beta)
// on large lattices: 0.31 at beta = 2, 0.24 at beta = 3, 0.17 at beta = 6.
package gauge
