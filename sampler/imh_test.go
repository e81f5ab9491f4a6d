package sampler

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// discrete is a target and a proposal on the states x = 0, 1, ..., len(p)-1
// of a one-number configuration: S(x) = -log p[x], q uniform.
type discrete struct{ p []float64 }

func (d discrete) Action(x []float64) float64 { return -math.Log(d.p[int(x[0])]) }
func (d discrete) ForceTo(dst, x []float64)   { clear(dst) }
func (d discrete) Size() int                  { return 1 }
func (d discrete) Propose(rng *rand.Rand, x, logq []float64) {
	for i := range logq {
		x[i] = float64(rng.IntN(len(d.p)))
		logq[i] = -math.Log(float64(len(d.p)))
	}
}
func (d discrete) LogDensity(logq, x []float64) error {
	for i := range logq {
		logq[i] = -math.Log(float64(len(d.p)))
	}
	return nil
}

func newDiscreteIMH(t *testing.T, d discrete, batch, workers int, seed uint64) *IMH {
	t.Helper()
	m, err := NewIMH(d, d, batch, workers, NewStream(seed, 0, StreamProposal), NewStream(seed, 0, StreamAccept))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestIMHExactProposal: with q = p all weights are equal and every
// proposal is accepted.
func TestIMHExactProposal(t *testing.T) {
	d := discrete{p: []float64{0.25, 0.25, 0.25, 0.25}}
	m := newDiscreteIMH(t, d, 7, 2, 1)
	x := []float64{0}
	for i := 0; i < 100; i++ {
		st, err := m.Step(x)
		if err != nil || !st.Accepted {
			t.Fatalf("step %d: got accepted=%v (%v), want every proposal accepted", i, st.Accepted, err)
		}
		if want := math.Log(0.25); math.Abs(st.LogP-want) > 1e-15 || st.Kind != KindFlow || !math.IsNaN(st.DeltaH) {
			t.Fatalf("step %d: got %+v, want log p %v, kind flow, no delta_h", i, st, want)
		}
	}
}

// TestIMHStationary checks the stationary distribution on a two-state
// space: proposals q = (1/2, 1/2), target p = (1/5, 4/5); the fraction of
// time in state 1 must approach 4/5, and the acceptance its exact value.
func TestIMHStationary(t *testing.T) {
	d := discrete{p: []float64{0.2, 0.8}}
	m := newDiscreteIMH(t, d, 64, 1, 2)
	x := []float64{0}
	const n = 200000
	in1, acc := 0, 0
	for i := 0; i < n; i++ {
		st, err := m.Step(x)
		if err != nil {
			t.Fatal(err)
		}
		if st.Accepted && i > 0 {
			acc++
		}
		in1 += int(x[0])
	}
	frac := float64(in1) / n
	// Exact acceptance: sum_x p(x) sum_y q(y) min(1, w(y)/w(x)).
	wantAcc := 0.2*(0.5+0.5) + 0.8*(0.5*0.25+0.5)
	if got := float64(acc) / (n - 1); math.Abs(got-wantAcc) > 0.01 {
		t.Errorf("acceptance: got %.4f, want %.4f", got, wantAcc)
	}
	sigma := math.Sqrt(0.8 * 0.2 / n * 10) // generous: tau_int < 5
	if math.Abs(frac-0.8) > 4*sigma {
		t.Errorf("time in state 1: got %.4f, want 0.8 +- %.4f", frac, 4*sigma)
	}
}

// steps runs n steps of m from x and returns the accept decisions and the
// log weights.
func steps(t *testing.T, m *IMH, x []float64, n int) ([]bool, []float64) {
	t.Helper()
	var acc []bool
	var lw []float64
	for i := 0; i < n; i++ {
		st, err := m.Step(x)
		if err != nil {
			t.Fatal(err)
		}
		acc, lw = append(acc, st.Accepted), append(lw, st.LogW)
	}
	return acc, lw
}

// TestIMHThreadsAndRestore: the chain does not depend on the number of
// workers, and State/Restore in the middle of a batch continues it bit
// for bit.
func TestIMHThreadsAndRestore(t *testing.T) {
	d := discrete{p: []float64{0.1, 0.2, 0.3, 0.4}}
	x1 := []float64{0}
	a1, w1 := steps(t, newDiscreteIMH(t, d, 16, 1, 3), x1, 100)
	x4 := []float64{0}
	a4, w4 := steps(t, newDiscreteIMH(t, d, 16, 4, 3), x4, 100)
	if !slices.Equal(a1, a4) || !slices.Equal(w1, w4) {
		t.Fatalf("1 and 4 workers: got different chains")
	}
	for _, at := range []int{0, 1, 37, 48} {
		m := newDiscreteIMH(t, d, 16, 2, 3)
		x := []float64{0}
		steps(t, m, x, at)
		state, err := m.State()
		if err != nil {
			t.Fatal(err)
		}
		r := newDiscreteIMH(t, d, 16, 2, 99) // other streams, replaced by Restore
		xr := slices.Clone(x)
		if err := r.Restore(state, xr); err != nil {
			t.Fatal(err)
		}
		a, w := steps(t, r, xr, 100-at)
		if !slices.Equal(a, a1[at:]) || !slices.Equal(w, w1[at:]) {
			t.Errorf("restored after %d steps: got a different continuation", at)
		}
	}
	if _, err := NewIMH(d, d, 0, 1, NewStream(1, 0, 0), NewStream(1, 0, 1)); err == nil {
		t.Errorf("batch 0: got no error, want one")
	}
}

// nanProposal proposes configurations with a NaN log density.
type nanProposal struct{ discrete }

func (p nanProposal) Propose(rng *rand.Rand, x, logq []float64) {
	p.discrete.Propose(rng, x, logq)
	for i := range logq {
		if i%2 == 1 {
			logq[i] = math.NaN()
		}
	}
}

// TestIMHNaNRejected: a proposal whose weight is NaN is never accepted.
func TestIMHNaNRejected(t *testing.T) {
	d := discrete{p: []float64{0.5, 0.5}}
	m, err := NewIMH(nanProposal{d}, d, 8, 1, NewStream(1, 0, 0), NewStream(1, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	acc, lw := steps(t, m, []float64{0}, 64)
	for i := range acc {
		if math.IsNaN(lw[i]) && acc[i] {
			t.Fatalf("step %d: NaN weight accepted", i)
		}
		if !math.IsNaN(lw[i]) && !acc[i] {
			t.Fatalf("step %d: equal weights rejected", i)
		}
	}
}
