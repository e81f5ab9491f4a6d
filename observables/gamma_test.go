package observables

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

const (
	// kSigma is the number of standard deviations a statistical check allows.
	kSigma = 3.0
	// exactTol is the tolerance of results that are exact up to rounding.
	exactTol = 1e-12
	// linearTol is the agreement of derived and primary analyses of a
	// linear function, where finite differences are exact up to rounding.
	linearTol = 1e-9
	// gradFDTol is the relative agreement of a result from the
	// finite-difference gradient of GammaDerived (steps sigma/sqrt(N), error
	// of order (sigma/mean)^2 / N) with the analytic one.
	gradFDTol = 1e-3
	// repErrTol is the relative agreement of the Gamma-method error with the
	// spread of independent repetitions.
	repErrTol = 0.2
)

// ar1 returns a stationary AR(1) series x_t = rho x_{t-1} + sqrt(1-rho^2) eta_t
// of length n with unit variance; its tau_int is (1+rho) / (2 (1-rho)).
func ar1(rng *rand.Rand, n int, rho float64) []float64 {
	x := make([]float64, n)
	c := math.Sqrt(1 - rho*rho)
	x[0] = rng.NormFloat64()
	for i := 1; i < n; i++ {
		x[i] = rho*x[i-1] + c*rng.NormFloat64()
	}
	return x
}

// fields formats all fields of an Estimate for test messages.
func fields(e Estimate) string {
	return fmt.Sprintf("{Mean:%.10g Err:%.6g TauInt:%.6g TauIntErr:%.3g Window:%d N:%d}",
		e.Mean, e.Err, e.TauInt, e.TauIntErr, e.Window, e.N)
}

// ar1TauInt is the exact integrated autocorrelation time of ar1.
func ar1TauInt(rho float64) float64 { return (1 + rho) / (2 * (1 - rho)) }

func TestGammaAR1(t *testing.T) {
	const n = 100_000
	for i, rho := range []float64{0, 0.5, 0.9} {
		t.Run(fmt.Sprintf("rho=%g", rho), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(i)))
			x := ar1(rng, n, rho)
			est, err := GammaPrimary([][]float64{x}, GammaOptions{})
			if err != nil {
				t.Fatal(err)
			}
			tau := ar1TauInt(rho)
			t.Logf("%s, exact tau_int %.4g, exact error %.5g", fields(est), tau, math.Sqrt(2*tau/n))
			if d := math.Abs(est.TauInt - tau); d > kSigma*est.TauIntErr {
				t.Errorf("tau_int: got %.4f +- %.4f, want %.4f", est.TauInt, est.TauIntErr, tau)
			}
			// The error of the mean of unit-variance data is sqrt(2 tau / N);
			// the estimate fluctuates with tau_int and with Gamma(0), whose
			// relative error is sqrt(2 (1+rho^2) / ((1-rho^2) N)).
			wantErr := math.Sqrt(2 * tau / n)
			relVar := math.Sqrt(2 * (1 + rho*rho) / ((1 - rho*rho) * n))
			tol := kSigma * 0.5 * (est.TauIntErr/est.TauInt + relVar)
			if d := math.Abs(est.Err/wantErr - 1); d > tol {
				t.Errorf("error of the mean: got %.5g, want %.5g (relative tolerance %.3f)", est.Err, wantErr, tol)
			}
			if math.Abs(est.Mean) > kSigma*est.Err {
				t.Errorf("mean: got %.5g +- %.2g, want 0", est.Mean, est.Err)
			}
			if est.N != n || est.Window < 1 {
				t.Errorf("got N=%d, W=%d, want N=%d, W>=1", est.N, est.Window, n)
			}
		})
	}
}

func TestGammaReplicas(t *testing.T) {
	const (
		n    = 25_000
		nrep = 4
		// errRatioTol is the allowed relative deviation of the error ratio
		// of four replicas to one from 1/2.
		errRatioTol = 0.1
	)
	for i, rho := range []float64{0.5, 0.9} {
		t.Run(fmt.Sprintf("rho=%g", rho), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(2, uint64(i)))
			reps := make([][]float64, nrep)
			for r := range reps {
				reps[r] = ar1(rng, n, rho)
			}
			one, err := GammaPrimary(reps[:1], GammaOptions{})
			if err != nil {
				t.Fatal(err)
			}
			all, err := GammaPrimary(reps, GammaOptions{})
			if err != nil {
				t.Fatal(err)
			}
			tau := ar1TauInt(rho)
			t.Logf("one replica %s, %d replicas %s", fields(one), nrep, fields(all))
			if d := math.Abs(all.TauInt - tau); d > kSigma*all.TauIntErr {
				t.Errorf("tau_int of %d replicas: got %.4f +- %.4f, want %.4f", nrep, all.TauInt, all.TauIntErr, tau)
			}
			if d := math.Abs(all.TauInt - one.TauInt); d > kSigma*math.Hypot(all.TauIntErr, one.TauIntErr) {
				t.Errorf("tau_int: got %.4f +- %.4f with %d replicas, want %.4f +- %.4f of one replica", all.TauInt, all.TauIntErr, nrep, one.TauInt, one.TauIntErr)
			}
			ratio := all.Err / one.Err
			if want := 1 / math.Sqrt(nrep); math.Abs(ratio/want-1) > errRatioTol {
				t.Errorf("error ratio of %d replicas to one: got %.4f, want %.4f", nrep, ratio, want)
			}
			if all.N != nrep*n {
				t.Errorf("got N=%d, want %d", all.N, nrep*n)
			}
		})
	}
}

