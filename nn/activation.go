package nn

import (
	"fmt"

	"latflow/internal/kernels"
)

// Activation is an elementwise nonlinearity.
type Activation int

const (
	// Identity is y = x.
	Identity Activation = iota
	// LeakyReLU is y = x for x > 0 and y = 0.01 x otherwise.
	LeakyReLU
	// Tanh is y = tanh(x).
	Tanh
)

// LeakySlope is the negative slope of LeakyReLU.
const LeakySlope = kernels.LeakySlope

// String returns the name of the activation.
func (a Activation) String() string {
	switch a {
	case Identity:
		return "identity"
	case LeakyReLU:
		return "leaky_relu"
	case Tanh:
		return "tanh"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// valid panics unless a is a known activation.
func (a Activation) valid() {
	if a < Identity || a > Tanh {
		panic(fmt.Sprintf("nn: unknown activation %d", int(a)))
	}
}

// ActivationForwardTo sets dst[i] = a(x[i]). dst and x have the same length
// and may be the same slice.
func ActivationForwardTo[T Float](dst, x []T, a Activation) {
	if len(dst) != len(x) {
		panic(fmt.Sprintf("nn: activation: len(dst)=%d, len(x)=%d", len(dst), len(x)))
	}
	switch a {
	case Identity:
		copy(dst, x)
	case LeakyReLU:
		kernels.LeakyReLUTo(dst, x)
	case Tanh:
		kernels.TanhTo(dst, x)
	default:
		a.valid()
	}
}

// ActivationVJP sets gx[i] = a'(x[i]) gy[i], where y = a(x) is the output of
// ActivationForwardTo (the derivative is computed from the output). All
// three slices have the same length; gx may be the same slice as gy or y.
func ActivationVJP[T Float](gx, gy, y []T, a Activation) {
	if len(gx) != len(gy) || len(gx) != len(y) {
		panic(fmt.Sprintf("nn: activation VJP: len(gx)=%d, len(gy)=%d, len(y)=%d", len(gx), len(gy), len(y)))
	}
	switch a {
	case Identity:
		copy(gx, gy)
	case LeakyReLU:
		kernels.LeakyReLUVJPTo(gx, gy, y)
	case Tanh:
		kernels.TanhVJPTo(gx, gy, y)
	default:
		a.valid()
	}
}
