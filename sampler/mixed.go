package sampler

import (
	"encoding/json"
	"fmt"
)

// Mixed alternates two updates of the same target: after every Every IMH
// steps, one HMC trajectory. Each keeps exp(-S) invariant, so the fixed
// sequence does too; after an accepted HMC trajectory the IMH weight of the
// new state is evaluated with the proposal's density, so that the next IMH
// acceptance compares with the state the chain is really in.
type Mixed struct {
	IMH   *IMH
	HMC   *HMCUpdate
	Every int
	// count is the number of IMH steps since the last HMC trajectory.
	count int
}

// Columns returns the IMH columns and "delta_h".
func (m *Mixed) Columns() []string { return append(m.IMH.Columns(), ColDeltaH) }

// Step makes the next step of the sequence.
func (m *Mixed) Step(x []float64) (Step, error) {
	if m.count < m.Every {
		m.count++
		return m.IMH.Step(x)
	}
	m.count = 0
	st, err := m.HMC.Step(x)
	if err == nil && st.Accepted {
		if err := m.IMH.SetCurrent(x, st.Action); err != nil {
			return st, fmt.Errorf("sampler: flow density of the HMC state: %w", err)
		}
	}
	return st, err
}

// EndThermalization ends the HMC tuning.
func (m *Mixed) EndThermalization() { m.HMC.EndThermalization() }

type mixedState struct {
	IMH   json.RawMessage `json:"imh"`
	HMC   json.RawMessage `json:"hmc"`
	Count int             `json:"count"`
}

// State returns the states of both updates and the position in the
// sequence.
func (m *Mixed) State() ([]byte, error) {
	i, err := m.IMH.State()
	if err != nil {
		return nil, err
	}
	h, err := m.HMC.State()
	if err != nil {
		return nil, err
	}
	return json.Marshal(mixedState{IMH: i, HMC: h, Count: m.count})
}

// Restore sets the state returned by State.
func (m *Mixed) Restore(state []byte, x []float64) error {
	var s mixedState
	if err := json.Unmarshal(state, &s); err != nil {
		return fmt.Errorf("sampler: mixed state: %w", err)
	}
	if err := m.IMH.Restore(s.IMH, x); err != nil {
		return err
	}
	if err := m.HMC.Restore(s.HMC, x); err != nil {
		return err
	}
	m.count = s.Count
	return nil
}
