package vmath

import "math"

// Tanh32 takes and returns float32 and computes in float64 lanes:
// tanh x = sign(x) (t - 1)/(t + 1) with t = exp(2 min(|x|, 20)) by the
// reduction and polynomial of Exp (2|x| <= 40, so 2^k is one normal
// factor), then one rounding to float32; |x| < 2^-12 returns x, whose
// error x^2/3 is below a third of an ULP. t - 1 loses no accuracy that
// matters for float32: t's error is 2^-52 absolute against t - 1 >= 2^-11.

// Tanh32 sets dst[i] = tanh(x[i]) for float32 slices.
func Tanh32(dst, x []float32) { tanh32To(best, dst, x) }

func tanh32To(lv level, dst, x []float32) {
	checkLen("Tanh32", len(dst), len(x))
	done := 0
	if lv >= levelAVX2 {
		if done = len(dst) &^ 3; done > 0 {
			tanh32AVX2(&dst[0], &x[0], done)
		}
	}
	for i := done; i < len(dst); i++ {
		dst[i] = tanh32One(x[i])
	}
}

// tanh32One is the reference of Tanh32 for one element.
func tanh32One(x32 float32) float32 {
	x := float64(x32)
	ax := math.Abs(x)
	y := 2 * math.Min(ax, 20)
	k := math.RoundToEven(y * log2e)
	r := math.FMA(-k, ln2Hi, y)
	r = math.FMA(-k, ln2Lo, r)
	p := expC[0]
	for _, c := range expC[1:] {
		p = math.FMA(p, r, c)
	}
	p = math.FMA(p, r, 1)
	p = math.FMA(p, r, 1)
	t := p * math.Float64frombits(math.Float64bits(k+expMagic)<<52)
	v := (t - 1) / (t + 1)
	v = math.Float64frombits(math.Float64bits(v) | math.Float64bits(x)&(1<<63))
	if ax < 0x1p-12 {
		v = x
	}
	return float32(v)
}
