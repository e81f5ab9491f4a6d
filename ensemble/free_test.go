package ensemble_test

import (
	"errors"
	"fmt"
	"testing"

	"latflow/ensemble"
	"latflow/lattice"
)

// TestValidateFreeField: at lambda = 0 a phi^4 target is valid only where
// its quadratic action is positive definite; Validate must agree with
// lattice.ExactFreeField, which diagonalizes M in momentum space (an
// independent computation of the same condition), on a grid of couplings
// around the boundaries m2 = 0 and kappa = 1/4, including the default
// m2 = -4 of latflow's flags. A small positive lambda bounds the action
// whatever m2.
func TestValidateFreeField(t *testing.T) {
	for _, L := range []int{4, 6, 8} {
		g := lattice.NewGeometry(L)
		for _, m2 := range []float64{-4, -1, -1e-9, 0, 1e-9, 0.5, 1} {
			tg := ensemble.NewPhi4Standard(L, m2, 0)
			_, exactErr := lattice.ExactFreeField(tg.Action(g).(lattice.Phi4Action))
			checkFree(t, fmt.Sprintf("L=%d/m2=%g", L, m2), tg, exactErr == nil)
		}
		for _, kappa := range []float64{0, 0.1, 0.25 - 1e-9, 0.25, 0.25 + 1e-9, 0.3, 1} {
			tg := ensemble.NewPhi4Hopping(L, kappa, 0)
			_, exactErr := lattice.ExactFreeField(tg.Action(g).(lattice.Phi4Action))
			checkFree(t, fmt.Sprintf("L=%d/kappa=%g", L, kappa), tg, exactErr == nil)
		}
	}
	for _, tg := range []ensemble.Target{ensemble.NewPhi4Standard(8, -4, 1e-6), ensemble.NewPhi4Hopping(8, 1, 1e-6)} {
		if err := tg.Validate(); err != nil {
			t.Errorf("%v: got %v, want valid (lambda > 0 bounds the action)", tg, err)
		}
	}
}

func checkFree(t *testing.T, name string, tg ensemble.Target, wantValid bool) {
	t.Helper()
	err := tg.Validate()
	switch {
	case wantValid && err != nil:
		t.Errorf("%s: got %v, want valid (M is positive definite)", name, err)
	case !wantValid && !errors.Is(err, ensemble.ErrUnboundedAction):
		t.Errorf("%s: got %v, want ErrUnboundedAction (M is not positive definite)", name, err)
	}
}
