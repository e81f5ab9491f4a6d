package flow

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// newTestZeroMode returns a float64 zero-mode layer on v sites with random
// parameters: a spline on [-bound, bound] far from the identity.
func newTestZeroMode(rng *rand.Rand, v, bins int, bound float64) *ZeroModeSpline[float64] {
	z := NewZeroModeSpline[float64](v, bins, bound)
	copy(z.Params(), splineTheta(rng, bins, 1))
	return z
}

// TestZeroModeSplineLayer runs the layer checks (VJPs in x and in the
// parameters, fast-path score, log-determinant against the
// finite-difference Jacobian, inverse, inverse VJPs, pullback score) on
// the zero-mode layer. The checks draw fields from N(0, 1.5^2), whose mean
// has the spread 1.5/sqrt(V): few sites and a small bound put the means of
// the cases in different bins and in the identity tails.
func TestZeroModeSplineLayer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		v     int
		bins  int
		bound float64
	}{
		{"V=4/K=4", 4, 4, 0.8},
		{"V=9/K=6", 9, 6, 0.6},
		{"V=16/K=3", 16, 3, 0.5},
		{"V=4/K=2/tails", 4, 2, 0.2},
	} {
		for seed := uint64(0); seed < 3; seed++ {
			t.Run(fmt.Sprintf("%s/seed=%d", tc.name, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(31, uint64(100*tc.v)+seed))
				z := newTestZeroMode(rng, tc.v, tc.bins, tc.bound)
				checkLayerVJP(t, z, rng)
				checkLayerFastPath(t, z, rng)
				checkLayerInverse(t, z, rng)
			})
		}
	}
}

// TestZeroModeSplineMean checks what the layer is: the mean of y is f(m)
// for the spline f of the parameters (the site map of SplineCoupling),
// y - mean y = x - mean x, the parameters' zero is the identity, and
// log|det| = log f'(m).
func TestZeroModeSplineMean(t *testing.T) {
	rng := rand.New(rand.NewPCG(32, 1))
	const v, bins, bound = 64, 5, 1.2
	z := newTestZeroMode(rng, v, bins, bound)
	r := newRQS(bins, bound)
	splineSetupTest(r, z.Params())
	x, y := make([]float64, v), make([]float64, v)
	for trial := 0; trial < 20; trial++ {
		c := -1.5 + 3*rng.Float64()
		for i := range x {
			x[i] = c + rng.NormFloat64()
		}
		ld := z.Forward(z.NewTape(), y, x, nil)
		m := mean(x)
		f, d, _, _ := r.site(m, 0, 0, false)
		if got := mean(y); math.Abs(got-f) > 1e-12 {
			t.Errorf("mean y = %.15g, want f(mean x) = %.15g", got, f)
		}
		if math.Abs(ld-math.Log(d)) > 1e-12 {
			t.Errorf("log|det| = %.15g, want log f'(m) = %.15g", ld, math.Log(d))
		}
		for i := range x {
			if e := math.Abs((y[i] - f) - (x[i] - m)); e > 1e-12 {
				t.Fatalf("site %d: y - mean y = %g, want x - mean x = %g", i, y[i]-f, x[i]-m)
			}
		}
	}
	id := NewZeroModeSpline[float64](v, bins, bound)
	if ld := id.Forward(id.NewTape(), y, x, nil); math.Abs(ld) > 1e-14 || e64(y, x) > 1e-14 {
		t.Errorf("zero parameters: log|det| %g, max relative change %g, want the identity", ld, e64(y, x))
	}
}
