//go:build !amd64 || purego

package kernels

// hasRowKernels is false: RowCombine4To and RowDots4 run their reference
// loops.
const hasRowKernels = false

func rowCombine4F32(dst *float32, ld, m int, coef, src *float32, rows *int32, np int, bias, y *float32, epi, n int, slope float32) {
	panic("kernels: no assembly row kernels on this platform")
}

func rowCombine4F64(dst *float64, ld, m int, coef, src *float64, rows *int32, np int, bias, y *float64, epi, n int, slope float64) {
	panic("kernels: no assembly row kernels on this platform")
}

func rowDots4F32(gw *float32, ldw, m int, cot *float32, ld int, src *float32, rows *int32, np, n int) {
	panic("kernels: no assembly row kernels on this platform")
}

func rowDots4F64(gw *float64, ldw, m int, cot *float64, ld int, src *float64, rows *int32, np, n int) {
	panic("kernels: no assembly row kernels on this platform")
}
