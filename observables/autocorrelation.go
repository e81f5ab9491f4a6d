package observables

import (
	"errors"
	"fmt"
)

// Autocorrelation is what the Gamma method sees of one primary observable:
// its normalized autocorrelation function, tau_int summed up to each
// window W, and the analysis of the table at the window it chose.
type Autocorrelation struct {
	// Rho[t] = Gamma(t) / Gamma(0) for 0 <= t < len(Rho), the normalized
	// autocorrelation function averaged over the replicas.
	Rho []float64
	// TauInt[W] is tau_int summed up to window W, 1/2 + sum_{t=1}^{W}
	// Rho[t] with the bias correction the Gamma method applies at its
	// window, and TauIntErr[W] its error; TauInt[Estimate.Window] is
	// Estimate.TauInt.
	TauInt, TauIntErr []float64
	// Estimate is the analysis of Table: the Gamma method with automatic
	// windowing or, for strongly anticorrelated data, with W = 0
	// (Anticorrelated is then true).
	Estimate       Estimate
	Anticorrelated bool
}

// DefaultLags returns the number of lags AutocorrelationOf computes when
// asked for none: 3 W + 20, enough to show the function decay past the
// window W.
func DefaultLags(window int) int { return 3*window + 20 }

// AutocorrelationOf analyses a primary observable as Table does (replicas[r]
// is the time series of chain r) and returns its autocorrelation function
// for the lags 0 <= t <= maxLag, at most W_max = min_r N_r / 2; maxLag <= 0
// means DefaultLags of the window. As in Table, an ErrNoWindow error is
// returned with the result filled in; a constant series is an error, since
// it has no autocorrelation function.
func AutocorrelationOf(replicas [][]float64, maxLag int) (Autocorrelation, error) {
	est, ac, err := gammaPrimary(replicas, GammaOptions{})
	var a Autocorrelation
	if errors.Is(err, ErrAnticorrelated) {
		a.Anticorrelated = true
		est, ac, err = gammaPrimary(replicas, GammaOptions{STau: -1})
	}
	if err != nil && !errors.Is(err, ErrNoWindow) {
		return a, err
	}
	if ac == nil || est.Err == 0 {
		return a, fmt.Errorf("observables: constant over all %d values: no autocorrelation function", est.N)
	}
	a.Estimate = est
	if maxLag <= 0 {
		maxLag = DefaultLags(est.Window)
	}
	maxLag = min(max(maxLag, est.Window), ac.wmax)
	g0 := ac.gamma(0)
	a.Rho = make([]float64, maxLag+1)
	a.TauInt = make([]float64, maxLag+1)
	a.TauIntErr = make([]float64, maxLag+1)
	cf := g0
	for t := 0; t <= maxLag; t++ {
		g := ac.gamma(t)
		a.Rho[t] = g / g0
		if t > 0 {
			cf += 2 * g
		}
		a.TauInt[t], a.TauIntErr[t] = tauIntBiasCorrected(g0, cf, t, ac.n)
	}
	return a, err
}
