//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// hasRowKernels is true where the assembly of rows_amd64.s can run. It is
// set once at package initialisation from the CPU's features and never
// changes.
var hasRowKernels = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func rowCombine4F32(dst *float32, ld, m int, coef, src *float32, rows *int32, np int, bias, y *float32, epi, n int, slope float32)

//go:noescape
func rowCombine4F64(dst *float64, ld, m int, coef, src *float64, rows *int32, np int, bias, y *float64, epi, n int, slope float64)

//go:noescape
func rowDots4F32(gw *float32, ldw, m int, cot *float32, ld int, src *float32, rows *int32, np, n int)

//go:noescape
func rowDots4F64(gw *float64, ldw, m int, cot *float64, ld int, src *float64, rows *int32, np, n int)
