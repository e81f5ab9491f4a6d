package sampler_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"latflow/fermion"
	"latflow/gauge"
	"latflow/lattice"
	"latflow/sampler"
)

var _ sampler.Refresher = (*fermion.PseudofermionAction)(nil)

// pfCGTol is the CG tolerance of the pseudofermion HMC tests: tight enough
// that the molecular dynamics is reversible to rounding.
const pfCGTol = 1e-14

// pfStart returns a pseudofermion action at (beta, kappa) on the L x L
// lattice, plain or even-odd, with a refreshed phi, and random links.
func pfStart(L int, beta, kappa float64, seed uint64, evenOdd bool) (*fermion.PseudofermionAction, []float64, *rand.Rand) {
	g := lattice.NewGeometry(L)
	act := fermion.NewPseudofermionAction(g, beta, kappa, pfCGTol, 100*g.V)
	if evenOdd {
		act = fermion.NewEvenOddPseudofermionAction(g, beta, kappa, pfCGTol, 100*g.V)
	}
	rng := rand.New(rand.NewPCG(seed, 5))
	links := make([]float64, 2*g.V)
	gauge.RandomLinksTo(links, rng)
	act.Refresh(links, rng)
	return act, links, rng
}

// TestPseudofermionHMCReversible integrates a trajectory forward, flips
// the momenta, integrates back and compares with the start.
func TestPseudofermionHMCReversible(t *testing.T) {
	for _, c := range []struct {
		kappa   float64
		evenOdd bool
	}{{0.2, false}, {0.26, false}, {0.2, true}, {0.26, true}} {
		kappa := c.kappa
		t.Run(fmt.Sprintf("L=4/kappa=%g/evenodd=%v", kappa, c.evenOdd), func(t *testing.T) {
			act, x0, rng := pfStart(4, 2, kappa, 1, c.evenOdd)
			p0 := gaussian(rng, len(x0), 1)
			x, p := append([]float64(nil), x0...), append([]float64(nil), p0...)
			force := make([]float64, len(x))
			h := sampler.HMC{Tau: 1, Steps: 10}
			h.Leapfrog(act, x, p, force)
			var moved float64
			for i := range x {
				moved = max(moved, math.Abs(x[i]-x0[i]))
				p[i] = -p[i]
			}
			h.Leapfrog(act, x, p, force)
			var dx, dp float64
			for i := range x {
				dx = max(dx, math.Abs(x[i]-x0[i]))
				dp = max(dp, math.Abs(-p[i]-p0[i]))
			}
			if dx > pfReversibleTol || dp > pfReversibleTol {
				t.Errorf("forward and back: got max |dx| = %.3g, |dp| = %.3g, want <= %g", dx, dp, pfReversibleTol)
			}
			if moved < 0.1 {
				t.Errorf("the trajectory moved the links by at most %g: the test cannot fail", moved)
			}
			if err := act.Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// pfReversibleTol bounds the deviation after a pseudofermion trajectory
// forward and back: the CG residual pfCGTol, amplified by the condition
// of D^dagger D (up to 1e3 here) and by the 20 steps.
const pfReversibleTol = 1e-9

// TestPseudofermionHMCDeltaHScaling checks that the energy violation of a
// trajectory falls like eps^2: |dH| at eps and eps/2 in ratio 4.
func TestPseudofermionHMCDeltaHScaling(t *testing.T) {
	for _, evenOdd := range []bool{false, true} {
		t.Run(fmt.Sprintf("L=4/kappa=0.24/evenodd=%v", evenOdd), func(t *testing.T) {
			act, x0, rng := pfStart(4, 2, 0.24, 2, evenOdd)
			p0 := gaussian(rng, len(x0), 1)
			force := make([]float64, len(x0))
			h0 := act.Action(x0) + kineticEnergy(p0)
			var prev float64
			for _, steps := range []int{20, 40, 80} {
				x, p := append([]float64(nil), x0...), append([]float64(nil), p0...)
				sampler.HMC{Tau: 1, Steps: steps}.Leapfrog(act, x, p, force)
				cur := math.Abs(act.Action(x) + kineticEnergy(p) - h0)
				if prev != 0 {
					if r := prev / cur; math.Abs(r-4) > scalingTol {
						t.Errorf("steps %d -> %d: got |dH| ratio %.4f (%.3g / %.3g), want 4 +- %g", steps/2, steps, r, prev, cur, scalingTol)
					}
				}
				prev = cur
			}
			if err := act.Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func kineticEnergy(p []float64) float64 {
	var k float64
	for _, v := range p {
		k += v * v / 2
	}
	return k
}

// TestPseudofermionHMCExpDH checks <exp(-dH)> = 1 on a chain of
// pseudofermion HMC, with short trajectories of few steps so that dH is of
// order 1 (acceptance about 0.7) and the identity is not trivially met.
func TestPseudofermionHMCExpDH(t *testing.T) {
	const L, beta, kappa = 4, 2.0, 0.24
	g := lattice.NewGeometry(L)
	act := fermion.NewPseudofermionAction(g, beta, kappa, 1e-12, 100*g.V)
	u, err := sampler.NewRefreshHMCUpdate(sampler.HMC{Tau: 1, Steps: 3}, act, 2*g.V, rand.NewPCG(7, 7), sampler.HMCOptions{Jitter: sampler.DefaultJitter})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, 2*g.V)
	const therm, n = 200, 4000
	w := make([]float64, n)
	var acc int
	for i := -therm; i < n; i++ {
		s, err := u.Step(x)
		if err != nil {
			t.Fatal(err)
		}
		if i >= 0 {
			w[i] = math.Exp(-s.DeltaH)
			if s.Accepted {
				acc++
			}
		}
	}
	m, e := binnedMean(w, nBins)
	if math.Abs(m-1) > kSigma*e {
		t.Errorf("<exp(-dH)>: got %.4f +- %.4f, want 1 within %d sigma (acceptance %.3f)", m, e, kSigma, float64(acc)/n)
	}
	if a := float64(acc) / n; a > 0.95 {
		t.Errorf("acceptance %.3f: dH too small for the test to see a wrong integrator", a)
	}
}

// TestRefreshHMCUpdateResume checks that State and Restore continue a
// pseudofermion chain bit for bit: the pseudofermions are drawn from the
// saved stream, so they need no state of their own.
func TestRefreshHMCUpdateResume(t *testing.T) {
	const L = 4
	g := lattice.NewGeometry(L)
	newUpdate := func() *sampler.RefreshHMCUpdate {
		act := fermion.NewPseudofermionAction(g, 2, 0.24, 1e-12, 100*g.V)
		u, err := sampler.NewRefreshHMCUpdate(sampler.HMC{Tau: 1, Steps: 4}, act, 2*g.V, rand.NewPCG(3, 3), sampler.HMCOptions{Jitter: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	steps := func(u *sampler.RefreshHMCUpdate, x []float64, k int) {
		for range k {
			if _, err := u.Step(x); err != nil {
				t.Fatal(err)
			}
		}
	}
	u := newUpdate()
	x := make([]float64, 2*g.V)
	steps(u, x, 10)
	state, err := u.State()
	if err != nil {
		t.Fatal(err)
	}
	saved := append([]float64(nil), x...)
	steps(u, x, 10)

	v := newUpdate()
	if err := v.Restore(state, saved); err != nil {
		t.Fatal(err)
	}
	y := append([]float64(nil), saved...)
	steps(v, y, 10)
	for i := range x {
		if x[i] != y[i] {
			t.Fatalf("link %d after resuming: got %v, want %v (bit for bit)", i, y[i], x[i])
		}
	}
	var moved bool
	for i := range x {
		moved = moved || x[i] != saved[i]
	}
	if !moved {
		t.Errorf("10 trajectories left the links unchanged: the test cannot fail")
	}
}
