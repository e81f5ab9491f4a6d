package flowtrain

import (
	"fmt"
	"math"
)

// A Schedule gives the learning rate of each step, step >= 1 (the update
// in progress is Adam.Step+1). LR panics for step < 1 or an invalid
// schedule.
type Schedule interface {
	LR(step int) float64
}

// An Observer is a Schedule that adapts to the run: the training loop
// calls Observe with a metric (lower is better) after each step.
type Observer interface {
	Schedule
	Observe(metric float64)
}

var (
	_ Schedule = Constant{}
	_ Schedule = Cosine{}
	_ Observer = (*ReduceOnPlateau)(nil)
)

// ScheduleNames lists the names ParseSchedule accepts.
const ScheduleNames = "constant, cosine, warmup-cosine, plateau"

// ParseSchedule returns the schedule called name for the base learning
// rate lr and a run of steps steps:
//
//   - "constant": Constant{LR0: lr}.
//   - "cosine": Cosine{LR0: lr, Min: 0, Steps: steps, Warmup: 0}.
//   - "warmup-cosine": the same after a linear warm-up over the first
//     twentieth of the steps (Warmup = max(1, steps/20)).
//   - "plateau": ReduceOnPlateau{LR0: lr, Factor: 0.5, Patience:
//     max(10, steps/20), Threshold: 1e-4, Min: lr/100}; the patience
//     scales with the run because the metric is one noisy batch estimate
//     per step.
//
// It returns an error naming the allowed values for an unknown name, and
// for lr not finite and positive or steps < 1.
func ParseSchedule(name string, lr float64, steps int) (Schedule, error) {
	if !(lr > 0) || math.IsInf(lr, 1) {
		return nil, fmt.Errorf("flowtrain: learning rate %g, want finite and > 0", lr)
	}
	if steps < 1 {
		return nil, fmt.Errorf("flowtrain: %d steps, want >= 1", steps)
	}
	switch name {
	case "constant":
		return Constant{LR0: lr}, nil
	case "cosine":
		return Cosine{LR0: lr, Steps: steps}, nil
	case "warmup-cosine":
		if steps < 2 {
			return nil, fmt.Errorf("flowtrain: warmup-cosine over %d steps, want >= 2", steps)
		}
		return Cosine{LR0: lr, Steps: steps, Warmup: max(1, steps/20)}, nil
	case "plateau":
		return &ReduceOnPlateau{LR0: lr, Factor: 0.5, Patience: max(10, steps/20), Threshold: 1e-4, Min: lr / 100}, nil
	}
	return nil, fmt.Errorf("flowtrain: unknown schedule %q (allowed: %s)", name, ScheduleNames)
}

// checkStep panics for step < 1.
func checkStep(kind string, step int) {
	if step < 1 {
		panic(fmt.Sprintf("flowtrain: %s.LR: step=%d, want >= 1 (steps count from 1)", kind, step))
	}
}

// Constant is the learning rate LR0 at every step.
type Constant struct{ LR0 float64 }

// LR returns LR0.
func (c Constant) LR(step int) float64 {
	checkStep("Constant", step)
	return c.LR0
}

// Cosine is a linear warm-up from LR0/Warmup at step 1 to LR0 at step
// Warmup, then a cosine decay from LR0 that would reach Min at step
// Steps+1, and Min after Steps:
//
//	LR(s) = LR0 s/Warmup                                  s <= Warmup
//	LR(s) = Min + (LR0 - Min) (1 + cos(pi p))/2,          Warmup < s <= Steps,
//	        p = (s - Warmup)/(Steps - Warmup + 1)
//	LR(s) = Min                                           s > Steps
//
// so that the last of Steps steps still updates (a decay to Min = 0 at
// step Steps would waste it).
//
// Warmup = 0 means no warm-up. It needs 0 <= Warmup < Steps and
// 0 <= Min <= LR0.
type Cosine struct {
	LR0, Min      float64
	Steps, Warmup int
}

// LR returns the learning rate of step. It panics if c is invalid.
func (c Cosine) LR(step int) float64 {
	checkStep("Cosine", step)
	if !(c.Warmup >= 0 && c.Warmup < c.Steps) || !(c.Min >= 0 && c.Min <= c.LR0) || math.IsInf(c.LR0, 1) {
		panic(fmt.Sprintf("flowtrain: invalid %+v: want 0 <= Warmup < Steps and 0 <= Min <= LR0 finite", c))
	}
	switch {
	case step <= c.Warmup:
		return c.LR0 * float64(step) / float64(c.Warmup)
	case step > c.Steps:
		return c.Min
	}
	p := float64(step-c.Warmup) / float64(c.Steps-c.Warmup+1)
	return c.Min + (c.LR0-c.Min)*(1+math.Cos(math.Pi*p))/2
}

// ReduceOnPlateau is torch.optim.lr_scheduler.ReduceLROnPlateau in mode
// "min" with a relative threshold and no cooldown. A metric is an
// improvement if it is below Best*(1 - Threshold) (any finite metric is,
// before the first improvement); a NaN never is. Patience observations
// without improvement are tolerated: the next one multiplies the learning
// rate by Factor, not below Min, and resets the count. So with Patience = 2
// the third non-improving observation in a row reduces it.
//
// The learning rate is max(LR0 Factor^Reductions, Min); it does not depend
// on the step. The state fields are exported for checkpoints; the zero
// state is a fresh schedule. It needs LR0 > 0 finite, 0 < Factor < 1,
// Patience >= 0, Threshold >= 0 and 0 <= Min <= LR0.
type ReduceOnPlateau struct {
	LR0, Factor float64
	Patience    int
	Threshold   float64
	Min         float64

	// State.
	Best       float64 // best metric so far, meaningful if HasBest
	HasBest    bool
	Bad        int // non-improving observations since the last improvement or reduction
	Reductions int // reductions so far (at Min, no further ones are counted)
}

func (r *ReduceOnPlateau) check() {
	if !(r.LR0 > 0) || math.IsInf(r.LR0, 1) || !(r.Factor > 0 && r.Factor < 1) || r.Patience < 0 ||
		!(r.Threshold >= 0) || !(r.Min >= 0 && r.Min <= r.LR0) || r.Bad < 0 || r.Reductions < 0 {
		panic(fmt.Sprintf("flowtrain: invalid %+v: want LR0 > 0 finite, 0 < Factor < 1, Patience >= 0, "+
			"Threshold >= 0, 0 <= Min <= LR0, Bad >= 0, Reductions >= 0", *r))
	}
}

// LR returns the current learning rate. It panics if r is invalid.
func (r *ReduceOnPlateau) LR(step int) float64 {
	checkStep("ReduceOnPlateau", step)
	r.check()
	return r.lr()
}

func (r *ReduceOnPlateau) lr() float64 {
	return max(r.LR0*math.Pow(r.Factor, float64(r.Reductions)), r.Min)
}

// Observe records the metric of the step just done (lower is better) and
// reduces the learning rate after more than Patience non-improving
// observations in a row. It panics if r is invalid.
func (r *ReduceOnPlateau) Observe(metric float64) {
	r.check()
	best := math.Inf(1)
	if r.HasBest {
		best = r.Best
	}
	if metric < best*(1-r.Threshold) {
		r.Best, r.HasBest, r.Bad = metric, true, 0
		return
	}
	r.Bad++
	if r.Bad > r.Patience {
		r.Bad = 0
		if r.lr() > r.Min {
			r.Reductions++
		}
	}
}
