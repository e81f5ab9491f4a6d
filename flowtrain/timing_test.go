package flowtrain_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"latflow/flowtrain"
)

func TestTimeEstimators(t *testing.T) {
	s := setup{obj: flowtrain.Reverse, grad: flowtrain.FastPath, schedule: "constant", steps: 1}
	tr := newTrainer[float64](t, s)
	f := tr.Flow()
	data := make([]float64, trainBatch*f.Size)
	for i := range data {
		data[i] = 0.3 * float64(i%7-3)
	}
	calls := 0
	tms, err := flowtrain.TimeEstimators(context.Background(), f, trainTarget(), data, trainBatch, 1, 3,
		func() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }, func(flowtrain.Objective, flowtrain.GradientType) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if len(tms) != 6 || calls != 6*4 {
		t.Fatalf("got %d timings and %d calls, want 6 and 24", len(tms), calls)
	}
	for _, tm := range tms {
		if len(tm.Seconds) != 3 || !(tm.Median > 0) {
			t.Errorf("%v %v: got %d timed steps, median %v; want 3 and > 0", tm.Objective, tm.Gradient, len(tm.Seconds), tm.Median)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := flowtrain.TimeEstimators(ctx, f, trainTarget(), data, trainBatch, 1, 3, func() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }, nil); err == nil {
		t.Errorf("cancelled: got no error")
	}
}
