package vmath

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// Maximum errors in ULP (fractional, against the exact value computed in
// math/big) of each function over its test inputs: the bounds of the table
// in doc.go. Every input is also compared with package math; where they
// differ by more than one ULP, and on a sample of the others, the exact
// value decides.
const (
	maxULPExp    = 1
	maxULPExp32  = 1
	maxULPSincos = 1
	maxULPAtan2  = 2
	maxULPLog    = 1
	maxULPTanh32 = 1
)

// exactSamples is about the number of inputs per function checked against
// the exact value besides the disagreements with package math.
const exactSamples = 4000

// ulp64 returns the distance between a and b in representable float64
// values (0 if both are NaN, +Inf if only one is, +0 and -0 at distance 0).
func ulp64(a, b float64) float64 {
	switch {
	case math.IsNaN(a) && math.IsNaN(b):
		return 0
	case math.IsNaN(a) || math.IsNaN(b):
		return math.Inf(1)
	case a == b:
		return 0
	}
	return math.Abs(float64(ordered64(a) - ordered64(b)))
}

// ordered64 maps float64 bits to integers in the order of the values.
func ordered64(x float64) int64 {
	b := int64(math.Float64bits(x))
	if b < 0 {
		return -(b & math.MaxInt64)
	}
	return b
}

func ulp32(a, b float32) float64 {
	switch {
	case a != a && b != b:
		return 0
	case a != a || b != b:
		return math.Inf(1)
	case a == b:
		return 0
	}
	oa, ob := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if oa&(1<<31) != 0 {
		oa = -(oa & (1<<31 - 1))
	}
	if ob&(1<<31) != 0 {
		ob = -(ob & (1<<31 - 1))
	}
	return math.Abs(float64(oa - ob))
}

// specials are the special and boundary float64 values.
var specials = []float64{
	0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(),
	math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 0x1p-1022, -0x1p-1022,
	math.MaxFloat64, -math.MaxFloat64, 1, -1, 0.5, 2, math.Pi, -math.Pi, math.Pi / 2, math.Pi / 4,
	709.782712893384, 709.7827128933841, -708.3964185322641, -745.1332191019411, -745.1332191019412,
	-746, 710, SincosMax, -SincosMax, math.Nextafter(SincosMax, math.Inf(1)), 0x1p-30, 1e-300,
}

// binades returns, for every binade of finite float64 values (exponents
// -1074 to 1023, both signs), perBinade values with random mantissas,
// then the specials: the whole input range.
func binades(rng *rand.Rand, perBinade int) []float64 {
	var x []float64
	for e := -1074; e <= 1023; e++ {
		for range perBinade {
			v := math.Ldexp(1+rng.Float64(), e)
			if e < -1022 {
				v = math.Ldexp(1, e) * float64(1+rng.IntN(4)) // subnormals
			}
			x = append(x, v, -v)
		}
	}
	return append(x, specials...)
}

// uniform returns n values uniform in [lo, hi].
func uniform(rng *rand.Rand, n int, lo, hi float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = lo + (hi-lo)*rng.Float64()
	}
	return x
}

// inputs1 are the arguments of the one-argument float64 functions: the
// whole range and a dense sweep of [lo, hi], the range the layers use.
func inputs1(lo, hi float64) []float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	return append(binades(rng, 16), uniform(rng, 1<<18, lo, hi)...)
}

// errStats are the errors of one function over its inputs.
type errStats struct {
	name string
	// exact is the largest error against the exact value, mathExact that
	// of package math at the same inputs, at the argument at.
	exact, mathExact float64
	at               []float64
	// vsMath is the largest distance to package math in ULP.
	vsMath float64
	// checked counts the inputs compared with the exact value.
	checked int
}

func (s *errStats) String() string {
	return fmt.Sprintf("%-10s max error %.3f ULP (exact value, %d inputs; worst at %v), max distance to package math %g ULP, package math's max error %.3g ULP",
		s.name, s.exact, s.checked, s.at, s.vsMath, s.mathExact)
}

// judge records one result got with package math's result m at args; exact
// returns the exact value (nil: +Inf) and false where it has none (special
// arguments: there got must equal m, sign of zero included).
func (s *errStats) judge(t *testing.T, i, every int, got, m float64, exact func() (*big.Float, bool), args ...float64) {
	t.Helper()
	d := ulp64(got, m)
	s.vsMath = max(s.vsMath, d)
	if d <= 1 && i%every != 0 {
		return
	}
	e, ok := exact()
	if !ok {
		if d != 0 || math.Signbit(got) != math.Signbit(m) {
			t.Errorf("%s%v: got %v, want package math's %v", s.name, args, got, m)
		}
		return
	}
	s.checked++
	if err := ulpErr(got, e); err > s.exact {
		s.exact, s.at = err, args
	}
	s.mathExact = max(s.mathExact, ulpErr(m, e))
}

