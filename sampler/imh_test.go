package sampler

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestIMHExactProposal: with q = p all weights are equal and every
// proposal is accepted.
func TestIMHExactProposal(t *testing.T) {
	var m IMH
	rng := rand.New(rand.NewPCG(1, 0))
	for i := 0; i < 100; i++ {
		if !m.Step(-2.5, rng) {
			t.Fatalf("step %d rejected with equal weights", i)
		}
	}
	if got := m.Acceptance(); got != 1 {
		t.Errorf("acceptance: got %g, want 1", got)
	}
}

// TestIMHStationary checks detailed balance on a two-state space: proposals
// q = (1/2, 1/2), target p = (1/5, 4/5); the fraction of time in state 1
// must approach 4/5 within 4 sigma of a binomial-with-autocorrelation bound.
func TestIMHStationary(t *testing.T) {
	var m IMH
	rng := rand.New(rand.NewPCG(2, 0))
	logw := [2]float64{math.Log(0.2 / 0.5), math.Log(0.8 / 0.5)}
	state, in1 := 0, 0
	const n = 200000
	for i := 0; i < n; i++ {
		prop := rng.IntN(2)
		if m.Step(logw[prop], rng) {
			state = prop
		}
		in1 += state
	}
	frac := float64(in1) / n
	// Exact acceptance of this chain: P(accept) = sum_x p(x) sum_y q(y) min(1, w(y)/w(x)).
	wantAcc := 0.2*(0.5+0.5) + 0.8*(0.5*0.25+0.5)
	if got := m.Acceptance(); math.Abs(got-wantAcc) > 0.01 {
		t.Errorf("acceptance: got %.4f, want %.4f", got, wantAcc)
	}
	sigma := math.Sqrt(0.8 * 0.2 / n * 10) // generous: tau_int < 5
	if math.Abs(frac-0.8) > 4*sigma {
		t.Errorf("time in state 1: got %.4f, want 0.8 +- %.4f", frac, 4*sigma)
	}
}

func TestIMHNaN(t *testing.T) {
	var m IMH
	rng := rand.New(rand.NewPCG(3, 0))
	if m.Step(math.NaN(), rng) {
		t.Error("NaN first proposal accepted")
	}
	m.Step(0, rng)
	if m.Step(math.NaN(), rng) {
		t.Error("NaN proposal accepted")
	}
}
