package flowtrain_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"latflow/flowtrain"
)

const lrTol = 1e-15 // relative, learning rates from closed forms

func closeRel(got, want float64) bool {
	return math.Abs(got-want) <= lrTol*math.Abs(want)
}

func TestConstant(t *testing.T) {
	c := flowtrain.Constant{LR0: 3e-4}
	for _, step := range []int{1, 2, 1000, math.MaxInt} {
		if got := c.LR(step); got != 3e-4 {
			t.Errorf("step=%d: got %g, want %g", step, got, 3e-4)
		}
	}
}

// TestCosine checks the warm-up and the decay at steps where the cosine
// has a closed form: cos(pi/4) = sqrt(2)/2, cos(pi/2) = 0, cos(3pi/4).
func TestCosine(t *testing.T) {
	const lr0, lmin = 1e-3, 1e-5
	// Steps = 99: the decay would reach Min at step 100.
	c := flowtrain.Cosine{LR0: lr0, Min: lmin, Steps: 99, Warmup: 20}
	r2 := math.Sqrt2
	cases := []struct {
		step int
		want float64
	}{
		{1, lr0 / 20},
		{10, lr0 / 2},
		{20, lr0},                        // end of warm-up
		{40, lmin + (lr0-lmin)*(2+r2)/4}, // p = 1/4
		{60, (lr0 + lmin) / 2},           // p = 1/2
		{80, lmin + (lr0-lmin)*(2-r2)/4}, // p = 3/4
		{99, lmin + (lr0-lmin)*(1+math.Cos(math.Pi*79/80))/2}, // last step: above Min
		{100, lmin}, // end of decay
		{101, lmin},
		{1 << 40, lmin},
	}
	for _, tc := range cases {
		if got := c.LR(tc.step); !closeRel(got, tc.want) {
			t.Errorf("Warmup=20/step=%d: got %.17g, want %.17g", tc.step, got, tc.want)
		}
	}
	prev := 0.0
	for step := 1; step <= 120; step++ {
		lr := c.LR(step)
		if step <= 20 && !(lr > prev) || step > 20 && !(lr <= prev) {
			t.Errorf("Warmup=20/step=%d: got %g after %g, want increasing to step 20, then non-increasing", step, lr, prev)
		}
		prev = lr
	}

	c0 := flowtrain.Cosine{LR0: lr0, Steps: 9}
	if got := c0.LR(5); !closeRel(got, lr0/2) {
		t.Errorf("Warmup=0/step=5: got %g, want %g", got, lr0/2)
	}
	if got := c0.LR(1); !(got < lr0 && got > 0.9*lr0) {
		t.Errorf("Warmup=0/step=1: got %g, want in (%g, %g)", got, 0.9*lr0, lr0)
	}
	if got := c0.LR(9); !(got > 0) {
		t.Errorf("Warmup=0/step=9 (the last): got %g, want > 0 (the last step must update)", got)
	}
	if got := c0.LR(10); got != 0 {
		t.Errorf("Warmup=0/step=10: got %g, want 0", got)
	}
}

// TestReduceOnPlateauPatience checks that Patience non-improving
// observations in a row are tolerated and the next one halves the rate,
// as torch's ReduceLROnPlateau (num_bad_epochs > patience).
func TestReduceOnPlateauPatience(t *testing.T) {
	for patience := range 5 {
		t.Run(fmt.Sprintf("patience=%d", patience), func(t *testing.T) {
			r := &flowtrain.ReduceOnPlateau{LR0: 1, Factor: 0.5, Patience: patience, Threshold: 0.01}
			step := 1
			r.Observe(1.0) // first observation: the best so far
			step++
			want := 1.0
			for round := range 3 {
				for k := range patience {
					r.Observe(1.0)
					if got := r.LR(step); got != want {
						t.Errorf("round %d, non-improving observation %d of %d: got lr %g, want %g", round, k+1, patience, got, want)
					}
					step++
				}
				r.Observe(1.0)
				want /= 2
				if got := r.LR(step); got != want {
					t.Errorf("round %d, non-improving observation %d: got lr %g, want %g", round, patience+1, got, want)
				}
				step++
			}
			if r.Reductions != 3 {
				t.Errorf("Reductions got %d, want 3", r.Reductions)
			}
		})
	}
}

