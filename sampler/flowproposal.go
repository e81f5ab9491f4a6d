package sampler

import (
	"math/rand/v2"

	"latflow/flow"
	"latflow/nn"
)

// FlowProposal is a normalizing flow as an IMH Proposal: x = T(z), z from
// the flow's base, with log q(x) from the sampling pass; LogDensity runs
// the inverse layers. A flow of element type float32 computes in float32
// and hands out its samples converted to float64 exactly, with log q
// accumulated in float64. A FlowProposal is not safe for concurrent use;
// several may share one Flow.
type FlowProposal[T nn.Float] struct {
	Flow    *flow.Flow[T]
	Workers int // goroutines of the flow passes (<= 0: GOMAXPROCS)
	buf     []T
}

// Size returns the flow's sample size.
func (p *FlowProposal[T]) Size() int { return p.Flow.Size }

// Propose draws len(logq) samples from the flow.
func (p *FlowProposal[T]) Propose(rng *rand.Rand, x, logq []float64) {
	buf := p.scratch(len(x))
	p.Flow.Sample(rng, buf, logq, p.Workers)
	for i, v := range buf {
		x[i] = float64(v)
	}
}

// LogDensity evaluates log q of the configurations x (rounded to T).
func (p *FlowProposal[T]) LogDensity(logq, x []float64) error {
	buf := p.scratch(len(x))
	for i, v := range x {
		buf[i] = T(v)
	}
	return p.Flow.LogProb(logq, buf, p.Workers)
}

func (p *FlowProposal[T]) scratch(n int) []T {
	if cap(p.buf) < n {
		p.buf = make([]T, n)
	}
	return p.buf[:n]
}
