package flowtrain

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"latflow/flow"
	"latflow/lattice"
	"latflow/nn"
)

// Timing is the wall time of one estimator's steps.
type Timing struct {
	Objective Objective
	Gradient  GradientType
	// Seconds are the timed steps, after one untimed warm-up step;
	// Median is their median.
	Seconds []float64
	Median  float64
}

// TimeEstimators times the six estimators (reverse and forward objective,
// each with the standard, drop-in path and fast path gradient) on the flow
// f for target: one warm-up step and repeat timed steps of each, with
// batch samples on workers goroutines. The forward estimators run on data
// (batch samples, back to back); every estimator draws from a fresh
// rng(), so that all see the same samples. each, if not nil, is called
// after every step with the estimator in progress.
func TimeEstimators[T nn.Float](ctx context.Context, f *flow.Flow[T], target lattice.Action, data []float64, batch, workers, repeat int, rng func() *rand.Rand, each func(Objective, GradientType)) ([]Timing, error) {
	if repeat < 1 {
		return nil, fmt.Errorf("flowtrain: TimeEstimators with %d timed steps, want >= 1", repeat)
	}
	grad := make([]float64, f.NumParams())
	var out []Timing
	for _, obj := range []Objective{Reverse, Forward} {
		for _, g := range []GradientType{Standard, DropInPath, FastPath} {
			est, err := NewEstimator(f, target, obj, g, batch, workers)
			if err != nil {
				return out, fmt.Errorf("flowtrain: %v %v: %w", obj, g, err)
			}
			r := rng()
			var d []float64
			if obj == Forward {
				d = data
			}
			tm := Timing{Objective: obj, Gradient: g}
			for i := 0; i <= repeat; i++ {
				if err := ctx.Err(); err != nil {
					return out, err
				}
				t0 := time.Now()
				if _, err := est.Estimate(r, d, grad); err != nil {
					return out, fmt.Errorf("flowtrain: %v %v: %w", obj, g, err)
				}
				if i > 0 { // the first call is the warm-up
					tm.Seconds = append(tm.Seconds, time.Since(t0).Seconds())
				}
				if each != nil {
					each(obj, g)
				}
			}
			tm.Median = median(tm.Seconds)
			out = append(out, tm)
		}
	}
	return out, nil
}

// median returns the median of xs (the mean of the two middle values for
// an even count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
