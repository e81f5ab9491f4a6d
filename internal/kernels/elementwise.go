package kernels

import "math"

// LeakySlope is the negative slope of the leaky ReLU, the PyTorch default.
const LeakySlope = 0.01

// Fill sets every element of dst to a.
func Fill[T Float](dst []T, a T) {
	for i := range dst {
		dst[i] = a
	}
}

// GatherTo sets dst[j] = src[idx[j]] for j < len(dst); len(idx) >= len(dst).
func GatherTo[T Float](dst, src []T, idx []int32) {
	idx = idx[:len(dst)]
	for j, k := range idx {
		dst[j] = src[k]
	}
}

// Sum returns the sum of the elements of x, in four interleaved partial
// sums (independent additions), then (s0 + s1) + (s2 + s3).
func Sum[T Float](x []T) T {
	var s0, s1, s2, s3 T
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		s0 += v[0]
		s1 += v[1]
		s2 += v[2]
		s3 += v[3]
	}
	for ; i < len(x); i++ {
		s0 += x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// LeakyReLUTo sets dst[i] = x[i] for x[i] > 0 and LeakySlope*x[i] otherwise.
// dst and x may be the same slice.
func LeakyReLUTo[T Float](dst, x []T) {
	x = x[:len(dst)]
	for i, v := range x {
		if v > 0 {
			dst[i] = v
		} else {
			dst[i] = LeakySlope * v
		}
	}
}

// LeakyReLUVJPTo sets gx[i] = gy[i] where y[i] > 0 and LeakySlope*gy[i]
// otherwise, given the output y of LeakyReLUTo (y > 0 exactly where its
// input is > 0). Any of the slices may be the same.
func LeakyReLUVJPTo[T Float](gx, gy, y []T) {
	gy, y = gy[:len(gx)], y[:len(gx)]
	for i := range gx {
		if y[i] > 0 {
			gx[i] = gy[i]
		} else {
			gx[i] = LeakySlope * gy[i]
		}
	}
}

// TanhTo sets dst[i] = tanh(x[i]). dst and x may be the same slice.
func TanhTo[T Float](dst, x []T) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = T(math.Tanh(float64(v)))
	}
}

// TanhVJPTo sets gx[i] = (1 - y[i]^2) gy[i], given the output y of TanhTo.
// Any of the slices may be the same.
func TanhVJPTo[T Float](gx, gy, y []T) {
	gy, y = gy[:len(gx)], y[:len(gx)]
	for i := range gx {
		gx[i] = (1 - y[i]*y[i]) * gy[i]
	}
}
