package sampler

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"latflow/gauge"
)

// PlaquetteProposal is the independent-plaquette proposal of 2D U(1)
// (gauge.PlaquetteProposal) as an IMH Proposal: a non-learned baseline
// beside the flows. Its proposals are drawn serially (they are cheap).
type PlaquetteProposal struct {
	P *gauge.PlaquetteProposal
}

// Size returns 2V.
func (p PlaquetteProposal) Size() int { return 2 * p.P.Geometry().V }

// Propose draws len(logq) configurations, in order, from rng.
func (p PlaquetteProposal) Propose(rng *rand.Rand, x, logq []float64) {
	n := p.Size()
	for i := range logq {
		logq[i] = p.P.SampleTo(x[i*n:(i+1)*n], rng)
	}
}

// LogDensity writes the proposal's log density of each configuration.
func (p PlaquetteProposal) LogDensity(logq, x []float64) error {
	n := p.Size()
	for i := range logq {
		logq[i] = p.P.LogDensity(x[i*n : (i+1)*n])
	}
	return nil
}

// KindExact marks the rows of an ExactUpdate: independent exact samples.
const KindExact = "exact"

// ExactUpdate replaces the configuration by an independent exact sample of
// 2D U(1) (gauge.ExactSampler) at every step: not a Markov chain but a
// sequence of independent draws from exp(-S), for training data and
// checks. Every step is "accepted"; its log_q column holds the number of
// rejection tries the sample took.
type ExactUpdate struct {
	s   *gauge.ExactSampler
	src *rand.PCG
	rng *rand.Rand
	act func([]float64) float64
}

// NewExactUpdate returns the exact sampler of U(1) on an L x L lattice at
// beta, drawing from src.
func NewExactUpdate(L int, beta float64, src *rand.PCG) (*ExactUpdate, error) {
	s, err := gauge.NewExactSampler(L, beta)
	if err != nil {
		return nil, err
	}
	act := gauge.WilsonAction{Geom: s.Geometry(), Beta: beta}
	return &ExactUpdate{s: s, src: src, rng: rand.New(src), act: act.Action}, nil
}

// ColTries is the column of an ExactUpdate: rejection tries per sample.
const ColTries = "tries"

// Columns returns ["tries"].
func (u *ExactUpdate) Columns() []string { return []string{ColTries} }

// Step draws a new independent sample into x.
func (u *ExactUpdate) Step(x []float64) (Step, error) {
	tries := u.s.SampleTo(x, u.rng)
	return Step{Kind: KindExact, Accepted: true, Action: u.act(x), LogQ: math.NaN(), LogP: math.NaN(), LogW: math.NaN(),
		DeltaH: math.NaN(), Tries: float64(tries)}, nil
}

// State returns the random stream.
func (u *ExactUpdate) State() ([]byte, error) {
	b, err := u.src.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return json.Marshal(b)
}

// Restore sets the random stream returned by State.
func (u *ExactUpdate) Restore(state []byte, _ []float64) error {
	var b []byte
	if err := json.Unmarshal(state, &b); err != nil {
		return fmt.Errorf("sampler: exact sampler state: %w", err)
	}
	return u.src.UnmarshalBinary(b)
}
