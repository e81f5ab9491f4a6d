package kernels

import (
	"fmt"
	"math"
	"unsafe"

	"latflow/internal/vmath"
)

// LeakySlope is the negative slope of the leaky ReLU, the PyTorch default.
const LeakySlope = 0.01

// Fill sets every element of dst to a.
func Fill[T Float](dst []T, a T) {
	for i := range dst {
		dst[i] = a
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

// AddRowSums adds to dst[i] the sum of row i of src, for len(dst) rows of
// n elements back to back (the bias gradient of a convolution layer from
// its output cotangent). Where the CPU has AVX-512 and n is a multiple of
// 64 (float32) or 32 (float64) it sums in assembly, in its own fixed order;
// otherwise each row is Sum.
func AddRowSums[T Float](dst, src []T, n int) { addRowSums(best, dst, src, n) }

// addRowSums is AddRowSums on the instruction set lv.
func addRowSums[T Float](lv isa, dst, src []T, n int) {
	rows := len(dst)
	if n < 0 || len(src) < rows*n {
		panic(fmt.Sprintf("kernels: AddRowSums: %d rows of %d, len(src)=%d", rows, n, len(src)))
	}
	if rows == 0 || n == 0 {
		return
	}
	var zero T
	if lv >= isaAVX512 {
		d, s := unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0])
		switch {
		case unsafe.Sizeof(zero) == 4 && n%64 == 0:
			addRowSumsF32AVX512((*float32)(d), (*float32)(s), rows, n)
			return
		case unsafe.Sizeof(zero) == 8 && n%32 == 0:
			addRowSumsF64AVX512((*float64)(d), (*float64)(s), rows, n)
			return
		}
	}
	for i := range dst {
		dst[i] += Sum(src[i*n : (i+1)*n])
	}
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

// TanhTo sets dst[i] = tanh(x[i]). dst and x may be the same slice. For
// float32 elements it is vmath.Tanh32 (vectorized, correctly rounded but
// within 2^-31 relative of halfway points), for float64 math.Tanh.
func TanhTo[T Float](dst, x []T) {
	x = x[:len(dst)]
	var zero T
	if unsafe.Sizeof(zero) == 4 && len(dst) > 0 {
		vmath.Tanh32(unsafe.Slice((*float32)(unsafe.Pointer(&dst[0])), len(dst)),
			unsafe.Slice((*float32)(unsafe.Pointer(&x[0])), len(x)))
		return
	}
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
