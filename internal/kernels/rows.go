package kernels

import (
	"fmt"
	"unsafe"
)

// Row kernels: a whole convolution layer as one small matrix product over
// rows of the shifted-row copies (ShiftRowsTo). With the copies of all input
// planes of a layer back to back, the term of input plane i and kernel
// entry (k0, k1) is the contiguous row that starts at offset
// rows[p] = i*ShiftedLen(K, L) + (k1*(L+K-1) + k0)*L, p = (i*K + k0)*K + k1,
// so a layer's forward pass is out[o][x] = B[o] + sum_p W[o*P+p] src[rows[p]+x]
// with P = Cin*K*K, its input VJP the same with the rotated kernel on the
// copies of the output cotangent, and its weight gradient
// gW[o*P+p] = sum_x g[o][x] src[rows[p]+x]. RowCombine4To and RowDots4 do
// four output channels at a time, so that each row is loaded once for four
// outputs with the sums in registers; on amd64 with AVX2 and FMA they run in
// assembly (rows_amd64.s), elsewhere the reference loops. The assembly
// rounds once per multiply-add (FMA) and sums in its own order, so it
// agrees with the reference loops to rounding, and it gives the same bits
// for the same inputs on every call.

// Epilogue is what RowCombine4To does to each sum before storing it.
type Epilogue int

const (
	// EpiNone stores bias + sum.
	EpiNone Epilogue = iota
	// EpiLeakyReLU stores LeakyReLU(bias + sum), as LeakyReLUTo.
	EpiLeakyReLU
	// EpiLeakyReLUVJP stores sum where y > 0 and LeakySlope*sum otherwise,
	// as LeakyReLUVJPTo with the sum as cotangent (bias is not added).
	EpiLeakyReLUVJP
)

// HasRowKernels reports whether RowCombine4To and RowDots4 run in assembly
// (amd64 with AVX2 and FMA). Without it they run the reference loops, which
// are slower than the axpy kernels (ConvShifted and friends).
func HasRowKernels() bool { return hasRowKernels }

// Widths of the assembly tiles along the sites: n is split into a multiple
// of these, done in assembly, and a tail done by the reference loops.
const (
	combineWidth32, combineWidth64 = 16, 8
	dotsWidth32, dotsWidth64       = 8, 4
)

// RowCombine4To sets, for r < m (1 <= m <= 4) and x < n,
//
//	dst[r*ld+x] = epi(bias[r] + sum_p coef[4*p+r] * src[rows[p]+x]),
//
// p < len(rows), with y[r*ld+x] the activation output read by
// EpiLeakyReLUVJP (y is not used otherwise and may be nil). coef has
// length >= 4*len(rows); its entries for r >= m are multiplied but their
// sums are not stored, so any finite values do (zeros, or a copy of those
// of r = 0). dst must not overlap src, coef or y.
func RowCombine4To[T Float](dst []T, ld, m int, coef, src []T, rows []int32, bias *[4]T, y []T, epi Epilogue, n int) {
	checkRows("RowCombine4To", len(src), rows, n)
	checkPlanes("RowCombine4To", "dst", len(dst), ld, m, n)
	if len(coef) < 4*len(rows) {
		panic(fmt.Sprintf("kernels: RowCombine4To: len(coef)=%d, want >= %d", len(coef), 4*len(rows)))
	}
	if epi == EpiLeakyReLUVJP {
		checkPlanes("RowCombine4To", "y", len(y), ld, m, n)
	} else if epi != EpiNone && epi != EpiLeakyReLU {
		panic(fmt.Sprintf("kernels: RowCombine4To: unknown epilogue %d", int(epi)))
	}
	if n == 0 {
		return
	}
	var zero4 [4]T
	if epi == EpiLeakyReLUVJP {
		bias = &zero4
	}
	done := 0
	if hasRowKernels && len(rows) > 0 {
		var yp unsafe.Pointer
		if epi == EpiLeakyReLUVJP {
			yp = unsafe.Pointer(&y[0])
		}
		var zero T
		switch unsafe.Sizeof(zero) {
		case 4:
			if done = n &^ (combineWidth32 - 1); done > 0 {
				rowCombine4F32((*float32)(unsafe.Pointer(&dst[0])), ld, m, (*float32)(unsafe.Pointer(&coef[0])),
					(*float32)(unsafe.Pointer(&src[0])), &rows[0], len(rows), (*float32)(unsafe.Pointer(bias)),
					(*float32)(yp), int(epi), done, LeakySlope)
			}
		case 8:
			if done = n &^ (combineWidth64 - 1); done > 0 {
				rowCombine4F64((*float64)(unsafe.Pointer(&dst[0])), ld, m, (*float64)(unsafe.Pointer(&coef[0])),
					(*float64)(unsafe.Pointer(&src[0])), &rows[0], len(rows), (*float64)(unsafe.Pointer(bias)),
					(*float64)(yp), int(epi), done, LeakySlope)
			}
		}
	}
	rowCombine4Range(dst, ld, m, coef, src, rows, bias, y, epi, done, n)
}

