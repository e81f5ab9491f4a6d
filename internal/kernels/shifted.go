package kernels

import (
	"fmt"
	"unsafe"
)

// Convolution through shifted-row copies. For a plane src and K odd,
// h = K/2, ShiftRowsTo writes K copies S_k1 (k1 = 0..K-1), each of L+2h rows
// of length L:
//
//	S_k1[(r+h)*L + x1] = src[(r mod L)*L + (x1+k1-h) mod L],  -h <= r < L+h,
//
// the plane shifted periodically along x1 by k1-h, with h halo rows above
// and below. The term of kernel entry (k0, k1) of the cross-correlation is
// then the contiguous slice S_k1[k0*L : k0*L+L*L], so each term is one axpy
// (or dot) of length L*L with no wrap-around inside: these run on gonum's
// assembly for float32 and float64.

// ShiftedLen returns the length K*(L+K-1)*L of the shifted-row copies of one
// L x L plane.
func ShiftedLen(K, L int) int { return K * (L + K - 1) * L }

// ShiftRowsTo writes the K shifted-row copies of the plane src into dst, of
// length ShiftedLen(K, L). For K = 3 it runs in assembly where the CPU
// has it: AVX-512 for L a multiple of 8 (float32) or 4 (float64), with
// 512-bit vectors for multiples of 16 (8), else AVX2 for the same L.
func ShiftRowsTo[T Float](dst, src []T, K, L int) { shiftPlanes(best, dst, src, K, L, 1) }

// ShiftPlanesTo is ShiftRowsTo for n planes back to back: src holds n
// planes of L*L, dst receives their copies, n*ShiftedLen(K, L) elements.
func ShiftPlanesTo[T Float](dst, src []T, K, L, n int) { shiftPlanes(best, dst, src, K, L, n) }

// shiftPlanes is ShiftPlanesTo on the instruction set lv.
func shiftPlanes[T Float](lv isa, dst, src []T, K, L, n int) {
	V, S := L*L, ShiftedLen(K, L)
	if n < 0 || len(src) < n*V || len(dst) < n*S {
		panic(fmt.Sprintf("kernels: ShiftPlanesTo: %d planes of %d, len(src)=%d, len(dst)=%d, want >= %d, %d", n, V, len(src), len(dst), n*V, n*S))
	}
	if n == 0 {
		return
	}
	if lv >= isaAVX2 && K == 3 {
		var zero T
		d, s := unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0])
		switch unsafe.Sizeof(zero) {
		case 4:
			switch {
			case lv >= isaAVX512 && L%16 == 0:
				shiftRows3F32AVX512((*float32)(d), (*float32)(s), L, n)
				return
			case lv >= isaAVX512 && L%8 == 0:
				shiftRows3F32AVX512VL((*float32)(d), (*float32)(s), L, n)
				return
			case L%8 == 0:
				for i := range n {
					shiftRows3F32AVX2((*float32)(unsafe.Add(d, 4*i*S)), (*float32)(unsafe.Add(s, 4*i*V)), L)
				}
				return
			}
		case 8:
			switch {
			case lv >= isaAVX512 && L%8 == 0:
				shiftRows3F64AVX512((*float64)(d), (*float64)(s), L, n)
				return
			case lv >= isaAVX512 && L%4 == 0:
				shiftRows3F64AVX512VL((*float64)(d), (*float64)(s), L, n)
				return
			case L%4 == 0:
				for i := range n {
					shiftRows3F64AVX2((*float64)(unsafe.Add(d, 8*i*S)), (*float64)(unsafe.Add(s, 8*i*V)), L)
				}
				return
			}
		}
	}
	for i := range n {
		ShiftRowsRef(dst[i*S:(i+1)*S], src[i*V:(i+1)*V], K, L)
	}
}

// ShiftRowsRef is the reference loop for ShiftRowsTo.
func ShiftRowsRef[T Float](dst, src []T, K, L int) {
	h, V := K/2, L*L
	R := L + 2*h
	src = src[:V]
	for k1 := 0; k1 < K; k1++ {
		s := dst[k1*R*L : (k1+1)*R*L]
		mid := s[h*L : h*L+V]
		shiftPlaneTo(mid, src, k1-h, L)
		// Halo rows: row -j is row L-j, row L-1+j is row j-1 (periodic),
		// copied from the middle; rows beyond one period repeat.
		for j := 1; j <= h; j++ {
			r := wrap(-j, L)
			copy(s[(h-j)*L:(h-j+1)*L], mid[r*L:(r+1)*L])
			r = wrap(L-1+j, L)
			copy(s[(h+L-1+j)*L:(h+L+j)*L], mid[r*L:(r+1)*L])
		}
	}
}

// shiftPlaneTo sets dst[x0*L+x1] = src[x0*L + (x1+d) mod L]: one move of the
// whole plane, then the |d| wrapped sites of each row fixed up.
func shiftPlaneTo[T Float](dst, src []T, d, L int) {
	V := L * L
	switch {
	case d == 0:
		copy(dst, src)
	case d > 0 && d < L:
		copy(dst[:V-d], src[d:])
		for x0 := 0; x0 < L; x0++ {
			row, srow := dst[x0*L+L-d:x0*L+L], src[x0*L:x0*L+d]
			for j := range row {
				row[j] = srow[j]
			}
		}
	case d < 0 && -d < L:
		e := -d
		copy(dst[e:], src[:V-e])
		for x0 := 0; x0 < L; x0++ {
			row, srow := dst[x0*L:x0*L+e], src[x0*L+L-e:x0*L+L]
			for j := range row {
				row[j] = srow[j]
			}
		}
	default: // |d| >= L: kernel wider than the lattice
		for x0 := 0; x0 < L; x0++ {
			for x1 := 0; x1 < L; x1++ {
				dst[x0*L+x1] = src[x0*L+wrap(x1+d, L)]
			}
		}
	}
}

// ConvShifted adds to dst (L x L) the periodic cross-correlation, as
// ConvPlane, of the plane whose shifted-row copies (ShiftRowsTo) are in s.
func ConvShifted[T Float](dst, s, w []T, K, L int) {
	V, R := L*L, L+K-1
	dst = dst[:V]
	axpy := ops[T]().axpy
	for k0 := 0; k0 < K; k0++ {
		for k1 := 0; k1 < K; k1++ {
			off := (k1*R + k0) * L
			axpy(dst, w[k0*K+k1], s[off:off+V])
		}
	}
}

// ConvShiftedAdjoint adds to dst the adjoint of ConvPlane, as
// ConvPlaneAdjoint, applied to the plane whose shifted-row copies are in s.
func ConvShiftedAdjoint[T Float](dst, s, w []T, K, L int) {
	V, R := L*L, L+K-1
	dst = dst[:V]
	axpy := ops[T]().axpy
	for k0 := 0; k0 < K; k0++ {
		for k1 := 0; k1 < K; k1++ {
			off := ((K-1-k1)*R + K - 1 - k0) * L
			axpy(dst, w[k0*K+k1], s[off:off+V])
		}
	}
}

// ConvWeightGradShifted adds to gw the kernel gradient, as ConvWeightGrad,
// for the source plane whose shifted-row copies are in s.
func ConvWeightGradShifted[T Float](gw, g, s []T, K, L int) {
	V, R := L*L, L+K-1
	g = g[:V]
	dot := ops[T]().dot
	for k0 := 0; k0 < K; k0++ {
		for k1 := 0; k1 < K; k1++ {
			off := (k1*R + k0) * L
			gw[k0*K+k1] += dot(g, s[off:off+V])
		}
	}
}
