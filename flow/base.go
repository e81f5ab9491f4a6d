package flow

import (
	"fmt"
	"math"
	"math/rand/v2"

	"latflow/nn"
)

// Base is the base distribution q0 of a flow, a product of identical
// one-dimensional densities, one per real number of a sample.
type Base int

const (
	// Uniform is uniform on [0, 2 pi) per link angle (U(1)):
	// log q0(z) = -N log(2 pi), d log q0/dz = 0.
	Uniform Base = iota
	// Normal is N(0, 1) per site (phi^4):
	// log q0(z) = -|z|^2/2 - (N/2) log(2 pi), d log q0/dz = -z.
	Normal
)

// String returns "uniform" or "normal".
func (b Base) String() string {
	switch b {
	case Uniform:
		return "uniform"
	case Normal:
		return "normal"
	}
	return fmt.Sprintf("Base(%d)", int(b))
}

// drawBase fills z with independent draws from b, in order, one rng call
// per element (rng.Float64 for Uniform, rng.NormFloat64 for Normal). Draws
// are made in float64 and converted to T, so float32 and float64 flows see
// the same base samples; a Uniform draw that rounds up to 2 pi in T becomes
// 0, the same angle.
func drawBase[T nn.Float](b Base, rng *rand.Rand, z []T) {
	switch b {
	case Uniform:
		twoPi := T(2 * math.Pi)
		for i := range z {
			v := T(2 * math.Pi * rng.Float64())
			if v >= twoPi {
				v = 0
			}
			z[i] = v
		}
	case Normal:
		for i := range z {
			z[i] = T(rng.NormFloat64())
		}
	default:
		panic(fmt.Sprintf("flow: unknown base %d", int(b)))
	}
}

// logBase returns log q0(z) in float64.
func logBase[T nn.Float](b Base, z []T) float64 {
	switch b {
	case Uniform:
		return -float64(len(z)) * math.Log(2*math.Pi)
	case Normal:
		var s float64
		for _, v := range z {
			s += float64(v) * float64(v)
		}
		return -0.5*s - 0.5*float64(len(z))*math.Log(2*math.Pi)
	}
	panic(fmt.Sprintf("flow: unknown base %d", int(b)))
}

// scoreBase writes s = d log q0/dz: 0 for Uniform, -z for Normal.
func scoreBase[T nn.Float](b Base, s, z []T) {
	switch b {
	case Uniform:
		clear(s)
	case Normal:
		for i, v := range z {
			s[i] = -v
		}
	default:
		panic(fmt.Sprintf("flow: unknown base %d", int(b)))
	}
}