// TestReduceOnPlateauImprovement checks the relative threshold, that an
// improvement resets the count, and that NaN and +Inf never improve.
func TestReduceOnPlateauImprovement(t *testing.T) {
	r := &flowtrain.ReduceOnPlateau{LR0: 1, Factor: 0.5, Patience: 2, Threshold: 0.01}
	r.Observe(math.Inf(1))
	if r.HasBest || r.Bad != 1 {
		t.Errorf("after +Inf: HasBest, Bad got %v, %d, want false, 1", r.HasBest, r.Bad)
	}
	r.Observe(1.0)
	if !r.HasBest || r.Best != 1 || r.Bad != 0 {
		t.Errorf("after 1.0: Best, Bad got %g, %d, want 1, 0", r.Best, r.Bad)
	}
	r.Observe(0.995) // within 1% of the best: not an improvement
	r.Observe(math.NaN())
	if r.Best != 1 || r.Bad != 2 {
		t.Errorf("after 0.995, NaN: Best, Bad got %g, %d, want 1, 2", r.Best, r.Bad)
	}
	r.Observe(0.98) // an improvement resets the count
	if r.Best != 0.98 || r.Bad != 0 {
		t.Errorf("after 0.98: Best, Bad got %g, %d, want 0.98, 0", r.Best, r.Bad)
	}
	r.Observe(0.98)
	r.Observe(0.98)
	if got := r.LR(1); got != 1 {
		t.Errorf("after 2 non-improving of patience 2: got lr %g, want 1", got)
	}
	r.Observe(0.98)
	if got := r.LR(1); got != 0.5 {
		t.Errorf("after 3 non-improving of patience 2: got lr %g, want 0.5", got)
	}
}

func TestReduceOnPlateauMin(t *testing.T) {
	r := &flowtrain.ReduceOnPlateau{LR0: 1, Factor: 0.1, Patience: 0, Min: 0.05}
	r.Observe(1)
	for k, want := range []float64{0.1, 0.05, 0.05, 0.05} {
		r.Observe(2)
		if got := r.LR(1); !closeRel(got, want) {
			t.Errorf("reduction %d: got lr %g, want %g", k+1, got, want)
		}
	}
	if r.Reductions != 2 {
		t.Errorf("Reductions got %d, want 2 (none counted at Min)", r.Reductions)
	}
}

func TestParseSchedule(t *testing.T) {
	const lr, steps = 1e-3, 1000
	for _, name := range []string{"constant", "cosine", "warmup-cosine", "plateau"} {
		s, err := flowtrain.ParseSchedule(name, lr, steps)
		if err != nil {
			t.Errorf("%s: got error %v, want nil", name, err)
			continue
		}
		var ok bool
		switch name {
		case "constant":
			_, ok = s.(flowtrain.Constant)
		case "cosine", "warmup-cosine":
			var c flowtrain.Cosine
			c, ok = s.(flowtrain.Cosine)
			ok = ok && c.Steps == steps && c.LR(steps) > c.Min && c.LR(steps+1) == c.Min
			if name == "warmup-cosine" {
				ok = ok && c.Warmup == steps/20 && c.LR(c.Warmup) == lr
			}
		case "plateau":
			_, ok = s.(flowtrain.Observer)
		}
		if !ok {
			t.Errorf("%s: got %T %+v, want the schedule of that name", name, s, s)
		}
		if got := s.LR(1); name != "warmup-cosine" && !(got <= lr && got > 0.99*lr) {
			t.Errorf("%s: LR(1) got %g, want about %g", name, got, lr)
		}
	}
	bad := []struct {
		name  string
		lr    float64
		steps int
		want  string
	}{
		{"linear", lr, steps, flowtrain.ScheduleNames},
		{"", lr, steps, flowtrain.ScheduleNames},
		{"Cosine", lr, steps, flowtrain.ScheduleNames},
		{"constant", 0, steps, "learning rate"},
		{"constant", math.NaN(), steps, "learning rate"},
		{"constant", math.Inf(1), steps, "learning rate"},
		{"cosine", lr, 0, "steps"},
		{"warmup-cosine", lr, 1, "steps"},
	}
	for _, b := range bad {
		_, err := flowtrain.ParseSchedule(b.name, b.lr, b.steps)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("name=%q/lr=%g/steps=%d: got error %v, want one containing %q", b.name, b.lr, b.steps, err, b.want)
		}
	}
}

func TestSchedulePanics(t *testing.T) {
	cases := map[string]func(){
		"constant/step=0":    func() { flowtrain.Constant{LR0: 1}.LR(0) },
		"cosine/step=0":      func() { flowtrain.Cosine{LR0: 1, Steps: 10}.LR(0) },
		"cosine/warmup=10":   func() { flowtrain.Cosine{LR0: 1, Steps: 10, Warmup: 10}.LR(1) },
		"cosine/min>lr0":     func() { flowtrain.Cosine{LR0: 1, Min: 2, Steps: 10}.LR(1) },
		"plateau/step=0":     func() { (&flowtrain.ReduceOnPlateau{LR0: 1, Factor: 0.5}).LR(0) },
		"plateau/factor=1":   func() { (&flowtrain.ReduceOnPlateau{LR0: 1, Factor: 1}).Observe(1) },
		"plateau/patience<0": func() { (&flowtrain.ReduceOnPlateau{LR0: 1, Factor: 0.5, Patience: -1}).LR(1) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) { expectPanic(t, f) })
	}
}
