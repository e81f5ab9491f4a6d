package vmath

import (
	"fmt"
	"math"
)

// Exp: x = k ln2 + r with k = round(x/ln2) and |r| <= ln2/2 (the product
// k ln2 subtracted in two parts by fused multiply-adds), exp(r) by its
// Taylor polynomial of degree 13 (remainder below 2^-57 relative), and
// 2^k applied as 2^k1 2^k2 with k1 = round(k/2), k2 = k - k1, so that
// both factors are normal and the one rounding of the last product gives
// the subnormal results correctly. x is first clamped to
// [expMin, expMax], which keeps k in range and sends the overflows to +Inf
// and the underflows to 0.

const (
	log2e = 0x1.71547652b82fep0 // 1/ln2
	ln2Hi = 0x1.62e42fefa39efp-1
	ln2Lo = 0x1.abc9e3b39803fp-56 // ln2 - ln2Hi
	// expMin and expMax clamp the argument: exp(expMin) is below half the
	// smallest subnormal and exp(expMax) above the largest float64.
	expMin = -746.0
	expMax = 710.0
	// expMagic is 1.5*2^52 + 1023: for an integer j in [-1022, 1023],
	// the bits of j + expMagic shifted left by 52 are those of 2^j.
	expMagic = 0x1.8p52 + 1023
)

// expC holds 1/n! for n = 13 down to 2, the Horner order.
var expC = [...]float64{
	0x1.6124613a86d09p-33, 0x1.1eed8eff8d898p-29, 0x1.ae64567f544e4p-26, 0x1.27e4fb7789f5cp-22,
	0x1.71de3a556c734p-19, 0x1.a01a01a01a01ap-16, 0x1.a01a01a01a01ap-13, 0x1.6c16c16c16c17p-10,
	0x1.1111111111111p-7, 0x1.5555555555555p-5, 0x1.5555555555555p-3, 0x1.0000000000000p-1,
}

// Exp sets dst[i] = e**x[i].
func Exp(dst, x []float64) { expTo(best, dst, x) }

func expTo(lv level, dst, x []float64) {
	checkLen("Exp", len(dst), len(x))
	done := 0
	if lv >= levelAVX2 {
		if done = len(dst) &^ 3; done > 0 {
			expAVX2(&dst[0], &x[0], done)
		}
	}
	for i := done; i < len(dst); i++ {
		dst[i] = exp1(x[i])
	}
}

// exp1 is the reference of Exp for one element.
func exp1(x float64) float64 {
	x = math.Min(math.Max(x, expMin), expMax)
	k := math.RoundToEven(x * log2e)
	r := math.FMA(-k, ln2Hi, x)
	r = math.FMA(-k, ln2Lo, r)
	p := expC[0]
	for _, c := range expC[1:] {
		p = math.FMA(p, r, c)
	}
	p = math.FMA(p, r, 1)
	p = math.FMA(p, r, 1)
	k1 := math.RoundToEven(0.5 * k)
	k2 := k - k1
	s1 := math.Float64frombits(math.Float64bits(k1+expMagic) << 52)
	s2 := math.Float64frombits(math.Float64bits(k2+expMagic) << 52)
	return p * s1 * s2
}

// Exp32 takes and returns float32 but computes in float64 lanes: the
// reduction of Exp (with one part of ln2: |k| <= 150 leaves r exact to
// 2^-53 relative), the Taylor polynomial of degree 8 (remainder below 2^-31
// relative) and 2^k as one factor (normal for these k), then one rounding
// to float32. The result is the correctly rounded exp(x) except within
// 2^-31 relative of a halfway point, so its error is below 0.51 ULP
// (float32 subnormal results are rounded twice, at most 1 ULP).

const (
	// exp32Min and exp32Max clamp the argument: exp(exp32Min) is below half
	// the smallest float32 subnormal and exp(exp32Max) above the largest
	// float32.
	exp32Min = -104.0
	exp32Max = 89.0
)

// exp32C holds 1/n! for n = 8 down to 2, the Horner order.
var exp32C = [...]float64{
	0x1.a01a01a01a01ap-16, 0x1.a01a01a01a01ap-13, 0x1.6c16c16c16c17p-10,
	0x1.1111111111111p-7, 0x1.5555555555555p-5, 0x1.5555555555555p-3, 0x1.0000000000000p-1,
}

// Exp32 sets dst[i] = e**x[i] for float32 slices.
func Exp32(dst, x []float32) { exp32To(best, dst, x) }

func exp32To(lv level, dst, x []float32) {
	checkLen("Exp32", len(dst), len(x))
	done := 0
	if lv >= levelAVX2 {
		if done = len(dst) &^ 3; done > 0 {
			exp32AVX2(&dst[0], &x[0], done)
		}
	}
	for i := done; i < len(dst); i++ {
		dst[i] = exp32One(x[i])
	}
}

// exp32One is the reference of Exp32 for one element.
func exp32One(x32 float32) float32 {
	x := math.Min(math.Max(float64(x32), exp32Min), exp32Max)
	k := math.RoundToEven(x * log2e)
	r := math.FMA(-k, ln2Hi, x)
	p := exp32C[0]
	for _, c := range exp32C[1:] {
		p = math.FMA(p, r, c)
	}
	p = math.FMA(p, r, 1)
	p = math.FMA(p, r, 1)
	s := math.Float64frombits(math.Float64bits(k+expMagic) << 52)
	return float32(p * s)
}

func checkLen(op string, n int, m ...int) {
	for _, k := range m {
		if k != n {
			panic(fmt.Sprintf("vmath: %s: slices of lengths %d and %d, want equal lengths", op, n, k))
		}
	}
}
