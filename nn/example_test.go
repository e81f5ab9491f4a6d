package nn_test

import (
	"fmt"
	"math/rand/v2"

	"latflow/nn"
)

// A phi^4 conditioner: one input channel on an 8 x 8 lattice, two hidden
// layers of 8 channels, two output channels (log-scale and shift) squashed
// by tanh; the VJP with respect to the input for a cotangent of ones.
func Example() {
	const L = 8
	net := nn.NewNet[float64](L, []int{1, 8, 8, 2}, 3, nn.LeakyReLU, nn.Tanh)
	net.InitRandom(rand.New(rand.NewPCG(1, 0)))
	tape := net.NewTape()

	in := make([]float64, net.InSize())
	for i := range in {
		in[i] = float64(i%L) / L
	}
	out := make([]float64, net.OutSize())
	net.Forward(tape, out, in)

	gout := make([]float64, net.OutSize())
	for i := range gout {
		gout[i] = 1
	}
	gin := make([]float64, net.InSize())
	grad := make([]float64, net.NumParams())
	net.Backward(tape, gin, grad, gout)

	fmt.Println("params:", net.NumParams(), "in:", net.InSize(), "out:", net.OutSize())
	fmt.Printf("out[0] = %.4f, gin[0] = %.4f\n", out[0], gin[0])
	// Output:
	// params: 810 in: 64 out: 128
	// out[0] = -0.0411, gin[0] = -0.0118
}
