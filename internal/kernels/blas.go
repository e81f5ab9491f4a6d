package kernels

import (
	"gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/gonum/floats"
)

// The contiguous inner loops of the shifted-row kernels, on gonum's
// assembly for float32 and float64. The type is resolved once per plane
// (vecOps), not per call: a type switch inside a generic function costs
// about as much as an axpy of 64 elements.

// vecOps holds the axpy and dot loops for one element type.
type vecOps[T Float] struct {
	axpy func(d []T, a T, s []T)
	dot  func(g, s []T) T
}

func saxpy(d []float32, a float32, s []float32) { gonum.Implementation{}.Saxpy(len(d), a, s, 1, d, 1) }
func sdot(g, s []float32) float32               { return gonum.Implementation{}.Sdot(len(g), g, 1, s, 1) }
func daxpy(d []float64, a float64, s []float64) { floats.AddScaled(d, a, s) }

// ops returns the loops for T: assembly for float32 and float64, the
// reference loops for other types with those underlying types.
func ops[T Float]() vecOps[T] {
	var zero T
	switch any(zero).(type) {
	case float32:
		return any(vecOps[float32]{saxpy, sdot}).(vecOps[T])
	case float64:
		return any(vecOps[float64]{daxpy, floats.Dot}).(vecOps[T])
	}
	return vecOps[T]{AxpyRef[T], DotRef[T]}
}

// Axpy adds a*s[i] to d[i] for i < len(d); len(s) >= len(d).
func Axpy[T Float](d []T, a T, s []T) { ops[T]().axpy(d, a, s[:len(d)]) }

// AxpyRef is the reference loop for Axpy.
func AxpyRef[T Float](d []T, a T, s []T) {
	s = s[:len(d)]
	for i := range d {
		d[i] += a * s[i]
	}
}

// Dot returns sum_i g[i]*s[i] over i < len(g); len(s) >= len(g).
func Dot[T Float](g, s []T) T { return ops[T]().dot(g, s[:len(g)]) }

// DotRef is the reference loop for Dot.
func DotRef[T Float](g, s []T) T {
	s = s[:len(g)]
	var sum T
	for i := range g {
		sum += g[i] * s[i]
	}
	return sum
}
