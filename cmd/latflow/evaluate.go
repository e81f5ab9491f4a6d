package main

import (
	"context"
	"math/rand/v2"

	"latflow/flow"
	"latflow/lattice"
	"latflow/nn"
	"latflow/observables"
	"latflow/sampler"
)

// flowEval measures how good a flow is as a proposal for the target.
type flowEval struct {
	Samples int `json:"samples"`
	// ESS is the reverse effective sample size per sample, ESS_q/N.
	ESS float64 `json:"ess"`
	// Acceptance is that of one independence-Metropolis pass over the samples.
	Acceptance float64 `json:"imh_acceptance"`
}

// evaluateFlow draws n samples from f in batches, computes the log weights
// log w = -S(x) - log q(x), and runs one independence-Metropolis pass over
// them in sample order.
func evaluateFlow[T nn.Float](ctx context.Context, f *flow.Flow[T], act lattice.Action, n, batch, workers int, rng *rand.Rand) (flowEval, error) {
	batch = min(batch, n)
	x := make([]T, batch*f.Size)
	x64 := make([]float64, f.Size)
	logq := make([]float64, batch)
	logw := make([]float64, 0, n)
	var imh sampler.IMH
	for len(logw) < n {
		if err := ctx.Err(); err != nil {
			return flowEval{}, err
		}
		f.Sample(rng, x, logq, workers)
		for i := 0; i < batch && len(logw) < n; i++ {
			for j, v := range x[i*f.Size : (i+1)*f.Size] {
				x64[j] = float64(v)
			}
			lw := -act.Action(x64) - logq[i]
			logw = append(logw, lw)
			imh.Step(lw, rng)
		}
	}
	return flowEval{Samples: n, ESS: observables.ReverseESS(logw), Acceptance: imh.Acceptance()}, nil
}
