package sampler

import (
	"math/rand/v2"
	"testing"

	"latflow/lattice"
)

// TestTuneFindsAcceptance starts phi^4 at the tutorial point (m2=-4,
// lambda=8) with a step far too large to accept anything, and checks that
// Tune raises the step count until the acceptance lies in the target band.
func TestTuneFindsAcceptance(t *testing.T) {
	g := lattice.NewGeometry(8)
	act := lattice.NewPhi4Standard(g, -4, 8)
	rng := rand.New(rand.NewPCG(3, 0))
	x := make([]float64, g.V)
	for i := range x {
		x[i] = 2 * rng.NormFloat64()
	}
	c := NewChain(HMC{Tau: 1, Steps: 2}, act, x, rng)
	const lo, hi = 0.7, 0.95
	c.Tune(2000, 50, lo, hi, nil)
	if c.HMC.Steps <= 2 {
		t.Fatalf("steps after tuning: got %d, want more than 2", c.HMC.Steps)
	}
	if c.Trajectories() != 0 {
		t.Errorf("trajectories after Tune: got %d, want 0 (counters reset)", c.Trajectories())
	}
	for i := 0; i < 1000; i++ {
		c.Step()
	}
	// A band slightly wider than the target: the last block may sit at its edge.
	if a := c.Acceptance(); a < lo-0.15 || a > 1 {
		t.Errorf("acceptance after tuning to [%g, %g] with %d steps: got %.3f", lo, hi, c.HMC.Steps, a)
	}
}

func TestTuneLowersSteps(t *testing.T) {
	g := lattice.NewGeometry(4)
	act := lattice.NewPhi4Standard(g, 1, 0)
	rng := rand.New(rand.NewPCG(4, 0))
	c := NewChain(HMC{Tau: 0.5, Steps: 400}, act, make([]float64, g.V), rng)
	c.Tune(400, 20, 0.7, 0.95, nil)
	if c.HMC.Steps >= 400 {
		t.Errorf("steps: got %d, want fewer than 400 for an almost free field at tiny step size", c.HMC.Steps)
	}
}