// RowCombine4Ref is the reference loop for RowCombine4To.
func RowCombine4Ref[T Float](dst []T, ld, m int, coef, src []T, rows []int32, bias *[4]T, y []T, epi Epilogue, n int) {
	rowCombine4Range(dst, ld, m, coef, src, rows, bias, y, epi, 0, n)
}

// rowCombine4Range is RowCombine4Ref on the sites [x0, x1).
func rowCombine4Range[T Float](dst []T, ld, m int, coef, src []T, rows []int32, bias *[4]T, y []T, epi Epilogue, x0, x1 int) {
	for r := 0; r < m; r++ {
		for x := x0; x < x1; x++ {
			var s T
			if epi != EpiLeakyReLUVJP {
				s = bias[r]
			}
			for p, off := range rows {
				s += coef[4*p+r] * src[int(off)+x]
			}
			switch epi {
			case EpiLeakyReLU:
				if s <= 0 {
					s *= LeakySlope
				}
			case EpiLeakyReLUVJP:
				if !(y[r*ld+x] > 0) {
					s *= LeakySlope
				}
			}
			dst[r*ld+x] = s
		}
	}
}

// RowDots4 adds to gw[r*ldw+p], for r < m (1 <= m <= 4) and p < len(rows),
//
//	sum_{x<n} g[r*ld+x] * src[rows[p]+x].
//
// gw must not overlap g or src.
func RowDots4[T Float](gw []T, ldw, m int, g []T, ld int, src []T, rows []int32, n int) {
	checkRows("RowDots4", len(src), rows, n)
	checkPlanes("RowDots4", "g", len(g), ld, m, n)
	checkPlanes("RowDots4", "gw", len(gw), ldw, m, len(rows))
	if n == 0 || len(rows) == 0 {
		return
	}
	done := 0
	if hasRowKernels {
		var zero T
		switch unsafe.Sizeof(zero) {
		case 4:
			if done = n &^ (dotsWidth32 - 1); done > 0 {
				rowDots4F32((*float32)(unsafe.Pointer(&gw[0])), ldw, m, (*float32)(unsafe.Pointer(&g[0])), ld,
					(*float32)(unsafe.Pointer(&src[0])), &rows[0], len(rows), done)
			}
		case 8:
			if done = n &^ (dotsWidth64 - 1); done > 0 {
				rowDots4F64((*float64)(unsafe.Pointer(&gw[0])), ldw, m, (*float64)(unsafe.Pointer(&g[0])), ld,
					(*float64)(unsafe.Pointer(&src[0])), &rows[0], len(rows), done)
			}
		}
	}
	rowDots4Range(gw, ldw, m, g, ld, src, rows, done, n)
}

// RowDots4Ref is the reference loop for RowDots4.
func RowDots4Ref[T Float](gw []T, ldw, m int, g []T, ld int, src []T, rows []int32, n int) {
	rowDots4Range(gw, ldw, m, g, ld, src, rows, 0, n)
}

// rowDots4Range is RowDots4Ref on the sites [x0, x1).
func rowDots4Range[T Float](gw []T, ldw, m int, g []T, ld int, src []T, rows []int32, x0, x1 int) {
	if x0 >= x1 {
		return
	}
	for r := 0; r < m; r++ {
		gr := g[r*ld+x0 : r*ld+x1]
		for p, off := range rows {
			s := src[int(off)+x0 : int(off)+x1]
			var sum T
			for x, v := range gr {
				sum += v * s[x]
			}
			gw[r*ldw+p] += sum
		}
	}
}

// checkRows panics unless every row [rows[p], rows[p]+n) lies in a slice
// of length srcLen.
func checkRows(op string, srcLen int, rows []int32, n int) {
	if n < 0 {
		panic(fmt.Sprintf("kernels: %s: n=%d, want n >= 0", op, n))
	}
	for p, off := range rows {
		if off < 0 || int(off)+n > srcLen {
			panic(fmt.Sprintf("kernels: %s: row %d at offset %d of length %d, source length %d", op, p, off, n, srcLen))
		}
	}
}

// checkPlanes panics unless 1 <= m <= 4 and m rows of length n with
// stride ld >= n fit in a slice of length size.
func checkPlanes(op, name string, size, ld, m, n int) {
	if m < 1 || m > 4 {
		panic(fmt.Sprintf("kernels: %s: m=%d, want 1 <= m <= 4", op, m))
	}
	if ld < n || (m-1)*ld+n > size {
		panic(fmt.Sprintf("kernels: %s: %d rows of length %d and stride %d, len(%s)=%d", op, m, n, ld, name, size))
	}
}
