//go:build !purego

package vmath

import "golang.org/x/sys/cpu"

func detect() level {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		return levelAVX2
	}
	return levelGo
}

// The assembly loops take n > 0, a multiple of 4.

//go:noescape
func expAVX2(dst, x *float64, n int)

//go:noescape
func exp32AVX2(dst, x *float32, n int)

// sincosAVX2 reports whether some |x| > SincosMax or is NaN; those
// elements of sin and cos are then wrong.
//
//go:noescape
func sincosAVX2(sin, cos, x *float64, n int) bool

//go:noescape
func atan2AVX2(dst, y, x *float64, n int)

//go:noescape
func logAVX2(dst, x *float64, n int)

//go:noescape
func tanh32AVX2(dst, x *float32, n int)
