package vmath

import "math"

// Log: x = 2^k m with m in [sqrt(2)/2, sqrt(2)) (subnormal x scaled by
// 2^52 first), f = m - 1 exact, and log(1 + f) by the method of fdlibm's
// e_log.c (as package math): s = f/(2 + f), R(s^2) a minimax polynomial,
// log x = k ln2Hi - ((f^2/2 - (s (f^2/2 + R) + k ln2Lo)) - f), with ln2Hi
// of 32 bits so that k ln2Hi is exact. Special values (0, negative, +Inf,
// NaN) are set at the end.

const (
	logLn2Hi = 6.93147180369123816490e-01 // 0x3fe62e42fee00000
	logLn2Lo = 1.90821492927058770002e-10
	sqrt2    = 0x1.6a09e667f3bcdp0
	// twoP52 scales subnormals; exp52 is 2^52 as the magic of the
	// exponent conversion (bits 0x4330000000000000 | e = 2^52 + e).
	twoP52 = 0x1p52
)

// logL are fdlibm's Lg1..Lg7.
var logL = [...]float64{
	6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
	2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
	1.479819860511658591e-01,
}

// Log sets dst[i] = math.Log(x[i]).
func Log(dst, x []float64) { logTo(best, dst, x) }

func logTo(lv level, dst, x []float64) {
	checkLen("Log", len(dst), len(x))
	done := 0
	if lv >= levelAVX2 {
		if done = len(dst) &^ 3; done > 0 {
			logAVX2(&dst[0], &x[0], done)
		}
	}
	for i := done; i < len(dst); i++ {
		dst[i] = log1(x[i])
	}
}

// log1 is the reference of Log for one element.
func log1(x float64) float64 {
	xs, adj := x, 0.0
	if x < 0x1p-1022 {
		xs, adj = x*twoP52, 52
	}
	b := math.Float64bits(xs)
	m := math.Float64frombits(b&(1<<52-1) | 0x3ff0000000000000)
	k := math.Float64frombits(b>>52|0x4330000000000000) - (twoP52 + 1023) - adj
	if m > sqrt2 {
		m, k = 0.5*m, k+1
	}
	f := m - 1
	s := f / (2 + f)
	s2 := s * s
	s4 := s2 * s2
	t1 := float64(s2 * math.FMA(s4, math.FMA(s4, math.FMA(s4, logL[6], logL[4]), logL[2]), logL[0]))
	t2 := float64(s4 * math.FMA(s4, math.FMA(s4, logL[5], logL[3]), logL[1]))
	R := t1 + t2
	hfsq := float64(0.5 * f * f)
	r := float64(k*logLn2Hi) - ((hfsq - math.FMA(s, hfsq+R, float64(k*logLn2Lo))) - f)
	switch {
	case x == 0:
		return math.Inf(-1)
	case x < 0:
		return math.NaN()
	case math.IsInf(x, 1):
		return x
	case x != x:
		return x
	}
	return r
}
