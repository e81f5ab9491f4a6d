package sampler_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"latflow/fermion"
	"latflow/gauge"
	"latflow/lattice"
	"latflow/sampler"
)

// BenchmarkSchwingerPionMass is a rough scan of the Schwinger model at
// L = 16 for the critical hopping parameter (the smallest pion mass): per
// (beta, kappa), even-odd pseudofermion HMC (tau = 1, tuned steps, jitter
// 0.2) from a cold start, 100 thermalization and 200 measured
// trajectories, the pion correlator of the dense inverse on every second
// one. It reports the acceptance, the CG iterations per solve, <cos P>, the
// condensate and the effective mass at t = 6 of the mean symmetrized
// correlator (and m_pi L), without errors: a map of where to look, not a
// measurement. Run one point with -benchtime 1x, e.g.
//
//	go test ./sampler -run XXX -bench 'SchwingerPionMass/beta=4/kappa=0.26' -benchtime 1x
func BenchmarkSchwingerPionMass(b *testing.B) {
	const L = 16
	for _, beta := range []float64{2, 4, 6, 8} {
		for _, kappa := range []float64{0.24, 0.25, 0.26, 0.27, 0.28} {
			b.Run(fmt.Sprintf("beta=%g/kappa=%g", beta, kappa), func(b *testing.B) {
				for b.Loop() {
					pionScanPoint(b, L, beta, kappa)
				}
			})
		}
	}
}

func pionScanPoint(b *testing.B, L int, beta, kappa float64) {
	const therm, n = 100, 200
	g := lattice.NewGeometry(L)
	act := fermion.NewEvenOddPseudofermionAction(g, beta, kappa, 1e-10, 5000)
	u, err := sampler.NewRefreshHMCUpdate(sampler.HMC{Tau: 1, Steps: 10}, act, 2*g.V, rand.NewPCG(1, 1),
		sampler.HMCOptions{Jitter: sampler.DefaultJitter, Tune: true})
	if err != nil {
		b.Fatal(err)
	}
	det, err := fermion.NewDeterminant(g, kappa, fermion.EvenOdd)
	if err != nil {
		b.Fatal(err)
	}
	x := make([]float64, 2*g.V)
	for range therm {
		if _, err := u.Step(x); err != nil {
			b.Fatal(err)
		}
	}
	u.EndThermalization()
	c, mean := make([]float64, L), make([]float64, L)
	var acc, meas int
	var cond, cosP float64
	for i := range n {
		s, err := u.Step(x)
		if err != nil {
			b.Fatal(err)
		}
		if s.Accepted {
			acc++
		}
		if i%2 != 0 {
			continue
		}
		if err := det.Factorize(x); err != nil {
			b.Fatal(err)
		}
		det.PionCorrelatorTo(c)
		for t := range c {
			mean[t] += c[t]
		}
		cond += det.Condensate()
		cosP += gauge.MeanCosPlaquette(g, x)
		meas++
	}
	sym := make([]float64, L)
	for t := range sym {
		sym[t] = (mean[t] + mean[(L-t)%L]) / 2
	}
	m := make([]float64, L/2)
	fermion.EffectiveMassTo(m, sym)
	solves, iters := act.CGCounts()
	b.ReportMetric(float64(acc)/n, "acceptance")
	b.ReportMetric(float64(iters)/float64(solves), "cg-iters/solve")
	b.ReportMetric(cosP/float64(meas), "cosP")
	b.ReportMetric(cond/float64(meas), "condensate")
	b.ReportMetric(m[6], "m_pi")
	b.ReportMetric(m[6]*float64(L), "m_pi*L")
}
