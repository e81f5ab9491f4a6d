package sampler_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"latflow/fermion"
	"latflow/gauge"
	"latflow/lattice"
	"latflow/sampler"
)

// TestPseudofermionHMCMatchesExact compares pseudofermion HMC (plain and
// even-odd) and independence Metropolis with the plaquette proposal at the
// gauge beta and the exact determinant in the weight (the exactness check
// of IMH in issue 21) with HMC on the exact effective action S_g - log
// det(D^dagger D) (fermion.ExactAction): independent routes to the same
// two-flavour weight. <cos P> and the chiral condensate (measured exactly
// on every configuration) must agree within kSigma combined standard
// errors, and the fermions must visibly
// shift <cos P> away from the pure gauge value (gauge.ExactTorus), so that
// a sampler that ignored the determinant would fail.
func TestPseudofermionHMCMatchesExact(t *testing.T) {
	if testing.Short() {
		t.Skip("statistical check of about 25 s")
	}
	const L, beta, kappa = 4, 1.0, 0.25
	const therm, n = 300, 8000
	g := lattice.NewGeometry(L)
	det, err := fermion.NewDeterminant(g, kappa, fermion.EvenOdd)
	if err != nil {
		t.Fatal(err)
	}
	measure := func(x []float64, cosP, cond []float64, i int) {
		cosP[i] = gauge.MeanCosPlaquette(g, x)
		if err := det.Factorize(x); err != nil {
			t.Fatal(err)
		}
		cond[i] = det.Condensate()
	}
	run := func(name string, step func(x []float64) (sampler.Step, error)) (cosP, cond []float64) {
		x := make([]float64, 2*g.V)
		cosP, cond = make([]float64, n), make([]float64, n)
		var acc int
		for i := -therm; i < n; i++ {
			s, err := step(x)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if i >= 0 {
				measure(x, cosP, cond, i)
				if s.Accepted {
					acc++
				}
			}
		}
		t.Logf("%s: acceptance %.3f", name, float64(acc)/n)
		return cosP, cond
	}
	pf := fermion.NewPseudofermionAction(g, beta, kappa, 1e-10, 100*g.V)
	upf, err := sampler.NewRefreshHMCUpdate(sampler.HMC{Tau: 1, Steps: 6}, pf, 2*g.V, rand.NewPCG(11, 1), sampler.HMCOptions{Jitter: sampler.DefaultJitter})
	if err != nil {
		t.Fatal(err)
	}
	pfEO := fermion.NewEvenOddPseudofermionAction(g, beta, kappa, 1e-10, 100*g.V)
	ueo, err := sampler.NewRefreshHMCUpdate(sampler.HMC{Tau: 1, Steps: 6}, pfEO, 2*g.V, rand.NewPCG(13, 1), sampler.HMCOptions{Jitter: sampler.DefaultJitter})
	if err != nil {
		t.Fatal(err)
	}
	exact, err := fermion.NewExactAction(g, beta, kappa, fermion.EvenOdd)
	if err != nil {
		t.Fatal(err)
	}
	uex, err := sampler.NewHMCUpdate(sampler.HMC{Tau: 1, Steps: 6}, exact, 2*g.V, rand.NewPCG(12, 1), sampler.HMCOptions{Jitter: sampler.DefaultJitter})
	if err != nil {
		t.Fatal(err)
	}
	prop, err := gauge.NewPlaquetteProposal(L, beta, gauge.ConstraintSpread)
	if err != nil {
		t.Fatal(err)
	}
	imh, err := sampler.NewIMH(sampler.PlaquetteProposal{P: prop}, exact, 64, 2, rand.NewPCG(14, 1), rand.NewPCG(15, 1))
	if err != nil {
		t.Fatal(err)
	}
	cp1, cd1 := run("pseudofermion", upf.Step)
	cp4, cd4 := run("IMH, plaquette proposal", imh.Step)
	cp3, cd3 := run("even-odd pseudofermion", ueo.Step)
	cp2, cd2 := run("exact", uex.Step)
	pure, err := gauge.ExactTorus(beta, L)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []struct {
		name   string
		pf, ex []float64
	}{{"<cos P>", cp1, cp2}, {"condensate", cd1, cd2}, {"<cos P> (even-odd)", cp3, cp2}, {"condensate (even-odd)", cd3, cd2},
		{"<cos P> (IMH)", cp4, cp2}, {"condensate (IMH)", cd4, cd2}} {
		m1, e1 := binnedMean(o.pf, nBins)
		m2, e2 := binnedMean(o.ex, nBins)
		e := math.Hypot(e1, e2)
		t.Logf("%s: %.5f +- %.5f, exact-determinant HMC %.5f +- %.5f", o.name, m1, e1, m2, e2)
		if math.Abs(m1-m2) > kSigma*e {
			t.Errorf("%s: got %.5f +- %.5f, want %.5f +- %.5f (exact-determinant HMC) within %d sigma", o.name, m1, e1, m2, e2, kSigma)
		}
		if o.name == "<cos P>" && math.Abs(m2-pure.MeanCos) < 5*e2 {
			t.Errorf("<cos P> = %.5f +- %.5f with fermions, pure gauge %.5f: the fermions' effect is not resolved, the test cannot fail", m2, e2, pure.MeanCos)
		}
	}
}
