package sampler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"latflow/flow"
	"latflow/lattice"
	"latflow/observables"
)

// Evaluate measures how good prop is as an independence-Metropolis
// proposal for the action act: it draws n fresh proposals, batch at a time,
// and returns ESS_q/N of their weights and the acceptance of one IMH chain
// over them (the first proposal, which starts the chain, not counted).
func Evaluate(ctx context.Context, prop Proposal, act lattice.Action, n, batch, workers int, propSrc, accSrc *rand.PCG) (flow.Evaluation, error) {
	if n < 2 {
		return flow.Evaluation{}, fmt.Errorf("sampler: Evaluate with %d samples, want >= 2", n)
	}
	batch = min(max(batch, 1), n)
	imh, err := NewIMH(prop, act, batch, workers, propSrc, accSrc)
	if err != nil {
		return flow.Evaluation{}, err
	}
	x := make([]float64, prop.Size())
	logw := make([]float64, 0, n)
	accepted := 0
	start := time.Now()
	for i := 0; i < n; i++ {
		if i%batch == 0 {
			if err := ctx.Err(); err != nil {
				return flow.Evaluation{}, err
			}
		}
		st, err := imh.Step(x)
		if err != nil {
			return flow.Evaluation{}, err
		}
		logw = append(logw, st.LogW)
		if st.Accepted && i > 0 {
			accepted++
		}
	}
	return flow.Evaluation{
		Samples: n, ESS: observables.ReverseESS(logw), Acceptance: float64(accepted) / float64(n-1),
		SamplesPerSecond: float64(n) / time.Since(start).Seconds(),
	}, nil
}
