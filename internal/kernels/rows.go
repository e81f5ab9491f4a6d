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
// outputs with the sums in registers. They read the weights where they are:
// the coefficient of row p for output r is w[coef[p] + coff[r]], with the
// offsets coef of a RowTable and coff of the call, so that neither
// direction packs its weights. On amd64 they run in assembly, AVX-512
// (rows512_amd64.s) or AVX2 with FMA (rows_amd64.s), elsewhere the
// reference loops. The assembly rounds once per multiply-add (FMA) and sums
// in its own order, so it agrees with the reference loops to rounding, and
// it gives the same bits for the same inputs on every call.

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
// (amd64 with AVX2 and FMA, or AVX-512). Without it they run the reference
// loops, which are slower than the axpy kernels (ConvShifted and friends).
func HasRowKernels() bool { return best >= isaAVX2 }

// Widths of the assembly tiles along the sites: n is split into a multiple
// of the AVX-512 width, a multiple of the AVX2 width, and a tail done by the
// reference loops.
const (
	combineWidth32, combineWidth64         = 16, 8
	dotsWidth32, dotsWidth64               = 8, 4
	combineWidth512x32, combineWidth512x64 = 64, 32
	dotsWidth512x32, dotsWidth512x64       = 16, 8
)

// RowTable holds the rows of a row kernel, each a source offset and the
// offset of its coefficients (for RowCombine4To), with their largest
// values, checked once when it is made so that the kernels check a call's
// bounds in constant time. Make it with NewRowTable; it is read-only.
type RowTable struct {
	// pairs[2p] is the source offset of row p, pairs[2p+1] its coefficient
	// offset (interleaved: the assembly reads both with one index).
	pairs []int32
	// coefs are the coefficient offsets alone, with three zeros after the
	// last, so that the AVX-512 RowDots4 loads four at a time.
	coefs []int32
	// rowMax and coefMax are the largest offsets (-1 for no rows).
	rowMax, coefMax int
}

// NewRowTable returns the table of the rows starting at the source offsets
// rows, with coefficient offsets coef (nil: all zero, for a table used
// only by RowDots4). It panics on a negative offset or unequal lengths.
func NewRowTable(rows, coef []int32) *RowTable {
	if coef != nil && len(coef) != len(rows) {
		panic(fmt.Sprintf("kernels: NewRowTable: %d rows, %d coefficient offsets", len(rows), len(coef)))
	}
	t := &RowTable{pairs: make([]int32, 2*len(rows)), coefs: make([]int32, len(rows)+3), rowMax: -1, coefMax: -1}
	for p, off := range rows {
		var c int32
		if coef != nil {
			c = coef[p]
		}
		if off < 0 || c < 0 {
			panic(fmt.Sprintf("kernels: NewRowTable: row %d at offset %d, coefficient offset %d, want >= 0", p, off, c))
		}
		t.pairs[2*p], t.pairs[2*p+1], t.coefs[p] = off, c, c
		t.rowMax, t.coefMax = max(t.rowMax, int(off)), max(t.coefMax, int(c))
	}
	return t
}

// Len returns the number of rows.
func (t *RowTable) Len() int { return len(t.pairs) / 2 }

// Row returns the source offset of row p.
func (t *RowTable) Row(p int) int { return int(t.pairs[2*p]) }

// Coef returns the coefficient offset of row p.
func (t *RowTable) Coef(p int) int { return int(t.pairs[2*p+1]) }

// RowCombine4To sets, for r < m (1 <= m <= 4) and x < n,
//
//	dst[r*ld+x] = epi(bias[r] + sum_p w[tab.Coef(p)+coff[r]] * src[tab.Row(p)+x]),
//
// p < tab.Len(), with y[r*ld+x] the activation output read by
// EpiLeakyReLUVJP (y is not used otherwise and may be nil). All four
// coefficient offsets coff must address w, those of r >= m too (their sums
// are computed but not stored; a copy of coff[0] will do). dst must not
// overlap src, w or y.
func RowCombine4To[T Float](dst []T, ld, m int, w []T, coff *[4]int32, src []T, tab *RowTable, bias *[4]T, y []T, epi Epilogue, n int) {
	rowCombine4(best, dst, ld, m, w, coff, src, tab, bias, y, epi, n)
}

// RowCombine4Ref is the reference loop for RowCombine4To.
func RowCombine4Ref[T Float](dst []T, ld, m int, w []T, coff *[4]int32, src []T, tab *RowTable, bias *[4]T, y []T, epi Epilogue, n int) {
	rowCombine4(isaGo, dst, ld, m, w, coff, src, tab, bias, y, epi, n)
}

