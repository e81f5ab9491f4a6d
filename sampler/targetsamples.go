package sampler

import (
	"context"
	"fmt"
	"math/rand/v2"

	"latflow/ensemble"
	"latflow/gauge"
)

// Settings of the HMC chain of TargetSamples.
const (
	targetTherm   = 200
	targetSpacing = 10
	targetTau     = 1.0
	targetSteps   = 10
)

// TargetSamples fills data with len(data)/t.Size() samples of the target
// t, drawn from src, for the forward-KL estimators and their checks, and
// describes them: exact independent samples for U(1)
// (gauge.ExactSampler), configurations of one HMC chain for phi^4 and, on the exact
// effective action t.Action (L <= 16), for the Schwinger model (a cold
// start, 200 trajectories with the leapfrog steps tuned, then one
// configuration every 10 trajectories). each, if not nil, is called after
// every sample.
func TargetSamples(ctx context.Context, t ensemble.Target, data []float64, src *rand.PCG, each func()) (string, error) {
	size := t.Size()
	n := len(data) / size
	if t.Theory == ensemble.U1 {
		es, err := gauge.NewExactSampler(t.L, t.Couplings[ensemble.Beta])
		if err != nil {
			return "", err
		}
		rng := rand.New(src)
		for i := range n {
			if err := ctx.Err(); err != nil {
				return "", err
			}
			es.SampleTo(data[i*size:(i+1)*size], rng)
			if each != nil {
				each()
			}
		}
		return fmt.Sprintf("%d exact samples of the target (independent plaquettes with rejection)", n), nil
	}
	h := HMC{Tau: targetTau, Steps: targetSteps}
	u, err := NewHMCUpdate(h, t.Action(t.Geometry()), size, src, HMCOptions{Tune: true, Jitter: DefaultJitter})
	if err != nil {
		return "", err
	}
	x := make([]float64, size)
	for range targetTherm {
		if _, err := u.Step(x); err != nil {
			return "", fmt.Errorf("sampler: HMC: %w", err)
		}
	}
	u.EndThermalization()
	acc := 0
	for i := range n {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		for range targetSpacing {
			st, err := u.Step(x)
			if err != nil {
				return "", fmt.Errorf("sampler: HMC: %w", err)
			}
			if st.Accepted {
				acc++
			}
		}
		copy(data[i*size:(i+1)*size], x)
		if each != nil {
			each()
		}
	}
	return fmt.Sprintf("%d configurations of one HMC chain, every %dth trajectory after %d of thermalization "+
		"(cold start, tau %g, jitter %g, %d leapfrog steps tuned, acceptance %.2f)",
		n, targetSpacing, targetTherm, targetTau, DefaultJitter, u.Steps(), float64(acc)/float64(n*targetSpacing)), nil
}
