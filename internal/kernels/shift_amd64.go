//go:build !purego

package kernels

// Bodies in shift_amd64.s (AVX2) and shift512_amd64.s (AVX-512), called by
// shiftRows at the levels that have them.

//go:noescape
func shiftRows3F32AVX2(dst, src *float32, L int)

//go:noescape
func shiftRows3F64AVX2(dst, src *float64, L int)

// shiftRows3F32AVX512 and shiftRows3F64AVX512 shift planes planes back
// to back.
//
//go:noescape
func shiftRows3F32AVX512(dst, src *float32, L, planes int)

//go:noescape
func shiftRows3F64AVX512(dst, src *float64, L, planes int)

// shiftRows3F32AVX512VL and shiftRows3F64AVX512VL are the same with 256-bit
// vectors, for L a multiple of 8 (float32) or 4 (float64).
//
//go:noescape
func shiftRows3F32AVX512VL(dst, src *float32, L, planes int)

//go:noescape
func shiftRows3F64AVX512VL(dst, src *float64, L, planes int)
