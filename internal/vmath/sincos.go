package vmath

import "math"

// Sincos: x = q pi/2 + r with q = round(2x/pi) and |r| <= pi/4 (about),
// pi/2 in three parts of 53 bits subtracted by fused multiply-adds, the
// first exactly (x - q pio2A has at most 53 significant bits), and r kept
// as rh + rl, rl the rounding error of rh: where sin or cos of x has a
// smaller binade than r, an error of half an ULP of r would be most of an
// ULP of the result. sin and cos of rh + rl are the kernels of fdlibm
// (k_sin.c, k_cos.c) with the minimax polynomials of Cephes on
// [-pi/4, pi/4] (those of package math):
//
//	sin = rh - ((z (rl/2 - v S(z)) - rl) - v S1),  z = rh^2, v = z rh,
//	cos = w + (((1 - w) - z/2) + (z^2 C(z) - rh rl)),  w = 1 - z/2,
//
// S1 = -1/6 the first sine coefficient, S and C the others. The quadrant
// q mod 4 is applied by swapping and negating; q is formed by adding and
// subtracting 1.5*2^52, which rounds to even and gives +0, not -0, for
// q = 0, so that sin(-0) = -0.

// SincosMax bounds the arguments that Sincos reduces itself; larger ones,
// infinities and NaN go to math.Sincos (an element at a time, so a slice
// with one such element still runs vectorized).
const SincosMax = 0x1p29

const (
	twoOverPi = 0x1.45f306dc9c883p-1
	pio2A     = 0x1.921fb54442d18p0
	pio2B     = 0x1.1a62633145c07p-54
	pio2C     = -0x1.f1976b7ed8fbcp-110
	// roundMagic is 1.5*2^52: for |v| < 2^51, v + roundMagic rounds v to
	// an integer j (to even) whose two's complement is in the low bits.
	roundMagic = 0x1.8p52
)

// sinC and cosC are the coefficients of sin r = r + r z S(z) and
// cos r = 1 - z/2 + z^2 C(z), z = r^2 (Cephes sin.c, as in package math).
var (
	sinC = [...]float64{
		1.58962301576546568060e-10, -2.50507477628578072866e-8, 2.75573136213857245213e-6,
		-1.98412698295895385996e-4, 8.33333333332211858878e-3, -1.66666666666666307295e-1,
	}
	cosC = [...]float64{
		-1.13585365213876817300e-11, 2.08757008419747316778e-9, -2.75573141792967388112e-7,
		2.48015872888517045348e-5, -1.38888888888730564116e-3, 4.16666666666665929218e-2,
	}
)

// Sincos sets sin[i], cos[i] = math.Sincos(x[i]).
func Sincos(sin, cos, x []float64) { sincosTo(best, sin, cos, x) }

func sincosTo(lv level, sin, cos, x []float64) {
	checkLen("Sincos", len(x), len(sin), len(cos))
	done := 0
	if lv >= levelAVX2 {
		if done = len(x) &^ 3; done > 0 {
			if sincosAVX2(&sin[0], &cos[0], &x[0], done) {
				// Some argument is out of the reduction's range.
				for i, v := range x[:done] {
					if !(math.Abs(v) <= SincosMax) {
						sin[i], cos[i] = math.Sincos(v)
					}
				}
			}
		}
	}
	for i := done; i < len(x); i++ {
		sin[i], cos[i] = sincos1(x[i])
	}
}

// sincos1 is the reference of Sincos for one element.
func sincos1(x float64) (sin, cos float64) {
	if !(math.Abs(x) <= SincosMax) {
		return math.Sincos(x)
	}
	t := float64(x*twoOverPi) + roundMagic // a conversion: no fusion
	q := t - roundMagic
	r1 := math.FMA(-q, pio2A, x)
	rh := math.FMA(-q, pio2B, r1)
	rl := math.FMA(-q, pio2B, r1-rh)
	rl = math.FMA(-q, pio2C, rl)
	z := rh * rh
	ps := sinC[0]
	pc := cosC[0]
	for i := 1; i < len(sinC)-1; i++ {
		ps = math.FMA(ps, z, sinC[i])
		pc = math.FMA(pc, z, cosC[i])
	}
	pc = math.FMA(pc, z, cosC[len(cosC)-1])
	v := z * rh
	a := math.FMA(-v, ps, 0.5*rl)
	b := math.FMA(z, a, -rl)
	s := rh - math.FMA(-v, sinC[len(sinC)-1], b)
	hz := float64(0.5 * z) // a conversion: no fusion into 1 - hz
	w := 1 - hz
	u := math.FMA(z*z, pc, (1-w)-hz)
	c := w + math.FMA(-rh, rl, u)
	qb := math.Float64bits(t)
	if qb&1 != 0 {
		s, c = c, s
	}
	s = math.Float64frombits(math.Float64bits(s) ^ (qb&2)<<62)
	c = math.Float64frombits(math.Float64bits(c) ^ ((qb+1)&2)<<62)
	return s, c
}
