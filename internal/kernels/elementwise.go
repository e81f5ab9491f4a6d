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

// Sum returns the sum of the elements of x.
func Sum[T Float](x []T) T {
	var s T
	for _, v := range x {
		s += v
	}
	return s
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