// sameBits reports whether a and b have the same bits, or are both NaN.
func sameBits(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
}

// check1 checks a one-argument function: every level gives the bits of the
// reference ref, and ref is within maxULP of the exact value.
func check1(t *testing.T, name string, x []float64, maxULP float64, fn func(lv level, dst, x []float64),
	ref, want func(float64) float64, exact func(float64) (*big.Float, bool)) {
	t.Helper()
	s := &errStats{name: name}
	every := max(1, len(x)/exactSamples)
	for i, v := range x {
		s.judge(t, i, every, ref(v), want(v), func() (*big.Float, bool) { return exact(v) }, v)
	}
	if s.exact > maxULP {
		t.Errorf("%s: got max error %.3f ULP at x=%v, want <= %g", name, s.exact, s.at, maxULP)
	}
	t.Log(s)
	for _, lv := range levels() {
		dst := make([]float64, len(x))
		fn(lv, dst, x)
		for i, v := range x {
			if r := ref(v); !sameBits(dst[i], r) {
				t.Errorf("%s/%v(%v): got %v, want the reference's %v", name, lv, v, dst[i], r)
				break
			}
		}
	}
}

func finite(x float64) bool { return !math.IsInf(x, 0) && !math.IsNaN(x) }

func TestExp(t *testing.T) {
	exact := func(x float64) (*big.Float, bool) { return exactExp(x), finite(x) }
	check1(t, "Exp", inputs1(-30, 30), maxULPExp, expTo, exp1, math.Exp, exact)
}

func TestLog(t *testing.T) {
	x := inputs1(0, 8)
	rng := rand.New(rand.NewPCG(3, 4))
	x = append(x, uniform(rng, 1<<16, 0.5, 2)...) // around 1
	exact := func(x float64) (*big.Float, bool) {
		if !finite(x) || x <= 0 {
			return nil, false
		}
		return exactLog(x), true
	}
	check1(t, "Log", x, maxULPLog, logTo, log1, math.Log, exact)
}

func TestSincos(t *testing.T) {
	x := inputs1(-4*math.Pi, 4*math.Pi)
	rng := rand.New(rand.NewPCG(5, 6))
	x = append(x, uniform(rng, 1<<16, -SincosMax, SincosMax)...)
	sinOf := func(lv level, dst, x []float64) { sincosTo(lv, dst, make([]float64, len(x)), x) }
	cosOf := func(lv level, dst, x []float64) { sincosTo(lv, make([]float64, len(x)), dst, x) }
	s1 := func(x float64) float64 { s, _ := sincos1(x); return s }
	c1 := func(x float64) float64 { _, c := sincos1(x); return c }
	// Beyond SincosMax the functions are package math's.
	exactSin := func(x float64) (*big.Float, bool) {
		if !(math.Abs(x) <= SincosMax) {
			return nil, false
		}
		s, _ := exactSincos(x)
		return s, true
	}
	exactCos := func(x float64) (*big.Float, bool) {
		if !(math.Abs(x) <= SincosMax) {
			return nil, false
		}
		_, c := exactSincos(x)
		return c, true
	}
	check1(t, "Sincos/sin", x, maxULPSincos, sinOf, s1, math.Sin, exactSin)
	check1(t, "Sincos/cos", x, maxULPSincos, cosOf, c1, math.Cos, exactCos)
}

