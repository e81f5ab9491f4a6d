//go:build !amd64 || purego

package vmath

func detect() level { return levelGo }

func expAVX2(dst, x *float64, n int)              { panic("vmath: no assembly on this platform") }
func exp32AVX2(dst, x *float32, n int)            { panic("vmath: no assembly on this platform") }
func sincosAVX2(sin, cos, x *float64, n int) bool { panic("vmath: no assembly on this platform") }
func atan2AVX2(dst, y, x *float64, n int)         { panic("vmath: no assembly on this platform") }
func logAVX2(dst, x *float64, n int)              { panic("vmath: no assembly on this platform") }

func tanh32AVX2(dst, x *float32, n int) { panic("vmath: no assembly on this platform") }
