package kernels

// Periodic K x K cross-correlation of one L x L plane. The fast kernels
// never take a modulo per element: rows are chosen with the wrap applied
// once per row, and along the contiguous axis the loop is split into an
// interior, where all neighbours are in the row, and the few boundary sites.

// ConvPlane adds to dst the periodic cross-correlation of src with the
// K x K kernel w:
//
//	dst[x0*L+x1] += sum_{k0,k1} w[k0*K+k1] * src[(x0+k0-h)%L*L + (x1+k1-h)%L]
//
// with h = K/2 and the modulo taken periodically. dst and src have length
// L*L, w has length K*K.
func ConvPlane[T Float](dst, src, w []T, K, L int) {
	if K == 3 && L >= 3 {
		conv3Plane(dst, src, w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], L)
		return
	}
	convPlaneGeneric(dst, src, w, K, L, false)
}

// ConvPlaneAdjoint adds to dst the adjoint (transpose) of ConvPlane applied
// to src, the vector-Jacobian product of ConvPlane with respect to its
// source:
//
//	dst[y0*L+y1] += sum_{k0,k1} w[k0*K+k1] * src[(y0-k0+h)%L*L + (y1-k1+h)%L].
//
// It is the cross-correlation with the kernel rotated by 180 degrees.
func ConvPlaneAdjoint[T Float](dst, src, w []T, K, L int) {
	if K == 3 && L >= 3 {
		conv3Plane(dst, src, w[8], w[7], w[6], w[5], w[4], w[3], w[2], w[1], w[0], L)
		return
	}
	convPlaneGeneric(dst, src, w, K, L, true)
}

// ConvWeightGrad adds to gw the gradient of sum_x g[x]*ConvPlane(src)[x]
// with respect to the kernel:
//
//	gw[k0*K+k1] += sum_{x0,x1} g[x0*L+x1] * src[(x0+k0-h)%L*L + (x1+k1-h)%L].
func ConvWeightGrad[T Float](gw, g, src []T, K, L int) {
	if K == 3 && L >= 3 {
		conv3WeightGrad(gw, g, src, L)
		return
	}
	convWeightGenericGrad(gw, g, src, K, L)
}

// wrap returns a modulo L in [0, L).
func wrap(a, L int) int {
	a %= L
	if a < 0 {
		a += L
	}
	return a
}

// rows3 returns the rows x0-1, x0 and x0+1 (periodic) of a plane.
func rows3[T Float](p []T, x0, L int) (a, b, c []T) {
	up, dn := x0-1, x0+1
	if up < 0 {
		up = L - 1
	}
	if dn == L {
		dn = 0
	}
	return p[up*L : up*L+L], p[x0*L : x0*L+L], p[dn*L : dn*L+L]
}

// conv3Plane is ConvPlane for K = 3 with the kernel in registers; L >= 3.
func conv3Plane[T Float](dst, src []T, w00, w01, w02, w10, w11, w12, w20, w21, w22 T, L int) {
	for x0 := 0; x0 < L; x0++ {
		a, b, c := rows3(src, x0, L)
		d := dst[x0*L : x0*L+L]
		conv3Row(d, a, b, c, w00, w01, w02, w10, w11, w12, w20, w21, w22)
	}
}

// conv3Row adds to d the 3 x 3 stencil over the rows a, b, c (k0 = 0, 1, 2),
// periodic along the row.
func conv3Row[T Float](d, a, b, c []T, w00, w01, w02, w10, w11, w12, w20, w21, w22 T) {
	n := len(d)
	a, b, c = a[:n], b[:n], c[:n]
	d[0] += w00*a[n-1] + w01*a[0] + w02*a[1] +
		w10*b[n-1] + w11*b[0] + w12*b[1] +
		w20*c[n-1] + w21*c[0] + w22*c[1]
	for x := 1; x < n-1; x++ {
		d[x] += w00*a[x-1] + w01*a[x] + w02*a[x+1] +
			w10*b[x-1] + w11*b[x] + w12*b[x+1] +
			w20*c[x-1] + w21*c[x] + w22*c[x+1]
	}
	d[n-1] += w00*a[n-2] + w01*a[n-1] + w02*a[0] +
		w10*b[n-2] + w11*b[n-1] + w12*b[0] +
		w20*c[n-2] + w21*c[n-1] + w22*c[0]
}

// conv3WeightGrad is ConvWeightGrad for K = 3 with the nine sums in
// registers; L >= 3. The interior is unrolled by two sites, so that every
// sum takes one addition per two sites (the additions into the nine sums are
// the loop-carried dependency) and each source value is loaded once per pair.
func conv3WeightGrad[T Float](gw, g, src []T, L int) {
	gw = gw[:9]
	var s00, s01, s02, s10, s11, s12, s20, s21, s22 T
	for x0 := 0; x0 < L; x0++ {
		a, b, c := rows3(src, x0, L)
		r := g[x0*L : x0*L+L]
		n := len(r)
		a, b, c = a[:n], b[:n], c[:n]
		// x1 = 0
		v := r[0]
		s00 += v * a[n-1]
		s01 += v * a[0]
		s02 += v * a[1]
		s10 += v * b[n-1]
		s11 += v * b[0]
		s12 += v * b[1]
		s20 += v * c[n-1]
		s21 += v * c[0]
		s22 += v * c[1]
		x := 1
		for ; x+2 < n; x += 2 {
			u, v := r[x], r[x+1]
			a0, a1, a2, a3 := a[x-1], a[x], a[x+1], a[x+2]
			s00 += u*a0 + v*a1
			s01 += u*a1 + v*a2
			s02 += u*a2 + v*a3
			b0, b1, b2, b3 := b[x-1], b[x], b[x+1], b[x+2]
			s10 += u*b0 + v*b1
			s11 += u*b1 + v*b2
			s12 += u*b2 + v*b3
			c0, c1, c2, c3 := c[x-1], c[x], c[x+1], c[x+2]
			s20 += u*c0 + v*c1
			s21 += u*c1 + v*c2
			s22 += u*c2 + v*c3
		}
		for ; x < n-1; x++ {
			v := r[x]
			s00 += v * a[x-1]
			s01 += v * a[x]
			s02 += v * a[x+1]
			s10 += v * b[x-1]
			s11 += v * b[x]
			s12 += v * b[x+1]
			s20 += v * c[x-1]
			s21 += v * c[x]
			s22 += v * c[x+1]
		}
		v = r[n-1]
		s00 += v * a[n-2]
		s01 += v * a[n-1]
		s02 += v * a[0]
		s10 += v * b[n-2]
		s11 += v * b[n-1]
		s12 += v * b[0]
		s20 += v * c[n-2]
		s21 += v * c[n-1]
		s22 += v * c[0]
	}
	gw[0] += s00
	gw[1] += s01
	gw[2] += s02
	gw[3] += s10
	gw[4] += s11
	gw[5] += s12
	gw[6] += s20
	gw[7] += s21
	gw[8] += s22
}

