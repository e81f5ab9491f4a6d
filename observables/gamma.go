package observables

import (
	"errors"
	"fmt"
	"math"
)

// Estimate is the result of a Gamma-method analysis of one observable.
type Estimate struct {
	// Mean is the estimate of the observable and Err its statistical error.
	Mean, Err float64
	// TauInt is the integrated autocorrelation time at the chosen window
	// (1/2 for uncorrelated data) and TauIntErr its error.
	TauInt, TauIntErr float64
	// Window is the summation window W_opt; N is the total number of data.
	Window, N int
}

// GammaOptions configures the Gamma method.
type GammaOptions struct {
	// STau is the factor S_tau of the automatic windowing, the assumed ratio
	// tau_exp / tau_int. Zero means the default 1.5; a negative value
	// assumes no autocorrelation and uses the window W = 0.
	STau float64
}

// DefaultSTau is the windowing factor S_tau used when GammaOptions.STau is 0.
const DefaultSTau = 1.5

// ErrNoWindow is wrapped by the error that the Gamma method returns when
// the automatic windowing finds no window up to W_max = min_r N_r / 2. The
// Estimate is filled in nonetheless, with W = W_max; its error is then
// likely underestimated because the chains are too short for their
// autocorrelation time (or the replicas disagree).
var ErrNoWindow = errors.New("observables: automatic windowing found no window")

// ErrAnticorrelated is wrapped by the error that the Gamma method returns
// when the summed autocorrelation C_F is not positive: data so strongly
// anticorrelated (e.g. HMC trajectories in resonance with the field's
// oscillations) that the windowed sum cancels. The naive error of W = 0
// (GammaOptions.STau < 0) is then an upper bound.
var ErrAnticorrelated = errors.New("observables: strongly anticorrelated data")

// GammaPrimary analyses a primary observable measured on one or more
// replicas: replicas[r] is the time series of chain r. The mean is over all
// data, so every replica is weighted by its length.
//
// It returns an error if there is no data, a replica has fewer than two
// values, or a value is not finite. A constant series gives Err = 0 and
// TauInt = 1/2. If the windowing fails, the error wraps ErrNoWindow and the
// Estimate is still returned.
func GammaPrimary(replicas [][]float64, opt GammaOptions) (Estimate, error) {
	est, _, err := gammaPrimary(replicas, opt)
	return est, err
}

// gammaPrimary is GammaPrimary that also returns the autocorrelation
// function it used (nil for a constant series).
func gammaPrimary(replicas [][]float64, opt GammaOptions) (Estimate, *autocov, error) {
	n, err := checkReplicas(replicas)
	if err != nil {
		return Estimate{}, nil, fmt.Errorf("observables: %w", err)
	}
	mean, constant := seriesMean(replicas, n)
	if constant {
		return constantEstimate(mean, n), nil, nil
	}
	dev := make([][]float64, len(replicas))
	for r, x := range replicas {
		d := make([]float64, len(x))
		for i, v := range x {
			d[i] = v - mean
		}
		dev[r] = d
	}
	est, ac, err := gammaAnalysis(dev, n, opt)
	est.Mean = mean
	return est, ac, err
}

// GammaDerived analyses the derived quantity f(<a_1>, ..., <a_n>) by the
// linearised Gamma method. data[a][r] is the time series of observable a in
// replica r; all observables of one replica have the same length. f is
// evaluated at the means over all data, and the Estimate's Mean is that
// value (without a replica bias correction).
//
// If grad is nil, the gradient of f at the means is taken by central finite
// differences with the steps h_a = sigma_a / sqrt(N), sigma_a the standard
// deviation of observable a (zero gradient for a constant observable);
// otherwise grad(means, dst) must write it into dst. Neither f nor grad may
// keep or modify means.
//
// Errors are returned as by GammaPrimary, and also if the series of a
// replica differ in length, the observables have different numbers of
// replicas, or f or its gradient is not finite at the means.
func GammaDerived(data [][][]float64, f func(means []float64) float64, grad func(means, dst []float64), opt GammaOptions) (Estimate, error) {
	if f == nil {
		panic("observables: GammaDerived with nil f")
	}
	if len(data) == 0 {
		return Estimate{}, errors.New("observables: derived quantity of no observables")
	}
	nrep := len(data[0])
	var n int
	for a, reps := range data {
		if len(reps) != nrep {
			return Estimate{}, fmt.Errorf("observables: observable %d has %d replicas, observable 0 has %d", a, len(reps), nrep)
		}
		na, err := checkReplicas(reps)
		if err != nil {
			return Estimate{}, fmt.Errorf("observables: observable %d: %w", a, err)
		}
		for r := range reps {
			if len(reps[r]) != len(data[0][r]) {
				return Estimate{}, fmt.Errorf("observables: observable %d has %d values in replica %d, observable 0 has %d", a, len(reps[r]), r, len(data[0][r]))
			}
		}
		n = na
	}

	nobs := len(data)
	means := make([]float64, nobs)
	sigmas := make([]float64, nobs)
	for a, reps := range data {
		m, constant := seriesMean(reps, n)
		means[a] = m
		if constant {
			continue
		}
		var s float64
		for _, x := range reps {
			for _, v := range x {
				s += (v - m) * (v - m)
			}
		}
		sigmas[a] = math.Sqrt(s / float64(n))
	}

	value := f(append([]float64(nil), means...))
	if math.IsNaN(value) || math.IsInf(value, 0) {
		return Estimate{}, fmt.Errorf("observables: derived quantity is %v at the means %v", value, means)
	}
	g := make([]float64, nobs)
	if grad != nil {
		grad(append([]float64(nil), means...), g)
	} else {
		gradientFD(g, f, means, sigmas, n)
	}
	for a, v := range g {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Estimate{}, fmt.Errorf("observables: derivative of the derived quantity by observable %d is %v at the means %v", a, v, means)
		}
	}

	dev := make([][]float64, nrep)
	zero := true
	for r := range dev {
		d := make([]float64, len(data[0][r]))
		for a, reps := range data {
			if g[a] == 0 || sigmas[a] == 0 {
				continue
			}
			for i, v := range reps[r] {
				d[i] += g[a] * (v - means[a])
			}
		}
		for _, v := range d {
			if v != 0 {
				zero = false
				break
			}
		}
		dev[r] = d
	}
	if zero {
		return constantEstimate(value, n), nil
	}
	est, _, err := gammaAnalysis(dev, n, opt)
	est.Mean = value
	return est, err
}

