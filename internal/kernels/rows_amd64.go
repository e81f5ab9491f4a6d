//go:build !purego

package kernels

// Bodies in rows_amd64.s (AVX2 and FMA) and rows512_amd64.s (AVX-512),
// called by rowCombine4 and rowDots4 at the levels that have them.

//go:noescape
func rowCombine4F32AVX2(dst *float32, ld, m int, w *float32, coff *[4]int32, src *float32, tab *int32, np int, bias, y *float32, epi, n int, slope float32)

//go:noescape
func rowCombine4F64AVX2(dst *float64, ld, m int, w *float64, coff *[4]int32, src *float64, tab *int32, np int, bias, y *float64, epi, n int, slope float64)

//go:noescape
func rowDots4F32AVX2(gw *float32, coff *[4]int32, m int, cot *float32, ld int, src *float32, tab *int32, np, n int)

//go:noescape
func rowDots4F64AVX2(gw *float64, coff *[4]int32, m int, cot *float64, ld int, src *float64, tab *int32, np, n int)

//go:noescape
func rowCombine4F32AVX512(dst *float32, ld, m int, w *float32, coff *[4]int32, src *float32, tab *int32, np int, bias, y *float32, epi, n int, slope float32)

//go:noescape
func rowCombine4F64AVX512(dst *float64, ld, m int, w *float64, coff *[4]int32, src *float64, tab *int32, np int, bias, y *float64, epi, n int, slope float64)

//go:noescape
func rowDots4F32AVX512(gw *float32, cv *[16]int32, m int, cot *float32, ld int, src *float32, tab, coefs *int32, np, n int)

//go:noescape
func rowDots4F64AVX512(gw *float64, cv *[16]int32, m int, cot *float64, ld int, src *float64, tab, coefs *int32, np, n int)

// Bodies in sums512_amd64.s.

//go:noescape
func addRowSumsF32AVX512(dst, src *float32, rows, n int)

//go:noescape
func addRowSumsF64AVX512(dst, src *float64, rows, n int)
