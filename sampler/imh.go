package sampler

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"latflow/lattice"
)

// Proposal draws independent configurations from a normalized density q
// that it can also evaluate: a normalizing flow (FlowProposal) or a
// non-learned proposal.
type Proposal interface {
	// Size returns the number of real numbers of a configuration.
	Size() int
	// Propose fills x (len(logq) configurations back to back) with
	// independent draws from q, and logq with their log densities. The
	// draws must depend only on rng, not on the number of threads used.
	Propose(rng *rand.Rand, x, logq []float64)
	// LogDensity writes log q of the configurations in x into logq.
	LogDensity(logq, x []float64) error
}

// IMH is independence Metropolis-Hastings as an Update: a proposal x' ~ q,
// drawn without looking at the current state x, is accepted with
// probability
//
//	min(1, w(x') / w(x)),  w = exp(-S) / q,
//
// and on rejection the chain stays at x. Since q does not depend on x, this
// is Metropolis-Hastings with the ratio q(x)/q(x') in the acceptance, and it
// leaves exp(-S) invariant for any q that covers its support.
//
// Proposals are drawn Batch at a time from the proposal stream (the
// Proposal may use every core) and their actions are computed in parallel;
// then they are accepted or rejected one by one, in proposal order, with
// uniforms from the accept stream. So the chain is the same bit for bit for
// any number of threads. The first proposal is always accepted: it starts
// the chain.
type IMH struct {
	prop    Proposal
	act     lattice.Action
	batch   int
	workers int

	propSrc, accSrc *rand.PCG
	propRng, accRng *rand.Rand

	// The current batch: proposals, their log q and log p = -S, the index
	// of the next one to offer (batch when used up), and the proposal
	// stream's state before the batch was drawn.
	x, logq, logp []float64
	next          int
	batchStart    []byte
	loaded        bool

	// The current state: log w and S.
	logw, action float64
	started      bool
}

// NewIMH returns the IMH update with proposal prop for the action act,
// drawing batch proposals at a time from propSrc and accept decisions from
// accSrc, computing actions on workers goroutines (<= 0: GOMAXPROCS).
func NewIMH(prop Proposal, act lattice.Action, batch, workers int, propSrc, accSrc *rand.PCG) (*IMH, error) {
	if batch < 1 {
		return nil, fmt.Errorf("sampler: IMH batch %d, want >= 1", batch)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	n := prop.Size()
	return &IMH{
		prop: prop, act: act, batch: batch, workers: workers,
		propSrc: propSrc, accSrc: accSrc, propRng: rand.New(propSrc), accRng: rand.New(accSrc),
		x: make([]float64, batch*n), logq: make([]float64, batch), logp: make([]float64, batch),
		next: batch,
	}, nil
}

// Columns returns ["log_q", "log_p", "log_weight"], the values of the
// proposal of each step.
func (m *IMH) Columns() []string { return []string{ColLogQ, ColLogP, ColLogWeight} }

// Step offers the next proposal to the chain at x.
func (m *IMH) Step(x []float64) (Step, error) {
	if m.next == m.batch {
		if err := m.draw(); err != nil {
			return Step{}, err
		}
	}
	i, n := m.next, len(x)
	m.next++
	logw := m.logp[i] - m.logq[i]
	u := m.accRng.Float64()
	st := Step{Kind: KindFlow, LogQ: m.logq[i], LogP: m.logp[i], LogW: logw, DeltaH: math.NaN()}
	if !math.IsNaN(logw) && (!m.started || logw >= m.logw || u < math.Exp(logw-m.logw)) {
		copy(x, m.x[i*n:(i+1)*n])
		m.logw, m.action, m.started = logw, -m.logp[i], true
		st.Accepted = true
	}
	st.Action = m.action
	return st, nil
}

// SetCurrent makes x, with action S, the current state after another update
// (HMC) moved the chain: its weight is evaluated with the proposal's
// density. A state the proposal cannot evaluate gets weight 0 (log w =
// -Inf), so that the next valid proposal is accepted; the error is
// returned.
func (m *IMH) SetCurrent(x []float64, S float64) error {
	var logq [1]float64
	err := m.prop.LogDensity(logq[:], x)
	m.logw, m.action, m.started = -S-logq[0], S, true
	if err != nil || math.IsNaN(m.logw) {
		m.logw = math.Inf(-1)
	}
	return err
}

// draw fills the batch: proposals from the proposal stream, then their
// actions in parallel.
func (m *IMH) draw() error {
	st, err := m.propSrc.MarshalBinary()
	if err != nil {
		return err
	}
	m.batchStart, m.loaded = st, true
	m.prop.Propose(m.propRng, m.x, m.logq)
	n := m.prop.Size()
	var wg sync.WaitGroup
	w := min(m.workers, m.batch)
	for k := 0; k < w; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			for i := k; i < m.batch; i += w {
				m.logp[i] = -m.act.Action(m.x[i*n : (i+1)*n])
			}
		}(k)
	}
	wg.Wait()
	m.next = 0
	return nil
}

type imhState struct {
	BatchStart []byte  `json:"batch_rng"`
	Loaded     bool    `json:"loaded"`
	Next       int     `json:"next"`
	Accept     []byte  `json:"accept_rng"`
	LogW       float64 `json:"log_w"`
	Action     float64 `json:"action"`
	Started    bool    `json:"started"`
}

// State returns the proposal stream at the start of the current batch, the
// position in it, the accept stream and the current weight.
func (m *IMH) State() ([]byte, error) {
	acc, err := m.accSrc.MarshalBinary()
	if err != nil {
		return nil, err
	}
	start := m.batchStart
	if !m.loaded {
		// No batch drawn yet: the stream where the first batch will start.
		if start, err = m.propSrc.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	// JSON has no infinities: a weight of 0 (log w = -Inf, after a state
	// the proposal could not evaluate) is stored as -MaxFloat64, which
	// accepts the next valid proposal just the same.
	return json.Marshal(imhState{BatchStart: start, Loaded: m.loaded, Next: m.next, Accept: acc,
		LogW: math.Max(m.logw, -math.MaxFloat64), Action: m.action, Started: m.started})
}

// Restore sets the state returned by State, drawing the current batch
// again from its start.
func (m *IMH) Restore(state []byte, x []float64) error {
	var s imhState
	if err := json.Unmarshal(state, &s); err != nil {
		return fmt.Errorf("sampler: IMH state: %w", err)
	}
	if err := m.accSrc.UnmarshalBinary(s.Accept); err != nil {
		return fmt.Errorf("sampler: IMH state: %w", err)
	}
	if err := m.propSrc.UnmarshalBinary(s.BatchStart); err != nil {
		return fmt.Errorf("sampler: IMH state: %w", err)
	}
	if s.Loaded {
		if err := m.draw(); err != nil {
			return err
		}
	}
	if s.Next < 0 || s.Next > m.batch {
		return fmt.Errorf("sampler: IMH state: position %d in a batch of %d (was --batch changed?)", s.Next, m.batch)
	}
	m.next, m.logw, m.action, m.started = s.Next, s.LogW, s.Action, s.Started
	return nil
}
