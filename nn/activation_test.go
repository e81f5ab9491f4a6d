package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestActivationVJPFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 1))
	log := &fdLog{t: t}
	for _, a := range []Activation{Identity, LeakyReLU, Tanh} {
		n := 50
		x := randVec(rng, n)
		for i := range x {
			x[i] *= 3
			// Keep the inputs off the kink of LeakyReLU.
			if math.Abs(x[i]) < 1e-3 {
				x[i] = 0.5
			}
		}
		gy := randVec(rng, n)
		y := make([]float64, n)
		f := func() (float64, string) {
			ActivationForwardTo(y, x, a)
			return dot(gy, y), ""
		}
		f()
		gx := make([]float64, n)
		ActivationVJP(gx, gy, y, a)
		log.check(a.String(), x, f, gx)
		// In place, as Net uses it.
		ActivationVJP(gy, gy, y, a)
		for i := range gx {
			if gy[i] != gx[i] {
				t.Errorf("%v: in-place VJP element %d: got %g, want %g", a, i, gy[i], gx[i])
				break
			}
		}
	}
	log.report()
}

func TestActivationValues(t *testing.T) {
	x := []float64{-2, 0, 3}
	for _, c := range []struct {
		a    Activation
		want []float64
	}{
		{Identity, []float64{-2, 0, 3}},
		{LeakyReLU, []float64{-0.02, 0, 3}},
		{Tanh, []float64{math.Tanh(-2), 0, math.Tanh(3)}},
	} {
		y := make([]float64, len(x))
		ActivationForwardTo(y, x, c.a)
		for i := range y {
			if math.Abs(y[i]-c.want[i]) > 1e-15 {
				t.Errorf("%v(%g): got %g, want %g", c.a, x[i], y[i], c.want[i])
			}
		}
	}
}
