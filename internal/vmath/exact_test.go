package vmath

import (
	"math"
	"math/big"
)

// Exact references in math/big at exactPrec bits, to judge the disagreements
// between the functions and package math (which is itself off by more than
// an ULP in places: see TestMathReferenceErrors) and to measure errors in
// fractional ULPs.

const exactPrec = 320

func newF() *big.Float { return new(big.Float).SetPrec(exactPrec) }

func bf(x float64) *big.Float { return newF().SetFloat64(x) }

// atanhSeries returns sum_k z^(2k+1)/(2k+1) for |z| <= 1/3.
func atanhSeries(z *big.Float) *big.Float {
	z2 := newF().Mul(z, z)
	term := newF().Set(z)
	sum := newF().Set(z)
	eps := newF().SetMantExp(bf(1), -exactPrec-8)
	for k := int64(3); ; k += 2 {
		term.Mul(term, z2)
		t := newF().Quo(term, newF().SetInt64(k))
		sum.Add(sum, t)
		if t.Abs(t).Cmp(eps) < 0 {
			return sum
		}
	}
}

// atanSeries returns atan(t) for |t| <= 0.1 by its Taylor series.
func atanSeries(t *big.Float) *big.Float {
	t2 := newF().Mul(t, t)
	term := newF().Set(t)
	sum := newF().Set(t)
	eps := newF().SetMantExp(bf(1), -exactPrec-8)
	for k := int64(3); ; k += 2 {
		term.Mul(term, t2)
		term.Neg(term)
		q := newF().Quo(term, newF().SetInt64(k))
		sum.Add(sum, q)
		if q.Abs(q).Cmp(eps) < 0 || term.Sign() == 0 {
			return sum
		}
	}
}

var (
	// bigLn2 = 2 atanh(1/3).
	bigLn2 = func() *big.Float {
		s := atanhSeries(newF().Quo(bf(1), bf(3)))
		return s.Mul(s, bf(2))
	}()
	// bigPi = 16 atan(1/5) - 4 atan(1/239) (Machin), with atan(1/5) as
	// 2 atan(1/(5 + sqrt(26))) to stay within atanSeries' range.
	bigPi = func() *big.Float {
		s26 := newF().Sqrt(bf(26))
		a := atanSeries(newF().Quo(bf(1), s26.Add(s26, bf(5))))
		a.Mul(a, bf(32))
		b := atanSeries(newF().Quo(bf(1), bf(239)))
		b.Mul(b, bf(4))
		return a.Sub(a, b)
	}()
)

// exactExp returns e**x (nil for an overflow to +Inf).
func exactExp(x float64) *big.Float {
	if x > 710 {
		return nil
	}
	if x < -800 {
		return newF() // far below the subnormals: rounds to 0
	}
	n := math.RoundToEven(x / math.Ln2)
	r := newF().Sub(bf(x), newF().Mul(bf(n), bigLn2))
	term := bf(1)
	sum := bf(1)
	eps := newF().SetMantExp(bf(1), -exactPrec-8)
	for k := int64(1); ; k++ {
		term.Mul(term, r)
		term.Quo(term, newF().SetInt64(k))
		sum.Add(sum, term)
		if newF().Abs(term).Cmp(eps) < 0 {
			break
		}
	}
	return sum.SetMantExp(sum, int(n))
}

// exactSincos returns sin x and cos x for |x| <= SincosMax.
func exactSincos(x float64) (sin, cos *big.Float) {
	halfPi := newF().Quo(bigPi, bf(2))
	qf, _ := newF().Quo(bf(x), halfPi).Float64()
	q := math.RoundToEven(qf)
	r := newF().Sub(bf(x), newF().Mul(bf(q), halfPi))
	r2 := newF().Mul(r, r)
	s, c := newF().Set(r), bf(1)
	ts, tc := newF().Set(r), bf(1)
	eps := newF().SetMantExp(bf(1), -exactPrec-8)
	for k := int64(1); ; k++ {
		ts.Mul(ts, r2)
		ts.Quo(ts, newF().SetInt64(-(2*k)*(2*k+1)))
		s.Add(s, ts)
		tc.Mul(tc, r2)
		tc.Quo(tc, newF().SetInt64(-(2*k-1)*(2*k)))
		c.Add(c, tc)
		if newF().Abs(tc).Cmp(eps) < 0 && newF().Abs(ts).Cmp(eps) < 0 {
			break
		}
	}
	switch int64(q) & 3 {
	case 1:
		s, c = c, s.Neg(s)
	case 2:
		s, c = s.Neg(s), c.Neg(c)
	case 3:
		s, c = c.Neg(c), s
	}
	return s, c
}