func TestExp32(t *testing.T) {
	// Every 1021st float32 bit pattern: both signs, all binades.
	var x []float32
	for b := uint64(0); b < 1<<32; b += 1021 {
		x = append(x, math.Float32frombits(uint32(b)))
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 1 << 18 {
		x = append(x, float32(-12+24*rng.Float64()))
	}
	x = append(x, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 88.72283, 88.72284, -103.97, -87.33655)
	s := &errStats{name: "Exp32"}
	every := max(1, len(x)/exactSamples)
	for i, v := range x {
		got, m := exp32One(v), float32(math.Exp(float64(v)))
		d := ulp32(got, m)
		s.vsMath = max(s.vsMath, d)
		if d == 0 && i%every != 0 {
			continue
		}
		if !finite(float64(v)) {
			if d != 0 {
				t.Errorf("Exp32(%v): got %v, want %v", v, got, m)
			}
			continue
		}
		e := exactExp(float64(v))
		s.checked++
		if err := ulpErr32(got, e); err > s.exact {
			s.exact, s.at = err, []float64{float64(v)}
		}
		s.mathExact = max(s.mathExact, ulpErr32(m, e))
	}
	if s.exact > maxULPExp32 {
		t.Errorf("Exp32: got max error %.3f ULP at x=%v, want <= %d", s.exact, s.at, maxULPExp32)
	}
	t.Log(s)
	for _, lv := range levels() {
		dst := make([]float32, len(x))
		exp32To(lv, dst, x)
		for i, v := range x {
			if r := exp32One(v); math.Float32bits(dst[i]) != math.Float32bits(r) && !(r != r && dst[i] != dst[i]) {
				t.Errorf("Exp32/%v(%v): got %v, want the reference's %v", lv, v, dst[i], r)
				break
			}
		}
	}
}

func TestAtan2(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	all := binades(rng, 2)
	var y, x []float64
	// Random pairs over the whole range, pairs within a few binades of
	// each other (where the quotient is neither tiny nor huge), the
	// specials against each other, and the layers' use: atan2(e sin(v/2),
	// cos(v/2)) with e = exp(s).
	for range 1 << 18 {
		y = append(y, all[rng.IntN(len(all))])
		x = append(x, all[rng.IntN(len(all))])
		v := math.Ldexp(1+rng.Float64(), rng.IntN(200)-100)
		y = append(y, v*(1+rng.Float64()))
		x = append(x, math.Copysign(math.Ldexp(v, rng.IntN(5)-2), rng.Float64()-0.5))
	}
	for _, a := range specials {
		for _, b := range specials {
			y, x = append(y, a), append(x, b)
		}
	}
	for range 1 << 18 {
		s, v := -10+20*rng.Float64(), 2*math.Pi*rng.Float64()
		n, c := math.Sincos(0.5 * v)
		y, x = append(y, math.Exp(s)*n), append(x, c)
	}
	st := &errStats{name: "Atan2"}
	every := max(1, len(x)/exactSamples)
	for i := range x {
		a, b := y[i], x[i]
		exact := func() (*big.Float, bool) {
			if !finite(a) || !finite(b) || a == 0 || b == 0 {
				return nil, false
			}
			return exactAtan2(a, b), true
		}
		st.judge(t, i, every, atan21(a, b), math.Atan2(a, b), exact, a, b)
	}
	if st.exact > maxULPAtan2 {
		t.Errorf("Atan2: got max error %.3f ULP at (y, x) = %v, want <= %d", st.exact, st.at, maxULPAtan2)
	}
	t.Log(st)
	for _, lv := range levels() {
		dst := make([]float64, len(x))
		atan2To(lv, dst, y, x)
		for i := range x {
			if r := atan21(y[i], x[i]); !sameBits(dst[i], r) {
				t.Errorf("Atan2/%v(%v, %v): got %v, want the reference's %v", lv, y[i], x[i], dst[i], r)
				break
			}
		}
	}
}

func TestTanh32(t *testing.T) {
	var x []float32
	for b := uint64(0); b < 1<<32; b += 1021 {
		x = append(x, math.Float32frombits(uint32(b)))
	}
	rng := rand.New(rand.NewPCG(7, 9))
	for range 1 << 18 {
		x = append(x, float32(-6+12*rng.Float64()))
	}
	x = append(x, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 0, float32(math.Copysign(0, -1)),
		0x1p-12, -0x1p-12, 0x1.fffffep-13, 9.01, 20, 21)
	s := &errStats{name: "Tanh32"}
	every := max(1, len(x)/exactSamples)
	for i, v := range x {
		got, m := tanh32One(v), float32(math.Tanh(float64(v)))
		d := ulp32(got, m)
		s.vsMath = max(s.vsMath, d)
		if v == 0 && math.Signbit(float64(got)) != math.Signbit(float64(v)) {
			t.Errorf("Tanh32(%v): got %v, want the sign of zero kept", v, got)
		}
		if d == 0 && i%every != 0 {
			continue
		}
		if !finite(float64(v)) {
			if d != 0 {
				t.Errorf("Tanh32(%v): got %v, want %v", v, got, m)
			}
			continue
		}
		e := exactTanh(float64(v))
		s.checked++
		if err := ulpErr32(got, e); err > s.exact {
			s.exact, s.at = err, []float64{float64(v)}
		}
		s.mathExact = max(s.mathExact, ulpErr32(m, e))
	}
	if s.exact > maxULPTanh32 {
		t.Errorf("Tanh32: got max error %.3f ULP at x=%v, want <= %d", s.exact, s.at, maxULPTanh32)
	}
	t.Log(s)
	for _, lv := range levels() {
		dst := make([]float32, len(x))
		tanh32To(lv, dst, x)
		for i, v := range x {
			if r := tanh32One(v); math.Float32bits(dst[i]) != math.Float32bits(r) && !(r != r && dst[i] != dst[i]) {
				t.Errorf("Tanh32/%v(%v): got %v, want the reference's %v", lv, v, dst[i], r)
				break
			}
		}
	}
}

// TestMathReferenceErrors records where package math itself is off by more
// than an ULP, so that the tests above judge those inputs by the exact
// value (found while writing them; Go 1.26 on amd64).
func TestMathReferenceErrors(t *testing.T) {
	for _, c := range []struct {
		name      string
		got       float64
		exact     *big.Float
		wantAbove float64
	}{
		// math.Log's amd64 assembly treats subnormals as 2^-1023 m.
		{"Log(5e-324)", math.Log(5e-324), exactLog(5e-324), 1e10},
		// math.Atan2 loses the sign of y when y/x underflows: +pi for -pi.
		{"Atan2(-1e-108, -1e227)", math.Atan2(-1e-108, -1e227), exactAtan2(-1e-108, -1e227), 1e10},
		// math.Sin reduces by pi/4 in 33-bit parts: sin(pi) is 7 ULP off.
		{"Sin(pi)", math.Sin(math.Pi), func() *big.Float { s, _ := exactSincos(math.Pi); return s }(), 2},
	} {
		if e := ulpErr(c.got, c.exact); e < c.wantAbove {
			t.Logf("%s: package math's error is now %.3g ULP (fixed upstream?)", c.name, e)
		}
	}
	if got, ok := exactExp(709.782712893384), math.Exp(709.782712893384); got == nil || !math.IsInf(ok, 1) {
		t.Logf("Exp(709.782712893384): package math now agrees with the exact value")
	}
}

// TestTails checks every length from 0 to 13 at every level (the assembly
// does multiples of 4, the reference the rest) and the aliasing dst = x.
func TestTails(t *testing.T) {
	for _, lv := range levels() {
		for n := 0; n <= 13; n++ {
			x := uniform(rand.New(rand.NewPCG(uint64(n), 11)), n, -3, 3)
			d := append([]float64(nil), x...)
			expTo(lv, d, d)
			for i, v := range x {
				if d[i] != exp1(v) {
					t.Errorf("%v/n=%d: Exp in place: element %d: got %v, want %v", lv, n, i, d[i], exp1(v))
				}
			}
		}
	}
}

func TestLengthMismatchPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || fmt.Sprint(r)[:6] != "vmath:" {
			t.Errorf("got panic %v, want one prefixed vmath:", r)
		}
	}()
	Exp(make([]float64, 3), make([]float64, 4))
}

