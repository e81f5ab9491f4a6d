package flowtrain_test

import (
	"fmt"

	"latflow/flowtrain"
)

// Minimise f(x) = (x0 - 1)^2 + 10 (x1 + 2)^2 with Adam under a cosine
// schedule, clipping the gradient norm to 5 and skipping non-finite
// gradients, as the training loop does.
func Example() {
	const steps = 2000
	sched, err := flowtrain.ParseSchedule("cosine", 0.05, steps)
	if err != nil {
		fmt.Println(err)
		return
	}
	x := []float64{0, 0} // the master copy of the parameters
	grad := make([]float64, len(x))
	opt := flowtrain.NewAdam(len(x))
	var firstNorm float64
	for step := 1; step <= steps; step++ {
		grad[0] = 2 * (x[0] - 1)
		grad[1] = 20 * (x[1] + 2)
		if !flowtrain.Finite(grad) {
			continue // skip the step
		}
		norm := flowtrain.ClipNorm(grad, 5)
		if step == 1 {
			firstNorm = norm
		}
		opt.Update(x, grad, sched.LR(step))
	}
	fmt.Printf("steps: %d, first gradient norm: %.2f\n", opt.Step, firstNorm)
	fmt.Printf("x = (%.4f, %.4f)\n", x[0], x[1])
	// Output:
	// steps: 2000, first gradient norm: 40.05
	// x = (1.0000, -2.0000)
}
