package sampler_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"latflow/gauge"
	"latflow/lattice"
	"latflow/sampler"
)

var (
	_ lattice.Action  = gauge.WilsonAction{}
	_ lattice.Wrapper = gauge.WilsonAction{}
)

// TestHMCU1Exact checks HMC for the U(1) Wilson action against the exact
// torus results of gauge.ExactTorus (physics.md section 1: <cos P> =
// 0.6977747, <Q^2> = 1.239299 at L=8, beta=2). Topology does not freeze at
// this coupling: the integrated autocorrelation time of Q^2 is about 2
// trajectories, so 40 bins of 1500 trajectories are independent.
func TestHMCU1Exact(t *testing.T) {
	t.Run("L=8/beta=2", func(t *testing.T) {
		const L, beta = 8, 2.0
		exact, err := gauge.ExactTorus(beta, L)
		if err != nil {
			t.Fatal(err)
		}
		g := lattice.NewGeometry(L)
		rng := rand.New(rand.NewPCG(21, 1))
		x0 := make([]float64, 2*g.V)
		gauge.RandomLinksTo(x0, rng)
		// Steps=5 gives an acceptance of about 0.85.
		c := sampler.NewChain(sampler.HMC{Tau: 1, Steps: 5}, gauge.WilsonAction{Geom: g, Beta: beta}, x0, rng)
		const therm, n = 500, 60000
		cosP := make([]float64, n)
		q2 := make([]float64, n)
		for i := -therm; i < n; i++ {
			c.Step()
			if i < 0 {
				continue
			}
			cosP[i] = gauge.MeanCosPlaquette(g, c.X)
			q := gauge.TopologicalCharge(g, c.X)
			q2[i] = q * q
		}
		for _, x := range c.X {
			if !(x >= 0 && x < 2*math.Pi) {
				t.Fatalf("got link angle %v after HMC, want it wrapped into [0, 2pi)", x)
			}
		}
		for _, o := range []struct {
			name string
			xs   []float64
			want float64
		}{{"<cos P>", cosP, exact.MeanCos}, {"<Q^2>", q2, exact.Q2}} {
			m, e := binnedMean(o.xs, nBins)
			if math.Abs(m-o.want) > kSigma*e {
				t.Errorf("%s: got %.5f +- %.5f, want %.5f (exact) within %d sigma", o.name, m, e, o.want, kSigma)
			}
			// Binned over naive variance of the mean is 2 tau_int.
			_, naive := binnedMean(o.xs, len(o.xs))
			t.Logf("%s: got %.5f +- %.5f, exact %.5f, tau_int ~ %.1f, acceptance %.3f",
				o.name, m, e, o.want, e*e/(naive*naive)/2, c.Acceptance())
		}
	})
}
