package flowtrain

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

const (
	// varZeroTol bounds the path estimators' variance at q = p relative to
	// the standard one's: zero in exact arithmetic, the square of the
	// rounding (estZeroTol for the gradients) otherwise.
	varZeroTol = estZeroTol * estZeroTol
	// varDirectTol is the agreement of GradientVariance with a two-pass
	// computation from stored gradients (summation order only).
	varDirectTol = 1e-10
)

// varianceData returns n samples of the case's target for Forward, nil
// for Reverse.
func varianceData(c estCase, obj Objective, n int, seed uint64) []float64 {
	if obj == Reverse {
		return nil
	}
	x := make([]float64, n*c.flow.Size)
	c.data(rand.New(rand.NewPCG(seed, 7)), x)
	return x
}

// TestGradientVarianceZeroAtOptimum: at a flow equal to its own target
// (q = p) the path estimators are zero on every sample, so their variance
// vanishes to rounding, while the standard estimators keep a variance (the
// Fisher information).
func TestGradientVarianceZeroAtOptimum(t *testing.T) {
	const n = 16
	for _, c := range testCases(t) {
		frozen := newFlowAction(copyFlow(t, c.flow))
		c.target, c.data = frozen, frozen.sample
		for _, obj := range objectives {
			t.Run(c.name+"/"+obj.String(), func(t *testing.T) {
				// workers 1: the frozen flow's action is not safe for
				// concurrent use.
				v, err := GradientVariance(c.flow, c.target, obj, gradients, rand.New(rand.NewPCG(3, 3)), varianceData(c, obj, n, 3), n, 1)
				if err != nil {
					t.Fatal(err)
				}
				std := v[0].Trace
				if !(std > 1e-3) {
					t.Errorf("standard: got trace %.3g, want a nonzero variance", std)
				}
				for _, p := range v[1:] {
					if p.Trace > varZeroTol*std {
						t.Errorf("%v: got trace %.3g, want < %g of the standard trace %.4g", p.Gradient, p.Trace, varZeroTol, std)
					}
					if p.MeanNorm > estZeroTol*math.Sqrt(std) {
						t.Errorf("%v: got mean norm %.3g, want 0 to rounding", p.Gradient, p.MeanNorm)
					}
				}
				t.Logf("trace: standard %.4g +- %.2g, dropin %.3g, fast %.3g", std, v[0].TraceErr, v[1].Trace, v[2].Trace)
			})
		}
	}
}

// TestGradientVarianceDirect compares GradientVariance with the trace of
// the covariance of single-sample gradients from Estimate, computed in two
// passes, and checks that the result does not depend on the workers.
func TestGradientVarianceDirect(t *testing.T) {
	const n = 12
	for _, c := range testCases(t) {
		for _, obj := range objectives {
			t.Run(c.name+"/"+obj.String(), func(t *testing.T) {
				data := varianceData(c, obj, n, 5)
				v1, err := GradientVariance(c.flow, c.target, obj, gradients, rand.New(rand.NewPCG(5, 5)), data, n, 1)
				if err != nil {
					t.Fatal(err)
				}
				v3, err := GradientVariance(c.flow, c.target, obj, gradients, rand.New(rand.NewPCG(5, 5)), data, n, 3)
				if err != nil {
					t.Fatal(err)
				}
				// The same base samples as GradientVariance: one Uint64 per
				// sample seeds the estimator's rng.
				seeds := rand.New(rand.NewPCG(5, 5))
				seed := make([]uint64, n)
				for i := range seed {
					seed[i] = seeds.Uint64()
				}
				for j, g := range gradients {
					if v1[j] != v3[j] {
						t.Errorf("%v: workers 1 and 3 differ: %+v, %+v", g, v1[j], v3[j])
					}
					e, err := NewEstimator(c.flow, c.target, obj, g, 1, 1)
					if err != nil {
						t.Fatal(err)
					}
					P := c.flow.NumParams()
					gs := make([][]float64, n)
					mean := make([]float64, P)
					for i := range gs {
						gs[i] = make([]float64, P)
						var x []float64
						if obj == Forward {
							x = data[i*c.flow.Size : (i+1)*c.flow.Size]
						}
						if _, err := e.Estimate(rand.New(rand.NewPCG(seed[i], 0)), x, gs[i]); err != nil {
							t.Fatal(err)
						}
						for k, v := range gs[i] {
							mean[k] += v / n
						}
					}
					var tr float64
					for _, gi := range gs {
						for k, v := range gi {
							tr += (v - mean[k]) * (v - mean[k])
						}
					}
					tr /= n - 1
					if d := math.Abs(v1[j].Trace-tr) / tr; !(d < varDirectTol) {
						t.Errorf("%v: got trace %.12g, want %.12g (two-pass), relative difference %.3g", g, v1[j].Trace, tr, d)
					}
					if d := math.Abs(v1[j].MeanNorm-norm(mean)) / norm(mean); !(d < varDirectTol) {
						t.Errorf("%v: got mean norm %.12g, want %.12g", g, v1[j].MeanNorm, norm(mean))
					}
					if !(v1[j].TraceErr > 0) {
						t.Errorf("%v: got trace error %v, want > 0", g, v1[j].TraceErr)
					}
				}
			})
		}
	}
}

func TestGradientVarianceErrors(t *testing.T) {
	c := u1Case(t, 2)
	if _, err := GradientVariance(c.flow, c.target, Reverse, gradients, rand.New(rand.NewPCG(1, 1)), nil, 1, 1); err == nil || !strings.Contains(err.Error(), "want >= 2") {
		t.Errorf("n=1: got error %v, want one asking for >= 2 samples", err)
	}
	if _, err := GradientVariance(c.flow, c.target, Reverse, nil, rand.New(rand.NewPCG(1, 1)), nil, 4, 1); err == nil {
		t.Error("no gradient types: got no error")
	}
	if _, err := GradientVariance(c.flow, c.target, Reverse, []GradientType{7}, rand.New(rand.NewPCG(1, 1)), nil, 4, 1); err == nil || !strings.Contains(err.Error(), "GradientType(7)") {
		t.Errorf("gradient 7: got error %v, want one naming GradientType(7)", err)
	}
	mustPanic(t, "forward, wrong data length", func() {
		GradientVariance(c.flow, c.target, Forward, gradients, nil, make([]float64, 3), 4, 1)
	})
	mustPanic(t, "reverse, nil rng", func() {
		GradientVariance(c.flow, c.target, Reverse, gradients, nil, nil, 4, 1)
	})
}

// mustPanic fails the test unless fn panics with a "flowtrain: " message.
func mustPanic(t *testing.T, name string, fn func()) {
	t.Helper()
	defer func() {
		r := recover()
		if msg, ok := r.(string); !ok || !strings.HasPrefix(msg, "flowtrain: ") {
			t.Errorf("%s: got panic %v, want a flowtrain: message", name, r)
		}
	}()
	fn()
}
