package sampler

import (
	"math"
	"slices"

	"latflow/observables"
	"math/rand/v2"
)

// Update is one transition of a Markov chain that leaves the target density
// exp(-S) invariant: HMC, independence Metropolis with a flow or another
// independent proposal (IMH), or a fixed mix of the two (Mixed). Run drives
// any Update with the same thermalization, measurement, dataset,
// checkpoint and resume logic.
type Update interface {
	// Step moves the configuration x, in place, by one transition and
	// reports it. An error ends the chain (e.g. a flow whose inverse fails
	// on a state reached by HMC).
	Step(x []float64) (Step, error)
	// Columns names the per-step values the update reports besides the
	// measurements, in the order of Step.Values: "log_q", "log_p",
	// "log_weight" for IMH, "delta_h" for HMC.
	Columns() []string
	// State returns what the update needs to continue bit for bit after a
	// restart (random streams, tuned parameters, the current weight), and
	// Restore sets it; x is the chain's configuration at that point.
	State() ([]byte, error)
	Restore(state []byte, x []float64) error
}

// Thermalizer is implemented by updates that adapt during thermalization
// (HMC tunes its leapfrog steps); Run calls EndThermalization once, when
// the measured steps begin.
type Thermalizer interface {
	EndThermalization()
}

// Update kinds, the values of Step.Kind and of the "update" column of a
// dataset (and KindExact).
const (
	KindHMC  = "hmc"
	KindFlow = "flow"
)

// Step is what one transition did.
type Step struct {
	// Kind is KindHMC or KindFlow.
	Kind string
	// Accepted reports whether the proposal was accepted (the
	// configuration changed).
	Accepted bool
	// Action is S of the configuration after the step.
	Action float64
	// IMH steps: the log density log q of the proposal, log p = -S of the
	// proposal and its log weight log w = log p - log q. NaN for HMC.
	LogQ, LogP, LogW float64
	// DeltaH is the energy violation H(end) - H(start) of an HMC
	// trajectory; NaN for IMH.
	DeltaH float64
	// Tries is the number of rejection tries of an exact sample.
	Tries float64
}

// value returns the step's value of the column name (NaN for a column of
// another kind of update).
func (s Step) value(name string) float64 {
	switch name {
	case ColLogQ:
		return s.LogQ
	case ColLogP:
		return s.LogP
	case ColLogWeight:
		return s.LogW
	case ColDeltaH:
		return s.DeltaH
	case ColTries:
		return s.Tries
	}
	return math.NaN()
}

// DatasetColumns returns the update columns of a dataset written by Run
// for an update with columns ucols: log_q, log_p, log_weight, delta_h and
// tries, whatever the update, so that every dataset of a theory has the
// same columns (an hmc and a sample dataset concatenate in Polars), then
// any column of ucols not among them. A step writes a null where it has no
// value (Step.has).
func DatasetColumns(ucols []string) []string {
	cols := []string{ColLogQ, ColLogP, ColLogWeight, ColDeltaH, ColTries}
	for _, c := range ucols {
		if !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
	}
	return cols
}

// has reports whether the step has a value in the update column name:
// log_q, log_p and log_weight for a proposal (KindFlow), delta_h for an
// HMC trajectory, tries for an exact sample, any other column always.
func (s Step) has(name string) bool {
	switch name {
	case ColLogQ, ColLogP, ColLogWeight:
		return s.Kind == KindFlow
	case ColDeltaH:
		return s.Kind == KindHMC
	case ColTries:
		return s.Kind == KindExact
	}
	return true
}

// Column names of the per-step values of the updates.
const (
	ColLogQ      = "log_q"
	ColLogP      = "log_p"
	ColLogWeight = "log_weight"
	ColDeltaH    = observables.ColDeltaH
)

// Random streams of a chain. Chain c of a run with seed s draws its start
// configuration, HMC momenta and accept decisions, proposals and IMH
// accept decisions from the PCG streams (s, StreamID(c, k)) for these k, so
// that every chain is reproducible on its own and independent of the
// others, of scheduling and of the number of threads.
const (
	StreamStart = iota
	StreamHMC
	StreamProposal
	StreamAccept
	numStreams
)

// StreamID returns the second PCG seed of stream k of chain c.
func StreamID(chain, k int) uint64 {
	return uint64(chain)<<8 | uint64(k)
}

// NewStream returns the PCG source of stream k of chain c for seed.
func NewStream(seed uint64, chain, k int) *rand.PCG {
	return rand.NewPCG(seed, StreamID(chain, k))
}