func benchLevels(b *testing.B, name string, fn func(lv level, n int) func()) {
	for _, lv := range levels() {
		b.Run(fmt.Sprintf("%s/%v/n=384", name, lv), func(b *testing.B) {
			f := fn(lv, 384)
			for b.Loop() {
				f()
			}
			b.ReportMetric(float64(b.N*384)/b.Elapsed().Seconds()/1e6, "Melem/s")
		})
	}
}

// BenchmarkVmath compares each function at every level with package math
// on 384 elements (the mixture scales of one U(1) layer at L = 16).
func BenchmarkVmath(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, y, d, d2 := uniform(rng, 384, -3, 3), uniform(rng, 384, 0, 3), make([]float64, 384), make([]float64, 384)
	x32, d32 := make([]float32, 384), make([]float32, 384)
	for i, v := range x {
		x32[i] = float32(v)
	}
	b.Run("Exp/math/n=384", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x {
				d[i] = math.Exp(v)
			}
		}
	})
	benchLevels(b, "Exp", func(lv level, n int) func() { return func() { expTo(lv, d, x) } })
	benchLevels(b, "Exp32", func(lv level, n int) func() { return func() { exp32To(lv, d32, x32) } })
	b.Run("Tanh32/math/n=384", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x32 {
				d32[i] = float32(math.Tanh(float64(v)))
			}
		}
	})
	benchLevels(b, "Tanh32", func(lv level, n int) func() { return func() { tanh32To(lv, d32, x32) } })
	b.Run("Sincos/math/n=384", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x {
				d[i], d2[i] = math.Sincos(v)
			}
		}
	})
	benchLevels(b, "Sincos", func(lv level, n int) func() { return func() { sincosTo(lv, d, d2, x) } })
	b.Run("Atan2/math/n=384", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x {
				d[i] = math.Atan2(y[i], v)
			}
		}
	})
	benchLevels(b, "Atan2", func(lv level, n int) func() { return func() { atan2To(lv, d, y, x) } })
	b.Run("Log/math/n=384", func(b *testing.B) {
		for b.Loop() {
			for i, v := range y {
				d[i] = math.Log(v)
			}
		}
	})
	benchLevels(b, "Log", func(lv level, n int) func() { return func() { logTo(lv, d, y) } })
}
