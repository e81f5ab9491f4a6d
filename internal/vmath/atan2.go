package vmath

import "math"

// Atan2: with a = max(|x|, |y|), b = min(|x|, |y|), the angle
// atan(b/a) in [0, pi/4] is atan(u) with u = b/a for 1.5151 b <= a (about
// b/a <= 0.66; the test does not round b/a, and is not fooled by
// subnormals) and pi/4 + atan(u) with u = (b - a)/(b + a) otherwise (b - a
// exact; both halved if a >= 2^1022, so that b + a does not overflow), and
// atan(u) = u + u z P(z)/Q(z), z = u^2, the rational function of Cephes
// (package math's xatan). The octant is then applied as
// k pi/4 + sign*atan(u) for an integer k in [0, 4], with pi/4 in two parts
// (the first of 50 bits, so k times it is exact), and the sign of y copied
// onto the result. Both-infinite and both-zero arguments take u = 0,
// which gives the angles of math.Atan2.

const (
	// atanSplit is about 1/0.66: b/a <= 0.66 is the range of Cephes'
	// rational function.
	atanSplit = 1.5151515151515151
	pio4Hi    = 0x1.921fb54442d18p-1 // 50 significant bits
	pio4Lo    = 0x1.1a62633145c07p-55
)

// atanP and atanQ are Cephes' coefficients (package math's xatan); Q has a
// leading coefficient 1.
var (
	atanP = [...]float64{
		-8.750608600031904122785e-01, -1.615753718733365076637e+01, -7.500855792314704667340e+01,
		-1.228866684490136173410e+02, -6.485021904942025371773e+01,
	}
	atanQ = [...]float64{
		+2.485846490142306297962e+01, +1.650270098316988542046e+02, +4.328810604912902668951e+02,
		+4.853903996359136964868e+02, +1.945506571482613964425e+02,
	}
)

// Atan2 sets dst[i] = math.Atan2(y[i], x[i]).
func Atan2(dst, y, x []float64) { atan2To(best, dst, y, x) }

func atan2To(lv level, dst, y, x []float64) {
	checkLen("Atan2", len(dst), len(y), len(x))
	done := 0
	if lv >= levelAVX2 {
		if done = len(dst) &^ 3; done > 0 {
			atan2AVX2(&dst[0], &y[0], &x[0], done)
		}
	}
	for i := done; i < len(dst); i++ {
		dst[i] = atan21(y[i], x[i])
	}
}

// atan21 is the reference of Atan2 for one element.
func atan21(y, x float64) float64 {
	ax, ay := math.Abs(x), math.Abs(y)
	a, b := ax, ay
	swap := ay > ax
	if swap {
		a, b = ay, ax
	}
	red := b*atanSplit > a
	num, den := b, a
	if red {
		bh, ah := b, a
		if a >= 0x1p1022 {
			bh, ah = 0.5*b, 0.5*a
		}
		num, den = bh-ah, bh+ah
	}
	u := num / den
	if math.IsInf(b, 1) {
		red, u = true, 0
	}
	if a == 0 {
		u = 0
	}
	z := u * u
	pz := atanP[0]
	for _, c := range atanP[1:] {
		pz = math.FMA(pz, z, c)
	}
	qz := z + atanQ[0]
	for _, c := range atanQ[1:] {
		qz = math.FMA(qz, z, c)
	}
	t := z * pz / qz
	th := math.FMA(u, t, u)
	k := 0.0
	if red {
		k = 1
	}
	if swap {
		k, th = 2-k, -th
	}
	if math.Signbit(x) {
		k, th = 4-k, -th
	}
	r := math.FMA(k, pio4Hi, math.FMA(k, pio4Lo, th))
	r = math.Float64frombits(math.Float64bits(r) | math.Float64bits(y)&(1<<63))
	if math.IsNaN(x) || math.IsNaN(y) {
		return x + y
	}
	return r
}
