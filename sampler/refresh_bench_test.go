package sampler_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"latflow/fermion"
	"latflow/lattice"
	"latflow/sampler"
)

// BenchmarkPseudofermionHMC times pseudofermion HMC trajectories (tau = 1,
// 10 leapfrog steps) at L = 16, beta = 2, plain and even-odd, after 20
// thermalization trajectories from a cold start, and reports the
// acceptance and the CG iterations per solve.
func BenchmarkPseudofermionHMC(b *testing.B) {
	for _, kappa := range []float64{0.24, 0.26} {
		for _, eo := range []bool{false, true} {
			b.Run(fmt.Sprintf("L=16/beta=2/kappa=%g/evenodd=%v", kappa, eo), func(b *testing.B) {
				g := lattice.NewGeometry(16)
				act := fermion.NewPseudofermionAction(g, 2, kappa, 1e-10, 100*g.V)
				if eo {
					act = fermion.NewEvenOddPseudofermionAction(g, 2, kappa, 1e-10, 100*g.V)
				}
				u, err := sampler.NewRefreshHMCUpdate(sampler.HMC{Tau: 1, Steps: 10}, act, 2*g.V, rand.NewPCG(1, 1),
					sampler.HMCOptions{Jitter: sampler.DefaultJitter})
				if err != nil {
					b.Fatal(err)
				}
				x := make([]float64, 2*g.V)
				for range 20 {
					if _, err := u.Step(x); err != nil {
						b.Fatal(err)
					}
				}
				s0, it0 := act.CGCounts()
				var acc, n int
				for b.Loop() {
					s, err := u.Step(x)
					if err != nil {
						b.Fatal(err)
					}
					n++
					if s.Accepted {
						acc++
					}
				}
				s1, it1 := act.CGCounts()
				b.ReportMetric(float64(acc)/float64(n), "acceptance")
				b.ReportMetric(float64(it1-it0)/float64(s1-s0), "cg-iters/solve")
			})
		}
	}
}