func TestGammaReplicaMean(t *testing.T) {
	// The mean is over all data, so a replica counts with its length:
	// (1+3+1+3+1+3 + 10+12) / 8 = 4.25, not the mean of the replica means 6.5.
	reps := [][]float64{{1, 3, 1, 3, 1, 3}, {10, 12}}
	est, err := GammaPrimary(reps, GammaOptions{STau: -1})
	if err != nil {
		t.Fatal(err)
	}
	if est.Mean != 4.25 || est.N != 8 {
		t.Errorf("got mean %v with N=%d, want 4.25 with N=8", est.Mean, est.N)
	}
}

func TestAutocovReplicas(t *testing.T) {
	// Deviations {1, -1} and {2, 0, -2}: N = 5, R = 2,
	// Gamma(0) = (1 + 1 + 4 + 0 + 4) / 5 = 2,
	// Gamma(1) = (1*(-1) + 2*0 + 0*(-2)) / (5 - 2) = -1/3.
	ac := newAutocov([][]float64{{1, -1}, {2, 0, -2}}, 5, 1)
	for _, c := range []struct {
		t    int
		want float64
	}{{0, 2}, {1, -1.0 / 3}} {
		if got := ac.gamma(c.t); math.Abs(got-c.want) > exactTol {
			t.Errorf("Gamma(%d): got %v, want %v", c.t, got, c.want)
		}
	}
}

func TestLagSumsFFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 0))
	dev := [][]float64{ar1(rng, 1000, 0.8), ar1(rng, 777, 0.8), ar1(rng, 1500, 0.8)}
	wmax := 777 / 2
	got := make([]float64, wmax+1)
	lagSumsFFT(got, dev)
	scale := lagSum(dev, 0)
	for lag := range got {
		if want := lagSum(dev, lag); math.Abs(got[lag]-want) > exactTol*scale {
			t.Errorf("lag %d: got %.15g, want %.15g", lag, got[lag], want)
		}
	}
	// Through the lazy autocorrelation function, past the direct lags.
	n := 1000 + 777 + 1500
	ac := newAutocov(dev, n, wmax)
	for _, lag := range []int{0, directLags - 1, directLags, wmax} {
		want := lagSum(dev, lag) / float64(n-len(dev)*lag)
		if g := ac.gamma(lag); math.Abs(g-want) > exactTol*scale/float64(n) {
			t.Errorf("Gamma(%d): got %.15g, want %.15g", lag, g, want)
		}
	}
}

func TestGammaLongTau(t *testing.T) {
	// tau_int = 99.5 needs a window beyond directLags, so the FFT path sets it.
	const (
		n   = 400_000
		rho = 0.99
	)
	rng := rand.New(rand.NewPCG(4, 0))
	est, err := GammaPrimary([][]float64{ar1(rng, n, rho)}, GammaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", fields(est))
	if est.Window <= directLags {
		t.Errorf("window: got %d, want > %d", est.Window, directLags)
	}
	if tau := ar1TauInt(rho); math.Abs(est.TauInt-tau) > kSigma*est.TauIntErr {
		t.Errorf("tau_int: got %.2f +- %.2f, want %.2f", est.TauInt, est.TauIntErr, tau)
	}
}

func TestGammaNoAutocorrelation(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 0))
	x := ar1(rng, 10_000, 0.9)
	naive, err := GammaPrimary([][]float64{x}, GammaOptions{STau: -1})
	if err != nil {
		t.Fatal(err)
	}
	if naive.Window != 0 || math.Abs(naive.TauInt-0.5) > exactTol {
		t.Errorf("STau<0: got W=%d, tau_int=%v, want W=0, tau_int=0.5", naive.Window, naive.TauInt)
	}
	full, err := GammaPrimary([][]float64{x}, GammaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !(full.Err > 3*naive.Err) {
		t.Errorf("error with autocorrelation: got %.3g, want > 3 x %.3g (tau_int = 9.5)", full.Err, naive.Err)
	}
}

