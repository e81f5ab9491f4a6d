package observables

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestBinderGaussian(t *testing.T) {
	// For a Gaussian m, <m^4> = 3 <m^2>^2, so U_4 = 0.
	rng := rand.New(rand.NewPCG(10, 0))
	m := [][]float64{ar1(rng, 50_000, 0.3), ar1(rng, 30_000, 0.3)}
	est, err := Binder(m)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(est.Mean) > kSigma*est.Err || !(est.Err > 0) {
		t.Errorf("U_4: got %s, want 0", fields(est))
	}
}

func TestBinderTwoValues(t *testing.T) {
	// For m = +-c, <m^4> = <m^2>^2 = c^4, so U_4 = 2/3 without fluctuations.
	const c = 0.7
	rng := rand.New(rand.NewPCG(11, 0))
	m := [][]float64{make([]float64, 1000), make([]float64, 10)}
	for _, x := range m {
		for i := range x {
			x[i] = c
			if rng.IntN(2) == 0 {
				x[i] = -c
			}
		}
	}
	est, err := Binder(m)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(est.Mean-2.0/3) > exactTol || est.Err != 0 || est.TauInt != 0.5 {
		t.Errorf("U_4: got %s, want 2/3 with zero error", fields(est))
	}
}

func TestBinderGradFD(t *testing.T) {
	// binderGradFDTol bounds the central-difference truncation and rounding
	// errors for the step binderGradFDStep.
	const (
		binderGradFDStep = 1e-5
		binderGradFDTol  = 1e-7
	)
	for _, means := range [][]float64{{0.8, 1.5}, {0.1, 0.02}, {2, 12}} {
		got := make([]float64, 2)
		binderGrad(means, got)
		for a := range means {
			x := append([]float64(nil), means...)
			h := binderGradFDStep * means[a]
			x[a] = means[a] + h
			fp := binderU4(x)
			x[a] = means[a] - h
			fm := binderU4(x)
			want := (fp - fm) / (2 * h)
			if math.Abs(got[a]-want) > binderGradFDTol*math.Max(1, math.Abs(want)) {
				t.Errorf("dU_4/da_%d at %v: got %.10g, want %.10g", a, means, got[a], want)
			}
		}
	}
}