// convPlaneGeneric handles any odd K and any L >= 1 by shifted-row
// updates: for each kernel entry, a row is added shifted by d = k1-h,
// periodic, as two contiguous pieces. With adjoint the kernel is rotated
// by 180 degrees.
func convPlaneGeneric[T Float](dst, src, w []T, K, L int, adjoint bool) {
	h := K / 2
	KK := K * K
	for x0 := 0; x0 < L; x0++ {
		d := dst[x0*L : x0*L+L]
		for k0 := 0; k0 < K; k0++ {
			r := wrap(x0+k0-h, L)
			s := src[r*L : r*L+L]
			for k1 := 0; k1 < K; k1++ {
				j := k0*K + k1
				if adjoint {
					j = KK - 1 - j
				}
				axpyShift(d, w[j], s, wrap(k1-h, L))
			}
		}
	}
}

// axpyShift adds a*s[(x+sh)%n] to d[x] for all x, 0 <= sh < n = len(d).
func axpyShift[T Float](d []T, a T, s []T, sh int) {
	n := len(d)
	s = s[:n]
	lo, hi := d[:n-sh], s[sh:]
	hi = hi[:len(lo)]
	for x := range lo {
		lo[x] += a * hi[x]
	}
	lo2, hi2 := d[n-sh:], s[:sh]
	hi2 = hi2[:len(lo2)]
	for x := range lo2 {
		lo2[x] += a * hi2[x]
	}
}

// dotShift returns sum_x g[x]*s[(x+sh)%n], 0 <= sh < n = len(g).
func dotShift[T Float](g, s []T, sh int) T {
	n := len(g)
	s = s[:n]
	var sum T
	lo, hi := g[:n-sh], s[sh:]
	hi = hi[:len(lo)]
	for x := range lo {
		sum += lo[x] * hi[x]
	}
	lo2, hi2 := g[n-sh:], s[:sh]
	hi2 = hi2[:len(lo2)]
	for x := range lo2 {
		sum += lo2[x] * hi2[x]
	}
	return sum
}

// convWeightGenericGrad is ConvWeightGrad for any odd K and any L >= 1.
func convWeightGenericGrad[T Float](gw, g, src []T, K, L int) {
	h := K / 2
	for x0 := 0; x0 < L; x0++ {
		r := g[x0*L : x0*L+L]
		for k0 := 0; k0 < K; k0++ {
			sr := wrap(x0+k0-h, L)
			s := src[sr*L : sr*L+L]
			for k1 := 0; k1 < K; k1++ {
				gw[k0*K+k1] += dotShift(r, s, wrap(k1-h, L))
			}
		}
	}
}

// ConvPlaneRef is the reference loop for ConvPlane.
func ConvPlaneRef[T Float](dst, src, w []T, K, L int) {
	h := K / 2
	for x0 := 0; x0 < L; x0++ {
		for x1 := 0; x1 < L; x1++ {
			for k0 := 0; k0 < K; k0++ {
				for k1 := 0; k1 < K; k1++ {
					y0, y1 := wrap(x0+k0-h, L), wrap(x1+k1-h, L)
					dst[x0*L+x1] += w[k0*K+k1] * src[y0*L+y1]
				}
			}
		}
	}
}

// ConvPlaneAdjointRef is the reference loop for ConvPlaneAdjoint, written as
// the scatter transpose of ConvPlaneRef.
func ConvPlaneAdjointRef[T Float](dst, src, w []T, K, L int) {
	h := K / 2
	for x0 := 0; x0 < L; x0++ {
		for x1 := 0; x1 < L; x1++ {
			for k0 := 0; k0 < K; k0++ {
				for k1 := 0; k1 < K; k1++ {
					y0, y1 := wrap(x0+k0-h, L), wrap(x1+k1-h, L)
					dst[y0*L+y1] += w[k0*K+k1] * src[x0*L+x1]
				}
			}
		}
	}
}

// ConvWeightGradRef is the reference loop for ConvWeightGrad.
func ConvWeightGradRef[T Float](gw, g, src []T, K, L int) {
	h := K / 2
	for x0 := 0; x0 < L; x0++ {
		for x1 := 0; x1 < L; x1++ {
			for k0 := 0; k0 < K; k0++ {
				for k1 := 0; k1 < K; k1++ {
					y0, y1 := wrap(x0+k0-h, L), wrap(x1+k1-h, L)
					gw[k0*K+k1] += g[x0*L+x1] * src[y0*L+y1]
				}
			}
		}
	}
}