func TestGammaConstant(t *testing.T) {
	x := make([]float64, 100)
	for i := range x {
		x[i] = 0.1
	}
	for _, opt := range []GammaOptions{{}, {STau: -1}} {
		est, err := GammaPrimary([][]float64{x, x[:7]}, opt)
		if err != nil {
			t.Fatal(err)
		}
		want := Estimate{Mean: 0.1, TauInt: 0.5, N: 107}
		if est != want {
			t.Errorf("STau=%v: got %s, want %s", opt.STau, fields(est), fields(want))
		}
	}
	est, err := GammaDerived([][][]float64{{x}, {x}}, func(m []float64) float64 { return m[0] / m[1] }, nil, GammaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Estimate{Mean: 1, TauInt: 0.5, N: 100}); est != want {
		t.Errorf("derived: got %s, want %s", fields(est), fields(want))
	}
}

func TestGammaNoWindow(t *testing.T) {
	// Replicas stuck at different levels look like one infinitely
	// correlated chain: no window up to W_max = 100 satisfies the criterion.
	rng := rand.New(rand.NewPCG(6, 0))
	reps := make([][]float64, 8)
	for r := range reps {
		reps[r] = make([]float64, 200)
		for i := range reps[r] {
			reps[r][i] = float64(r) + 0.01*rng.NormFloat64()
		}
	}
	est, err := GammaPrimary(reps, GammaOptions{})
	if !errors.Is(err, ErrNoWindow) {
		t.Fatalf("got error %v, want ErrNoWindow", err)
	}
	if est.Window != 100 || !(est.Err > 0) || est.N != 1600 {
		t.Errorf("got %s, want W=100, Err>0, N=1600", fields(est))
	}
}

func TestGammaAnticorrelated(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 0))
	x := make([]float64, 1000)
	for i := range x {
		x[i] = float64(1-2*(i%2)) + 0.01*rng.NormFloat64()
	}
	est, err := GammaPrimary([][]float64{x}, GammaOptions{})
	if err == nil || errors.Is(err, ErrNoWindow) {
		t.Errorf("got %s, %v, want a non-positive C_F error", fields(est), err)
	}
}

func TestGammaErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		name string
		reps [][]float64
	}{
		{"no replicas", nil},
		{"empty replica", [][]float64{{}}},
		{"short replica", [][]float64{{1, 2}, {3}}},
		{"NaN", [][]float64{{1, 2, nan, 4}}},
		{"Inf", [][]float64{{1, 2}, {3, -inf}}},
	} {
		t.Run("primary/"+c.name, func(t *testing.T) {
			if est, err := GammaPrimary(c.reps, GammaOptions{}); err == nil {
				t.Errorf("got %s, want an error", fields(est))
			}
		})
	}
	mean0 := func(m []float64) float64 { return m[0] }
	for _, c := range []struct {
		name string
		data [][][]float64
		f    func([]float64) float64
		grad func(m, dst []float64)
	}{
		{"no observables", nil, mean0, nil},
		{"no replicas", [][][]float64{{}}, mean0, nil},
		{"replica count", [][][]float64{{{1, 2}, {3, 4}}, {{1, 2}}}, mean0, nil},
		{"replica length", [][][]float64{{{1, 2, 3}}, {{1, 2}}}, mean0, nil},
		{"short replica", [][][]float64{{{1}}, {{2}}}, mean0, nil},
		{"NaN", [][][]float64{{{1, 2}}, {{2, nan}}}, mean0, nil},
		{"f NaN", [][][]float64{{{1, 2}}}, func([]float64) float64 { return nan }, nil},
		{"grad Inf", [][][]float64{{{1, 2}}}, mean0, func(_, dst []float64) { dst[0] = inf }},
	} {
		t.Run("derived/"+c.name, func(t *testing.T) {
			if est, err := GammaDerived(c.data, c.f, c.grad, GammaOptions{}); err == nil {
				t.Errorf("got %s, want an error", fields(est))
			}
		})
	}
}