// gradientFD writes the central finite-difference gradient of f at means
// into dst, with the steps h_a = sigma_a / sqrt(n).
func gradientFD(dst []float64, f func([]float64) float64, means, sigmas []float64, n int) {
	x := make([]float64, len(means))
	for a := range means {
		h := sigmas[a] / math.Sqrt(float64(n))
		if h == 0 {
			dst[a] = 0
			continue
		}
		copy(x, means)
		x[a] = means[a] + h
		fp := f(x)
		copy(x, means)
		x[a] = means[a] - h
		fm := f(x)
		dst[a] = (fp - fm) / (2 * h)
	}
}

// checkReplicas checks that there is data, that every replica has at least
// two values and that all values are finite; it returns the total number of
// values. Its errors have no package prefix.
func checkReplicas(replicas [][]float64) (int, error) {
	if len(replicas) == 0 {
		return 0, errors.New("no replicas")
	}
	n := 0
	for r, x := range replicas {
		if len(x) < 2 {
			return 0, fmt.Errorf("replica %d has %d values, want at least 2", r, len(x))
		}
		for i, v := range x {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, fmt.Errorf("replica %d: value %d is %v", r, i, v)
			}
		}
		n += len(x)
	}
	return n, nil
}

// seriesMean returns the mean over all n values of the replicas, and
// whether all values are equal (in which case the mean is that value
// exactly).
func seriesMean(replicas [][]float64, n int) (mean float64, constant bool) {
	first := replicas[0][0]
	constant = true
	var s float64
	for _, x := range replicas {
		for _, v := range x {
			s += v
			if v != first {
				constant = false
			}
		}
	}
	if constant {
		return first, true
	}
	return s / float64(n), false
}

// constantEstimate is the Estimate of data without fluctuations.
func constantEstimate(mean float64, n int) Estimate {
	return Estimate{Mean: mean, TauInt: 0.5, N: n}
}

// gammaAnalysis runs the Gamma method on the deviations dev[r] from the
// mean, n = sum_r len(dev[r]). It fills every field of the Estimate except
// Mean, and returns the autocorrelation function it used.
func gammaAnalysis(dev [][]float64, n int, opt GammaOptions) (Estimate, *autocov, error) {
	sTau := opt.STau
	if sTau == 0 {
		sTau = DefaultSTau
	}
	nmin := len(dev[0])
	for _, d := range dev {
		nmin = min(nmin, len(d))
	}
	wmax := nmin / 2
	ac := newAutocov(dev, n, wmax)

	g0 := ac.gamma(0)
	if g0 == 0 {
		return constantEstimate(0, n), ac, nil
	}

	var werr error
	wopt := 0
	if sTau > 0 {
		found := false
		var sum float64
		for w := 1; w <= wmax; w++ {
			sum += ac.gamma(w)
			G := sum / g0
			if G <= 0 {
				// tau_W is tiny, so g(W) < 0.
				wopt, found = w, true
				break
			}
			tauW := sTau / math.Log1p(1/G)
			gW := math.Exp(-float64(w)/tauW) - tauW/math.Sqrt(float64(w)*float64(n))
			if gW < 0 {
				wopt, found = w, true
				break
			}
		}
		if !found {
			wopt = wmax
			werr = fmt.Errorf("%w up to W_max = %d (shortest replica %d); the error uses W = %d and is likely underestimated",
				ErrNoWindow, wmax, nmin, wmax)
		}
	}

	cf := g0
	for t := 1; t <= wopt; t++ {
		cf += 2 * ac.gamma(t)
	}
	// Bias correction: Gamma(t) += C_F / N for 0 <= t <= W_opt, once.
	cfc := cf + float64(2*wopt+1)*(cf/float64(n))
	if !(cfc > 0) {
		return Estimate{}, ac, fmt.Errorf("%w: estimated variance C_F = %g at W = %d is not positive", ErrAnticorrelated, cfc, wopt)
	}
	tau, tauErr := tauIntBiasCorrected(g0, cf, wopt, n)
	est := Estimate{
		Err:       math.Sqrt(cfc / float64(n)),
		TauInt:    tau,
		TauIntErr: tauErr,
		Window:    wopt,
		N:         n,
	}
	return est, ac, werr
}

// tauIntBiasCorrected returns tau_int at window w and its error, from
// Gamma(0) = g0 and C_F(w) = Gamma(0) + 2 sum_{t=1}^{w} Gamma(t), with the
// bias correction Gamma(t) += C_F / N for 0 <= t <= w.
func tauIntBiasCorrected(g0, cf float64, w, n int) (tau, tauErr float64) {
	bias := cf / float64(n)
	tau = (cf + float64(2*w+1)*bias) / (2 * (g0 + bias))
	return tau, 2 * tau * math.Sqrt(math.Max(0, (float64(w)-tau+0.5)/float64(n)))
}
