package sampler

import (
	"fmt"
	"math/rand/v2"

	"latflow/lattice"
)

// Refresher is an action with auxiliary fields that are held fixed along a
// trajectory and drawn afresh from their heat bath before each one, such
// as the pseudofermions of fermion.PseudofermionAction. Refresh draws them
// at the configuration x from rng; Err reports a failure of the action's
// inner solver (CG) since the last Refresh, or nil.
type Refresher interface {
	lattice.Action
	Refresh(x []float64, rng *rand.Rand)
	Err() error
}

// RefreshHMCUpdate is hybrid Monte Carlo for a Refresher: before each
// trajectory it draws the auxiliary fields at the current configuration,
// then runs an HMC trajectory (HMCUpdate) at fixed auxiliary fields. The
// pair of steps leaves exp(-S) integrated over the auxiliary fields
// invariant: for pseudofermions, exp(-S_g) det(D^dagger D). The auxiliary
// fields come from the chain's stream before the trajectory's own draws, so
// State and Restore of HMCUpdate continue the chain bit for bit.
//
// Step.Action includes the auxiliary part of the action, so it is not the
// action of the configuration alone: it must not be handed to
// IMH.SetCurrent. The hybrid of IMH with HMC (Mixed) on a theory with
// fermions takes HMC on the exact effective action (fermion.ExactAction)
// instead. The inner HMCUpdate is kept private so that it cannot be run
// without the refresh.
type RefreshHMCUpdate struct {
	hmc *HMCUpdate
	act Refresher
}

var (
	_ Update      = (*RefreshHMCUpdate)(nil)
	_ Thermalizer = (*RefreshHMCUpdate)(nil)
)

// NewRefreshHMCUpdate returns the update of act (configurations of length
// size) with trajectory h, drawing from src; see NewHMCUpdate.
func NewRefreshHMCUpdate(h HMC, act Refresher, size int, src *rand.PCG, opt HMCOptions) (*RefreshHMCUpdate, error) {
	if act == nil {
		panic("sampler: NewRefreshHMCUpdate: nil action")
	}
	u, err := NewHMCUpdate(h, act, size, src, opt)
	if err != nil {
		return nil, err
	}
	if c, ok := act.(cgCounter); ok && u.auto != nil {
		// A force's CG takes more iterations the closer D is to
		// singular: count the work in CG iterations.
		u.auto.countCG(c)
	}
	return &RefreshHMCUpdate{hmc: u, act: act}, nil
}

// Steps returns the current number of leapfrog steps per trajectory.
func (u *RefreshHMCUpdate) Steps() int { return u.hmc.Steps() }

// Tau returns the trajectory length (HMCUpdate.Tau).
func (u *RefreshHMCUpdate) Tau() float64 { return u.hmc.Tau() }

// AutoTau returns the result of the automatic choice of the trajectory
// length (HMCUpdate.AutoTau); its work is counted in CG iterations
// (WorkCG) when the action counts them.
func (u *RefreshHMCUpdate) AutoTau() (AutoTauResult, bool) { return u.hmc.AutoTau() }

// Columns returns ["delta_h"].
func (u *RefreshHMCUpdate) Columns() []string { return u.hmc.Columns() }

// EndThermalization stops the tuning of the leapfrog steps and fixes the
// trajectory length (HMCUpdate.EndThermalization).
func (u *RefreshHMCUpdate) EndThermalization() { u.hmc.EndThermalization() }

// State returns the random stream and the leapfrog steps (HMCUpdate.State);
// the auxiliary fields need none, being drawn afresh from the stream.
func (u *RefreshHMCUpdate) State() ([]byte, error) { return u.hmc.State() }

// Restore sets the state returned by State.
func (u *RefreshHMCUpdate) Restore(state []byte, x []float64) error { return u.hmc.Restore(state, x) }

// Step refreshes the auxiliary fields at x and runs one trajectory from x,
// leaving its end point (or x, if rejected) in x. A solver failure makes
// the action NaN, so the trajectory is rejected and x is unchanged; Step
// then returns the solver's error, wrapped.
func (u *RefreshHMCUpdate) Step(x []float64) (Step, error) {
	u.act.Refresh(x, u.hmc.chain.Rng)
	s, err := u.hmc.Step(x)
	if err != nil {
		return s, err
	}
	if err := u.act.Err(); err != nil {
		return s, fmt.Errorf("sampler: HMC trajectory %d: %w", u.hmc.chain.Trajectories(), err)
	}
	return s, nil
}
