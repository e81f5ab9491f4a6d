//go:build !amd64 || purego

package kernels

// Without the assembly (other platforms, or the build tag purego) best is
// isaGo and these are never called.

func rowCombine4F32AVX2(dst *float32, ld, m int, w *float32, coff *[4]int32, src *float32, tab *int32, np int, bias, y *float32, epi, n int, slope float32) {
	panic("kernels: no assembly on this platform")
}

func rowCombine4F64AVX2(dst *float64, ld, m int, w *float64, coff *[4]int32, src *float64, tab *int32, np int, bias, y *float64, epi, n int, slope float64) {
	panic("kernels: no assembly on this platform")
}

func rowDots4F32AVX2(gw *float32, coff *[4]int32, m int, cot *float32, ld int, src *float32, tab *int32, np, n int) {
	panic("kernels: no assembly on this platform")
}

func rowDots4F64AVX2(gw *float64, coff *[4]int32, m int, cot *float64, ld int, src *float64, tab *int32, np, n int) {
	panic("kernels: no assembly on this platform")
}

func rowCombine4F32AVX512(dst *float32, ld, m int, w *float32, coff *[4]int32, src *float32, tab *int32, np int, bias, y *float32, epi, n int, slope float32) {
	panic("kernels: no assembly on this platform")
}

func rowCombine4F64AVX512(dst *float64, ld, m int, w *float64, coff *[4]int32, src *float64, tab *int32, np int, bias, y *float64, epi, n int, slope float64) {
	panic("kernels: no assembly on this platform")
}

func rowDots4F32AVX512(gw *float32, cv *[16]int32, m int, cot *float32, ld int, src *float32, tab, coefs *int32, np, n int) {
	panic("kernels: no assembly on this platform")
}

func rowDots4F64AVX512(gw *float64, cv *[16]int32, m int, cot *float64, ld int, src *float64, tab, coefs *int32, np, n int) {
	panic("kernels: no assembly on this platform")
}

func shiftRows3F32AVX2(dst, src *float32, L int) { panic("kernels: no assembly on this platform") }
func shiftRows3F64AVX2(dst, src *float64, L int) { panic("kernels: no assembly on this platform") }
func shiftRows3F32AVX512(dst, src *float32, L, planes int) {
	panic("kernels: no assembly on this platform")
}

func shiftRows3F64AVX512(dst, src *float64, L, planes int) {
	panic("kernels: no assembly on this platform")
}

func shiftRows3F32AVX512VL(dst, src *float32, L, planes int) {
	panic("kernels: no assembly on this platform")
}

func shiftRows3F64AVX512VL(dst, src *float64, L, planes int) {
	panic("kernels: no assembly on this platform")
}

func addRowSumsF32AVX512(dst, src *float32, rows, n int) {
	panic("kernels: no assembly on this platform")
}
func addRowSumsF64AVX512(dst, src *float64, rows, n int) {
	panic("kernels: no assembly on this platform")
}