// rowCombine4 is RowCombine4To on the instruction set lv.
func rowCombine4[T Float](lv isa, dst []T, ld, m int, w []T, coff *[4]int32, src []T, tab *RowTable, bias *[4]T, y []T, epi Epilogue, n int) {
	checkRows("RowCombine4To", len(src), tab, n)
	checkPlanes("RowCombine4To", "dst", len(dst), ld, m, n)
	for r, c := range coff {
		if c < 0 || (tab.coefMax >= 0 && tab.coefMax+int(c) >= len(w)) {
			panic(fmt.Sprintf("kernels: RowCombine4To: coefficients of output %d at offset %d up to %d, len(w)=%d", r, c, tab.coefMax+int(c), len(w)))
		}
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
	if np := tab.Len(); lv >= isaAVX2 && np > 0 {
		var yp unsafe.Pointer
		if epi == EpiLeakyReLUVJP {
			yp = unsafe.Pointer(&y[0])
		}
		var zero T
		d, wp, s := unsafe.Pointer(&dst[0]), unsafe.Pointer(&w[0]), unsafe.Pointer(&src[0])
		if unsafe.Sizeof(zero) == 4 {
			done = combineF32(lv, d, ld, m, wp, coff, s, &tab.pairs[0], np, unsafe.Pointer(bias), yp, int(epi), n)
		} else {
			done = combineF64(lv, d, ld, m, wp, coff, s, &tab.pairs[0], np, unsafe.Pointer(bias), yp, int(epi), n)
		}
	}
	rowCombine4Range(dst, ld, m, w, coff, src, tab, bias, y, epi, done, n)
}

// combineF32 runs the float32 assembly of RowCombine4To on level lv for
// the sites [0, done) that its tiles cover (AVX-512, then AVX2 on the rest)
// and returns done.
func combineF32(lv isa, dst unsafe.Pointer, ld, m int, w unsafe.Pointer, coff *[4]int32, src unsafe.Pointer, tab *int32, np int, bias, y unsafe.Pointer, epi, n int) int {
	done := 0
	if end := n &^ (combineWidth512x32 - 1); lv >= isaAVX512 && end > 0 {
		rowCombine4F32AVX512((*float32)(dst), ld, m, (*float32)(w), coff, (*float32)(src), tab, np, (*float32)(bias), (*float32)(y), epi, end, LeakySlope)
		done = end
	}
	if end := n &^ (combineWidth32 - 1); end > done {
		off := uintptr(done) * 4
		rowCombine4F32AVX2((*float32)(unsafe.Add(dst, off)), ld, m, (*float32)(w), coff, (*float32)(unsafe.Add(src, off)), tab, np,
			(*float32)(bias), (*float32)(addNil(y, off)), epi, end-done, LeakySlope)
		done = end
	}
	return done
}

// combineF64 is combineF32 for float64.
func combineF64(lv isa, dst unsafe.Pointer, ld, m int, w unsafe.Pointer, coff *[4]int32, src unsafe.Pointer, tab *int32, np int, bias, y unsafe.Pointer, epi, n int) int {
	done := 0
	if end := n &^ (combineWidth512x64 - 1); lv >= isaAVX512 && end > 0 {
		rowCombine4F64AVX512((*float64)(dst), ld, m, (*float64)(w), coff, (*float64)(src), tab, np, (*float64)(bias), (*float64)(y), epi, end, LeakySlope)
		done = end
	}
	if end := n &^ (combineWidth64 - 1); end > done {
		off := uintptr(done) * 8
		rowCombine4F64AVX2((*float64)(unsafe.Add(dst, off)), ld, m, (*float64)(w), coff, (*float64)(unsafe.Add(src, off)), tab, np,
			(*float64)(bias), (*float64)(addNil(y, off)), epi, end-done, LeakySlope)
		done = end
	}
	return done
}

// addNil is unsafe.Add that keeps nil nil.
func addNil(p unsafe.Pointer, off uintptr) unsafe.Pointer {
	if p == nil {
		return nil
	}
	return unsafe.Add(p, off)
}

// rowCombine4Range is RowCombine4Ref on the sites [x0, x1).
func rowCombine4Range[T Float](dst []T, ld, m int, w []T, coff *[4]int32, src []T, tab *RowTable, bias *[4]T, y []T, epi Epilogue, x0, x1 int) {
	np := tab.Len()
	for r := 0; r < m; r++ {
		cr := int(coff[r])
		for x := x0; x < x1; x++ {
			var s T
			if epi != EpiLeakyReLUVJP {
				s = bias[r]
			}
			for p := range np {
				s += w[tab.Coef(p)+cr] * src[tab.Row(p)+x]
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

// RowDots4 adds to gw[coff[r] + tab.Coef(p)], for r < m (1 <= m <= 4) and
// p < tab.Len(),
//
//	sum_{x<n} g[r*ld+x] * src[tab.Row(p)+x],
//
// so that a weight gradient is written where the weights are, addressed as
// RowCombine4To reads them. The offsets coff[r], r < m, must address gw
// (those of r >= m are not read), and gw[coff[r] + tab.Coef(p)] must be
// distinct for distinct (r, p). gw must not overlap g or src.
func RowDots4[T Float](gw []T, coff *[4]int32, m int, g []T, ld int, src []T, tab *RowTable, n int) {
	rowDots4(best, gw, coff, m, g, ld, src, tab, n)
}

// RowDots4Ref is the reference loop for RowDots4.
func RowDots4Ref[T Float](gw []T, coff *[4]int32, m int, g []T, ld int, src []T, tab *RowTable, n int) {
	rowDots4(isaGo, gw, coff, m, g, ld, src, tab, n)
}

// rowDots4 is RowDots4 on the instruction set lv. The assembly sums whole
// rows, so each level sums the sites [0, n) in one pass: AVX-512 where n is
// a multiple of its width, else AVX2 on the multiple of its width and the
// reference loop on the rest.
func rowDots4[T Float](lv isa, gw []T, coff *[4]int32, m int, g []T, ld int, src []T, tab *RowTable, n int) {
	checkRows("RowDots4", len(src), tab, n)
	checkPlanes("RowDots4", "g", len(g), ld, m, n)
	np := tab.Len()
	for r := range m {
		if c := int(coff[r]); c < 0 || (tab.coefMax >= 0 && c+tab.coefMax >= len(gw)) {
			panic(fmt.Sprintf("kernels: RowDots4: gradient of row %d at offset %d up to %d, len(gw)=%d", r, c, c+tab.coefMax, len(gw)))
		}
	}
	if n == 0 || np == 0 {
		return
	}
	var zero T
	size := unsafe.Sizeof(zero)
	w512, w2 := dotsWidth512x64, dotsWidth64
	if size == 4 {
		w512, w2 = dotsWidth512x32, dotsWidth32
	}
	gp, sp, tp := unsafe.Pointer(&gw[0]), unsafe.Pointer(&g[0]), &tab.pairs[0]
	srcp := unsafe.Pointer(&src[0])
	switch {
	case lv >= isaAVX512 && n%w512 == 0:
		// Lane 4r+j of the sums goes to gw[cv[4r+j] + coef(p+j)].
		var cv [16]int32
		for r := range 4 {
			for j := range 4 {
				cv[4*r+j] = coff[min(r, m-1)]
			}
		}
		if size == 4 {
			rowDots4F32AVX512((*float32)(gp), &cv, m, (*float32)(sp), ld, (*float32)(srcp), tp, &tab.coefs[0], np, n)
		} else {
			rowDots4F64AVX512((*float64)(gp), &cv, m, (*float64)(sp), ld, (*float64)(srcp), tp, &tab.coefs[0], np, n)
		}
	case lv >= isaAVX2 && n >= w2:
		done := n &^ (w2 - 1)
		if size == 4 {
			rowDots4F32AVX2((*float32)(gp), coff, m, (*float32)(sp), ld, (*float32)(srcp), tp, np, done)
		} else {
			rowDots4F64AVX2((*float64)(gp), coff, m, (*float64)(sp), ld, (*float64)(srcp), tp, np, done)
		}
		rowDots4Range(gw, coff, m, g, ld, src, tab, done, n)
	default:
		rowDots4Range(gw, coff, m, g, ld, src, tab, 0, n)
	}
}

// rowDots4Range is RowDots4Ref on the sites [x0, x1).
func rowDots4Range[T Float](gw []T, coff *[4]int32, m int, g []T, ld int, src []T, tab *RowTable, x0, x1 int) {
	if x0 >= x1 {
		return
	}
	for r := 0; r < m; r++ {
		gr := g[r*ld+x0 : r*ld+x1]
		for p := range tab.Len() {
			off := tab.Row(p)
			s := src[off+x0 : off+x1]
			var sum T
			for x, v := range gr {
				sum += v * s[x]
			}
			gw[int(coff[r])+tab.Coef(p)] += sum
		}
	}
}

// checkRows panics unless every row [tab.Row(p), tab.Row(p)+n) lies in a
// slice of length srcLen.
func checkRows(op string, srcLen int, tab *RowTable, n int) {
	if tab == nil {
		panic(fmt.Sprintf("kernels: %s: nil RowTable", op))
	}
	if n < 0 {
		panic(fmt.Sprintf("kernels: %s: n=%d, want n >= 0", op, n))
	}
	if tab.rowMax >= 0 && tab.rowMax+n > srcLen {
		panic(fmt.Sprintf("kernels: %s: a row at offset %d of length %d, source length %d", op, tab.rowMax, n, srcLen))
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
