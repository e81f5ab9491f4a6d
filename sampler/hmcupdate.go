package sampler

import (
	"encoding/json"
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
// with momenta and the accept decision drawn from one PCG stream. If Tune
// is set, the leapfrog steps are adjusted during thermalization (Tune on
// Chain) and frozen at EndThermalization.
type HMCUpdate struct {
	chain *Chain
	src   *rand.PCG
	tune  bool
	// tuning state: trajectories and accepted ones in the current block.
	block, blockAcc int
}

// NewHMCUpdate returns the HMC update of act with trajectory h, drawing
// from src. It returns the error of h.Validate.
func NewHMCUpdate(h HMC, act lattice.Action, size int, src *rand.PCG, tune bool) (*HMCUpdate, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	return &HMCUpdate{chain: NewChain(h, act, make([]float64, size), rand.New(src)), src: src, tune: tune}, nil
}

// Steps returns the current number of leapfrog steps per trajectory.
func (u *HMCUpdate) Steps() int { return u.chain.HMC.Steps }

// Columns returns ["delta_h"].
func (u *HMCUpdate) Columns() []string { return []string{ColDeltaH} }

// Step runs one trajectory from x and leaves its end point (or x, if it was
// rejected) in x.
func (u *HMCUpdate) Step(x []float64) (Step, error) {
	c := u.chain
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
	return Step{Kind: KindHMC, Accepted: ok, Action: c.lastAction, LogQ: math.NaN(), LogP: math.NaN(), LogW: math.NaN(), DeltaH: dH}, nil
}

// EndThermalization stops the tuning.
func (u *HMCUpdate) EndThermalization() { u.tune, u.block, u.blockAcc = false, 0, 0 }

// hmcState is the state of an HMCUpdate after thermalization (Run saves
// none during it): the random stream and the tuned leapfrog steps.
type hmcState struct {
	Src   []byte `json:"rng"`
	Steps int    `json:"steps"`
}

// State returns the random stream and the leapfrog steps.
func (u *HMCUpdate) State() ([]byte, error) {
	src, err := u.src.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return json.Marshal(hmcState{Src: src, Steps: u.chain.HMC.Steps})
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
	return nil
}
