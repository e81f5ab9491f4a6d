//go:build !purego

package kernels

// Bodies in shift_amd64.s, called by ShiftRowsTo where hasRowKernels.

//go:noescape
func shiftRows3F32(dst, src *float32, L int)

//go:noescape
func shiftRows3F64(dst, src *float64, L int)