func TestGammaDerivedLinear(t *testing.T) {
	// For a linear f the derived analysis equals the primary analysis of
	// the combined series.
	rng := rand.New(rand.NewPCG(8, 0))
	x := [][]float64{ar1(rng, 5000, 0.7), ar1(rng, 3000, 0.7)}
	y := [][]float64{ar1(rng, 5000, 0.2), ar1(rng, 3000, 0.2)}
	z := make([][]float64, len(x))
	for r := range x {
		z[r] = make([]float64, len(x[r]))
		for i := range x[r] {
			z[r][i] = 3*x[r][i] - y[r][i]
		}
	}
	want, err := GammaPrimary(z, GammaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := GammaDerived([][][]float64{x, y}, func(m []float64) float64 { return 3*m[0] - m[1] }, nil, GammaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.Mean-want.Mean) > exactTol || math.Abs(got.Err/want.Err-1) > linearTol ||
		math.Abs(got.TauInt-want.TauInt) > linearTol || got.Window != want.Window || got.N != want.N {
		t.Errorf("got %s, want %s", fields(got), fields(want))
	}
}

func TestGammaDerivedRatio(t *testing.T) {
	// <x>/<y> of correlated AR(1) series: the Gamma-method error against
	// the spread of independent repetitions.
	const (
		reps = 200
		n    = 2000
		rho  = 0.5
	)
	ratio := func(m []float64) float64 { return m[0] / m[1] }
	ratioGrad := func(m, dst []float64) {
		dst[0] = 1 / m[1]
		dst[1] = -m[0] / (m[1] * m[1])
	}
	rng := rand.New(rand.NewPCG(9, 0))
	var sum, sum2, sumErr float64
	for k := range reps {
		a, b := ar1(rng, n, rho), ar1(rng, n, rho)
		x, y := make([]float64, n), make([]float64, n)
		for i := range a {
			x[i] = 2 + a[i]
			y[i] = 1 + 0.5*(0.6*a[i]+0.8*b[i])
		}
		data := [][][]float64{{x}, {y}}
		est, err := GammaDerived(data, ratio, nil, GammaOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			an, err := GammaDerived(data, ratio, ratioGrad, GammaOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(an.Err/est.Err-1) > gradFDTol || an.Mean != est.Mean {
				t.Errorf("analytic gradient: got %s, want %s (finite differences)", fields(an), fields(est))
			}
		}
		sum += est.Mean
		sum2 += est.Mean * est.Mean
		sumErr += est.Err
	}
	mean := sum / reps
	spread := math.Sqrt((sum2 - reps*mean*mean) / (reps - 1))
	meanErr := sumErr / reps
	t.Logf("mean error %.5g, spread %.5g, mean %.5f", meanErr, spread, mean)
	if math.Abs(meanErr/spread-1) > repErrTol {
		t.Errorf("error of <x>/<y>: got %.4g (mean Gamma-method error), want %.4g (spread of %d repetitions)", meanErr, spread, reps)
	}
	if math.Abs(mean-2) > kSigma*spread/math.Sqrt(reps) {
		t.Errorf("<x>/<y>: got %.5f, want 2", mean)
	}
}

func TestGammaHandExample(t *testing.T) {
	// x = {1, 2, 3, 4}: deviations -1.5, -0.5, 0.5, 1.5, N = 4, W_max = 2.
	// Gamma(0) = 5/4, Gamma(1) = (0.75 - 0.25 + 0.75) / 3 = 5/12.
	// S_tau < 0: W = 0, C_F = Gamma(0) (1 + 1/N) = 25/16, Err = sqrt(C_F/N) = 5/8.
	// S_tau = 1.5: G(1) = 1/3, tau_W = 1.5 / ln 4, g(1) = exp(-1/tau_W) - tau_W/2 < 0,
	// so W = 1; C_F = 5/4 + 5/6 = 25/12, corrected by C_F/N = 25/48 on
	// Gamma(0) and Gamma(1): C_F = 25/12 + 3*25/48 = 175/48, Gamma(0) = 85/48,
	// tau_int = 175/170 = 35/34, Err = sqrt(175/192),
	// TauIntErr = 2 tau_int sqrt((1 - tau_int + 1/2) / 4).
	x := [][]float64{{1, 2, 3, 4}}
	tau := 35.0 / 34
	for _, c := range []struct {
		name string
		opt  GammaOptions
		want Estimate
	}{
		{"STau=-1", GammaOptions{STau: -1}, Estimate{Mean: 2.5, Err: 0.625, TauInt: 0.5, N: 4}},
		{"STau=1.5", GammaOptions{}, Estimate{Mean: 2.5, Err: math.Sqrt(175.0 / 192), TauInt: tau,
			TauIntErr: 2 * tau * math.Sqrt((1.5-tau)/4), Window: 1, N: 4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := GammaPrimary(x, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got.Mean-c.want.Mean) > exactTol || math.Abs(got.Err-c.want.Err) > exactTol ||
				math.Abs(got.TauInt-c.want.TauInt) > exactTol || math.Abs(got.TauIntErr-c.want.TauIntErr) > exactTol ||
				got.Window != c.want.Window || got.N != c.want.N {
				t.Errorf("got %s, want %s", fields(got), fields(c.want))
			}
		})
	}
}