// exactAtan returns atan(t) for t >= 0.
func exactAtan(t *big.Float) *big.Float {
	if t.Cmp(bf(1)) > 0 {
		a := exactAtan(newF().Quo(bf(1), t))
		return a.Sub(newF().Quo(bigPi, bf(2)), a)
	}
	// Three halvings: atan(t) = 2 atan(t/(1 + sqrt(1 + t^2))).
	for range 3 {
		d := newF().Sqrt(newF().Add(bf(1), newF().Mul(t, t)))
		t = newF().Quo(t, d.Add(d, bf(1)))
	}
	a := atanSeries(t)
	return a.Mul(a, bf(8))
}

// exactAtan2 returns atan2(y, x) for finite non-zero x and y.
func exactAtan2(y, x float64) *big.Float {
	a := exactAtan(newF().Quo(bf(math.Abs(y)), bf(math.Abs(x))))
	if x < 0 {
		a.Sub(bigPi, a)
	}
	if y < 0 {
		a.Neg(a)
	}
	return a
}

// exactLog returns log x for finite x > 0.
func exactLog(x float64) *big.Float {
	m := newF()
	e := bf(x).MantExp(m) // x = m 2^e, m in [0.5, 1)
	if m.Cmp(bf(math.Sqrt2/2)) < 0 {
		m.Mul(m, bf(2))
		e--
	}
	z := newF().Quo(newF().Sub(m, bf(1)), newF().Add(m, bf(1)))
	l := atanhSeries(z)
	l.Mul(l, bf(2))
	return l.Add(l, newF().Mul(bf(float64(e)), bigLn2))
}

// ulpErr returns |got - exact| in units of the last place of exact rounded
// to float64 (subnormal spacing below 2^-1022); exact == nil means +Inf.
func ulpErr(got float64, exact *big.Float) float64 {
	if exact == nil || exact.IsInf() {
		if math.IsInf(got, 1) {
			return 0
		}
		return math.Inf(1)
	}
	r, _ := exact.Float64()
	if math.IsInf(r, 0) || math.IsInf(got, 0) {
		if r == got {
			return 0
		}
		return math.Inf(1)
	}
	exp := -1074
	if exact.Sign() != 0 {
		if e := exact.MantExp(nil) - 53; e > exp {
			exp = e
		}
	}
	d := newF().Sub(bf(got), exact)
	d.SetMantExp(d, -exp)
	v, _ := d.Float64()
	return math.Abs(v)
}

// ulpErr32 is ulpErr for a float32 result.
func ulpErr32(got float32, exact *big.Float) float64 {
	if exact == nil {
		if math.IsInf(float64(got), 1) {
			return 0
		}
		return math.Inf(1)
	}
	r, _ := exact.Float32()
	if math.IsInf(float64(r), 0) || math.IsInf(float64(got), 0) {
		if r == got {
			return 0
		}
		return math.Inf(1)
	}
	exp := -149
	if exact.Sign() != 0 {
		if e := exact.MantExp(nil) - 24; e > exp {
			exp = e
		}
	}
	d := newF().Sub(bf(float64(got)), exact)
	d.SetMantExp(d, -exp)
	v, _ := d.Float64()
	return math.Abs(v)
}

// exactTanh returns tanh x for finite x, as (e^2x - 1)/(e^2x + 1) at
// exactPrec bits (nil never: |x| > 300 gives +-1 to far beyond float64).
func exactTanh(x float64) *big.Float {
	if math.Abs(x) > 300 {
		return bf(math.Copysign(1, x))
	}
	t := exactExp(2 * x)
	num := newF().Sub(t, bf(1))
	return num.Quo(num, newF().Add(t, bf(1)))
}
