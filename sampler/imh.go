package sampler

import (
	"math"
	"math/rand/v2"
)

// IMH is the acceptance step of independence Metropolis with a normalizing
// flow as proposal (physics.md section 5): a proposal x' ~ q with log
// weight log w' = log p~(x') - log q(x') is accepted with probability
// min(1, w'/w), w being the weight of the current state; on rejection the
// chain repeats its current state. IMH keeps only the current log weight;
// the caller keeps the configurations.
type IMH struct {
	logw     float64
	started  bool
	accepted int
	steps    int
}

// Step offers a proposal with log weight logw and reports whether the
// chain moves to it. The first proposal is always accepted (it starts the
// chain) and not counted in the acceptance. A NaN weight is rejected. Step
// draws one uniform number from rng per counted step.
func (m *IMH) Step(logw float64, rng *rand.Rand) bool {
	if !m.started {
		if math.IsNaN(logw) {
			return false
		}
		m.logw, m.started = logw, true
		return true
	}
	m.steps++
	u := rng.Float64()
	if !math.IsNaN(logw) && (logw >= m.logw || u < math.Exp(logw-m.logw)) {
		m.logw = logw
		m.accepted++
		return true
	}
	return false
}

// Acceptance returns the fraction of accepted proposals after the first,
// or NaN before any.
func (m *IMH) Acceptance() float64 {
	if m.steps == 0 {
		return math.NaN()
	}
	return float64(m.accepted) / float64(m.steps)
}

// LogWeight returns the log weight of the current state.
func (m *IMH) LogWeight() float64 { return m.logw }
