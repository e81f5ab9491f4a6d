package sampler

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"latflow/lattice"
)

// Leapfrog-step tuning during thermalization: blocks of trajectories and
// the acceptance band aimed at.
const (
	TuneBlock = 20
	TuneLow   = 0.7
	TuneHigh  = 0.9
)

// HMCUpdate is hybrid Monte Carlo as an Update: one trajectory per step,
// with its length, momenta and accept decision drawn from one PCG stream.
type HMCUpdate struct {
	chain  *Chain
	src    *rand.PCG
	tau    float64
	jitter float64
	tune   bool
	// tuning state: trajectories and accepted ones in the current block.
	block, blockAcc int
	// auto is the search of the trajectory length (nil for a fixed one);
	// it ends at EndThermalization at the latest.
	auto *autoTauSearch
}

// HMCOptions are the options of an HMCUpdate.
type HMCOptions struct {
	// Tune adjusts the leapfrog steps during thermalization (blocks of
	// TuneBlock trajectories, acceptance aimed at [TuneLow, TuneHigh]) and
	// freezes them at EndThermalization.
	Tune bool
	// Jitter draws each trajectory's length uniformly from
	// [tau (1 - Jitter), tau (1 + Jitter)] at fixed leapfrog steps, which
	// breaks the resonances of fixed-length trajectories (for the free
	// field, tau_int of the action falls from about 150 to a few). The
	// length does not depend on the state, so detailed balance holds.
	// 0 <= Jitter < 1.
	Jitter float64
	// AutoTau, if set, chooses the trajectory length during
	// thermalization (see AutoTau); it needs Tune.
	AutoTau *AutoTau
}

// DefaultJitter is the jitter latflow's HMC runs use unless told otherwise:
// it breaks the resonances of fixed-length trajectories (tau_int of the
// free-field action 166 at 0, 8.8 at 0.2).
const DefaultJitter = 0.2

// NewHMCUpdate returns the HMC update of act with trajectory h, drawing
// from src. It returns the error of h.Validate or of a bad Jitter.
func NewHMCUpdate(h HMC, act lattice.Action, size int, src *rand.PCG, opt HMCOptions) (*HMCUpdate, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	if !(opt.Jitter >= 0 && opt.Jitter < 1) {
		return nil, fmt.Errorf("sampler: HMC jitter %g, want 0 <= jitter < 1", opt.Jitter)
	}
	u := &HMCUpdate{chain: NewChain(h, act, make([]float64, size), rand.New(src)), src: src,
		tau: h.Tau, jitter: opt.Jitter, tune: opt.Tune}
	if a := opt.AutoTau; a != nil {
		if err := a.Validate(); err != nil {
			return nil, err
		}
		if !opt.Tune {
			return nil, errors.New("sampler: automatic trajectory length needs tuned leapfrog steps (HMCOptions.Tune)")
		}
		u.auto = newAutoTauSearch(*a)
		u.tau = u.auto.candidate()
	}
	return u, nil
}

// Tau returns the trajectory length (the centre of the jittered lengths):
// the current candidate while an automatic search runs, its choice after.
func (u *HMCUpdate) Tau() float64 { return u.tau }

// AutoTau returns the result of the automatic choice of the trajectory
// length, and false for a fixed length.
func (u *HMCUpdate) AutoTau() (AutoTauResult, bool) {
	if u.auto == nil {
		return AutoTauResult{}, false
	}
	return u.auto.res, true
}

// Steps returns the current number of leapfrog steps per trajectory.
func (u *HMCUpdate) Steps() int { return u.chain.HMC.Steps }

// Columns returns ["delta_h"].
func (u *HMCUpdate) Columns() []string { return []string{ColDeltaH} }

// Step runs one trajectory from x and leaves its end point (or x, if it was
// rejected) in x. With jitter it first draws the trajectory length (one
// uniform number), then the momenta and the accept decision (Chain.Step).
func (u *HMCUpdate) Step(x []float64) (Step, error) {
	c := u.chain
	if u.jitter > 0 {
		c.HMC.Tau = u.tau * (1 + u.jitter*(2*c.Rng.Float64()-1))
	}
	copy(c.X, x)
	ok, dH := c.Step()
	copy(x, c.X)
	if u.tune {
		u.block++
		if ok {
			u.blockAcc++
		}
		if u.block == TuneBlock {
			c.adjustSteps(float64(u.blockAcc)/float64(u.block), TuneLow, TuneHigh)
			u.block, u.blockAcc = 0, 0
		}
	}
	if a := u.auto; a != nil && !a.done {
		u.tau, c.HMC.Steps = a.after(x, c.HMC.Steps)
		if a.i == 0 || a.done {
			// A new length: its tuning starts with a fresh block.
			u.block, u.blockAcc = 0, 0
		}
	}
	return Step{Kind: KindHMC, Accepted: ok, Action: c.lastAction, LogQ: math.NaN(), LogP: math.NaN(), LogW: math.NaN(), DeltaH: dH}, nil
}

// EndThermalization stops the tuning and fixes the trajectory length: an
// automatic search that has not finished keeps its best choice so far.
func (u *HMCUpdate) EndThermalization() {
	u.tune, u.block, u.blockAcc = false, 0, 0
	if a := u.auto; a != nil && !a.done {
		a.finish()
		u.chain.HMC.Steps = a.stepsFor(a.res.Tau, u.chain.HMC.Steps)
		u.tau = a.res.Tau
	}
}

// hmcState is the state of an HMCUpdate after thermalization (Run saves
// none during it): the random stream, the tuned leapfrog steps and, for an
// automatic length, the length chosen and the search that chose it.
type hmcState struct {
	Src   []byte         `json:"rng"`
	Steps int            `json:"steps"`
	Tau   float64        `json:"tau,omitempty"`
	Auto  *AutoTauResult `json:"auto_tau,omitempty"`
}

// State returns the random stream and the leapfrog steps.
func (u *HMCUpdate) State() ([]byte, error) {
	src, err := u.src.MarshalBinary()
	if err != nil {
		return nil, err
	}
	st := hmcState{Src: src, Steps: u.chain.HMC.Steps, Tau: u.tau}
	if u.auto != nil {
		st.Auto = &u.auto.res
	}
	return json.Marshal(st)
}

// Restore sets the state returned by State; tuning is over.
func (u *HMCUpdate) Restore(state []byte, x []float64) error {
	var s hmcState
	if err := json.Unmarshal(state, &s); err != nil {
		return fmt.Errorf("sampler: HMC state: %w", err)
	}
	if err := u.src.UnmarshalBinary(s.Src); err != nil {
		return fmt.Errorf("sampler: HMC state: %w", err)
	}
	if s.Steps < 1 {
		return fmt.Errorf("sampler: HMC state: leapfrog steps %d", s.Steps)
	}
	u.chain.HMC.Steps = s.Steps
	switch {
	case u.auto != nil && (s.Auto == nil || !(s.Tau > 0)):
		return fmt.Errorf("sampler: HMC state: no automatic trajectory length saved")
	case u.auto != nil:
		u.auto.res, u.auto.done, u.tau = *s.Auto, true, s.Tau
	case s.Tau > 0 && s.Tau != u.tau:
		return fmt.Errorf("sampler: HMC state: trajectory length %g, this update has %g", s.Tau, u.tau)
	}
	return nil
}
