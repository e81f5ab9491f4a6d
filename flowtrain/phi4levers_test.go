package flowtrain

import (
	"testing"

	"latflow/flow"
)

// TestMismatchPhi4Levers: a checkpoint of a run with another gauss-k
// propagator or another --z2 is not resumed.
func TestMismatchPhi4Levers(t *testing.T) {
	cfg := flow.DefaultConfig(flow.TheoryPhi4, 4)
	cfg.Base = flow.BaseGaussK
	cfg.BasePropagator = make([]float64, 16)
	for i := range cfg.BasePropagator {
		cfg.BasePropagator[i] = 1
	}
	a := RunParams{Config: cfg}
	b := a
	b.Config.BasePropagator = append([]float64(nil), cfg.BasePropagator...)
	if name, _, _ := a.Mismatch(b); name != "" {
		t.Errorf("same propagator: mismatch %q", name)
	}
	b.Config.BasePropagator[0] = 2
	if name, _, _ := a.Mismatch(b); name != "base-propagator" {
		t.Errorf("other propagator: mismatch %q, want base-propagator", name)
	}
	c := a
	c.Config.Z2 = true
	if name, _, _ := a.Mismatch(c); name != "z2" {
		t.Errorf("z2: mismatch %q, want z2", name)
	}
}
