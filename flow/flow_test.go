package flow

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

const (
	// flowFDTol is the tolerance of flow-level derivatives (fast-path
	// score, Backward) against central finite differences, relative to the
	// largest reference entry (at least 1).
	flowFDTol = 1e-6
	// flowFloat32Tol is the tolerance of a float32 flow against the float64
	// flow with the same parameters, relative to the largest |x| or |log q|:
	// 16 layers of float32 arithmetic, ~1e-7 each, amplified by the layers.
	flowFloat32Tol = 1e-4
)

func TestSampleScoreFD(t *testing.T) {
	for _, L := range []int{4, 6} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			f := newTestPhi4Flow(t, 21, L, 16)
			const B = 3
			x := make([]float64, B*f.Size)
			s := make([]float64, B*f.Size)
			logq := make([]float64, B)
			f.SampleScore(rand.New(rand.NewPCG(21, 1)), x, s, logq, 2)
			one := make([]float64, 1)
			logProb := func(xi []float64) float64 {
				if err := f.LogProb(one, xi, 1); err != nil {
					t.Fatal(err)
				}
				return one[0]
			}
			for i := 0; i < B; i++ {
				xi, si := x[i*f.Size:(i+1)*f.Size], s[i*f.Size:(i+1)*f.Size]
				want := jacGradFD(logProb, xi, nil)
				e := jacMaxRel(si, want, nil, 1)
				if e > flowFDTol {
					t.Errorf("sample %d: d log q/dx: got max relative error %.3g, want < %g", i, e, flowFDTol)
				}
				t.Logf("sample %d: max relative error %.3g", i, e)
			}
		})
	}
}

func TestFlowBackwardFD(t *testing.T) {
	const L, layers, B = 4, 4, 3
	f := newTestPhi4Flow(t, 22, L, layers)
	rng := rand.New(rand.NewPCG(22, 1))
	n := B * f.Size
	z := jacNormal(rng, n, 1)
	gx := jacNormal(rng, n, 1)
	glogq := jacNormal(rng, B, 1)
	p := f.NewPass(B)
	x, logq := make([]float64, n), make([]float64, B)
	// loss = sum_i gx_i . x_i + glogq_i log q_i as a function of z.
	loss := func(z []float64) float64 {
		f.Forward(p, x, nil, logq, z, 1)
		var v float64
		for k := range x {
			v += gx[k] * x[k]
		}
		for i := range logq {
			v += glogq[i] * logq[i]
		}
		return v
	}
	loss(z)
	gz := make([]float64, n)
	grad := make([]float64, f.NumParams())
	f.Backward(p, gz, gx, glogq, grad, 2)

	wantGz := jacGradFD(loss, z, nil)
	if e := jacMaxRel(gz, wantGz, nil, 1); e > flowFDTol {
		t.Errorf("gz: got max relative error %.3g, want < %g", e, flowFDTol)
	} else {
		t.Logf("gz: max relative error %.3g", e)
	}

	theta := make([]float64, f.NumParams())
	f.GetParams(theta)
	ploss := func(q []float64) float64 {
		f.SetParams(q)
		v := loss(z)
		f.SetParams(theta)
		return v
	}
	idx := jacSubset(rng, len(theta), 300)
	wantGrad := jacGradFD(ploss, theta, idx)
	if e := jacMaxRel(grad, wantGrad, idx, 1); e > flowFDTol {
		t.Errorf("grad: got max relative error %.3g, want < %g", e, flowFDTol)
	} else {
		t.Logf("grad: max relative error %.3g over %d of %d params", e, len(idx), len(theta))
	}
}

func TestFlowReproducible(t *testing.T) {
	f := newTestPhi4Flow(t, 23, 8, 4)
	const B = 10
	n := B * f.Size
	ref := make([]float64, n)
	refS := make([]float64, n)
	refQ := make([]float64, B)
	f.SampleScore(rand.New(rand.NewPCG(23, 1)), ref, refS, refQ, 1)
	same := func(name string, got, want []float64) {
		t.Helper()
		for k := range want {
			if math.Float64bits(got[k]) != math.Float64bits(want[k]) {
				t.Errorf("%s[%d]: got %v, want %v (bit-identical)", name, k, got[k], want[k])
				return
			}
		}
	}
	for _, workers := range []int{1, 2, 3, 0} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			x, s, q := make([]float64, n), make([]float64, n), make([]float64, B)
			f.SampleScore(rand.New(rand.NewPCG(23, 1)), x, s, q, workers)
			same("x", x, ref)
			same("s", s, refS)
			same("logq", q, refQ)
			f.Sample(rand.New(rand.NewPCG(23, 1)), x, q, workers)
			same("Sample x", x, ref)
			same("Sample logq", q, refQ)
			if err := f.LogProb(q, x, workers); err != nil {
				t.Fatal(err)
			}
			for i := range q {
				if d := math.Abs(q[i] - refQ[i]); d > rnvpInverseTol {
					t.Errorf("LogProb[%d]: got %v, want %v", i, q[i], refQ[i])
				}
			}

			// A Pass from the same z gives the same samples and score.
			z := make([]float64, n)
			f.SampleBase(rand.New(rand.NewPCG(23, 1)), z)
			p := f.NewPass(B)
			f.Forward(p, x, s, q, z, workers)
			same("Forward x", x, ref)
			same("Forward s", s, refS)
			same("Forward logq", q, refQ)
		})
	}
	// The parameter gradient does not depend on the number of workers.
	z := make([]float64, n)
	f.SampleBase(rand.New(rand.NewPCG(23, 2)), z)
	gx := jacNormal(rand.New(rand.NewPCG(23, 3)), n, 1)
	var want []float64
	for _, workers := range []int{1, 2, 3} {
		p := f.NewPass(B)
		x, q := make([]float64, n), make([]float64, B)
		f.Forward(p, x, nil, q, z, workers)
		grad := make([]float64, f.NumParams())
		f.Backward(p, nil, gx, q, grad, workers)
		if want == nil {
			want = grad
			continue
		}
		same(fmt.Sprintf("grad/workers=%d", workers), grad, want)
	}
}

func TestFlowNoAlloc(t *testing.T) {
	t.Run("affine", func(t *testing.T) { checkFlowNoAlloc(t, newTestPhi4Flow(t, 24, 8, 4)) })
	t.Run("zero-mode", func(t *testing.T) { checkFlowNoAlloc(t, newTestZeroModeFlow(t, 24, 8, 4, 0.5)) })
	t.Run("blocks", func(t *testing.T) { checkFlowNoAlloc(t, newTestBlockFlow(t, 25, 8, 2, []int{2, 2}, 0.5)) })
	t.Run("spectral", func(t *testing.T) { checkFlowNoAlloc(t, newTestSpectralFlow(t, 26, 8, 2, 4, 0.5)) })
}

// checkFlowNoAlloc checks that sampling, log q and a training pass of f
// allocate nothing once warmed up.
func checkFlowNoAlloc(t *testing.T, f *Flow[float64]) {
	const B = 8
	n := B * f.Size
	rng := rand.New(rand.NewPCG(24, 1))
	x, s, q := make([]float64, n), make([]float64, n), make([]float64, B)
	p := f.NewPass(B)
	z, grad := make([]float64, n), make([]float64, f.NumParams())
	cases := []struct {
		name string
		fn   func()
	}{
		{"Sample", func() { f.Sample(rng, x, q, 1) }},
		{"SampleScore", func() { f.SampleScore(rng, x, s, q, 1) }},
		{"LogProb", func() {
			if err := f.LogProb(q, x, 1); err != nil {
				t.Fatal(err)
			}
		}},
		{"Forward", func() { f.Forward(p, x, s, q, z, 1) }},
		{"Backward", func() { f.Backward(p, z, x, q, grad, 1) }},
	}
	for _, c := range cases {
		c.fn() // warm up
		if a := testing.AllocsPerRun(5, c.fn); a != 0 {
			t.Errorf("%s with 1 worker: got %v allocations per call, want 0", c.name, a)
		}
	}
}

func TestFloat32MatchesFloat64(t *testing.T) {
	const L = 8
	t.Run("affine", func(t *testing.T) { checkFloat32(t, newTestPhi4Flow(t, 25, L, 16)) })
	t.Run("spline", func(t *testing.T) { checkFloat32(t, newTestSplineFlow(t, 25, L, 16, 0.5)) })
	t.Run("spectral", func(t *testing.T) { checkFloat32(t, newTestSpectralFlow(t, 26, L, 16, 4, 0.5)) })
}

// checkFloat32 checks the float32 flow of f64's config and rounded
// parameters against f64: samples, scores, log q and LogProb.
func checkFloat32(t *testing.T, f64 *Flow[float64]) {
	const B = 4
	f32, err := NewPhi4Flow[float32](f64.Config, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	theta := make([]float64, f64.NumParams())
	f64.GetParams(theta)
	theta32 := make([]float32, len(theta))
	for i, v := range theta {
		theta32[i] = float32(v)
	}
	f32.SetParams(theta32)
	// Compare against the float64 flow with the float32-rounded weights.
	for i, v := range theta32 {
		theta[i] = float64(v)
	}
	f64.SetParams(theta)

	n := B * f64.Size
	x64, s64, q64 := make([]float64, n), make([]float64, n), make([]float64, B)
	x32, s32, q32 := make([]float32, n), make([]float32, n), make([]float64, B)
	f64.SampleScore(rand.New(rand.NewPCG(25, 1)), x64, s64, q64, 2)
	f32.SampleScore(rand.New(rand.NewPCG(25, 1)), x32, s32, q32, 2)
	rel := func(got32 []float32, want []float64) float64 {
		got := make([]float64, len(got32))
		for i, v := range got32 {
			got[i] = float64(v)
		}
		return jacMaxRel(got, want, nil, 1)
	}
	check := func(name string, e float64) {
		t.Helper()
		if e > flowFloat32Tol {
			t.Errorf("%s: float32 vs float64: got max relative error %.3g, want < %g", name, e, flowFloat32Tol)
		}
		t.Logf("%s: max relative error %.3g", name, e)
	}
	check("x", rel(x32, x64))
	check("s", rel(s32, s64))
	check("logq", jacMaxRel(q32, q64, nil, 1))
	lp := make([]float64, B)
	if err := f32.LogProb(lp, x32, 2); err != nil {
		t.Fatal(err)
	}
	check("LogProb", jacMaxRel(lp, q64, nil, 1))
}

// flowTestFailLayer is the identity map whose Inverse fails on samples with
// x[0] < 0.
type flowTestFailLayer struct{ n int }

func (l flowTestFailLayer) Size() int         { return l.n }
func (l flowTestFailLayer) Params() []float64 { return nil }
func (l flowTestFailLayer) NewTape() Tape     { return nil }
func (l flowTestFailLayer) Forward(_ Tape, y, x, _ []float64) float64 {
	copy(y, x)
	return 0
}
func (l flowTestFailLayer) Inverse(_ Tape, x, y []float64) (float64, error) {
	if y[0] < 0 {
		return 0, errFlowTest
	}
	copy(x, y)
	return 0, nil
}
func (l flowTestFailLayer) Backward(_ Tape, gx, gy []float64, _ float64, _ []float64) {
	if gx != nil {
		copy(gx, gy)
	}
}

var errFlowTest = errors.New("test inverse failure")

func TestLogProbError(t *testing.T) {
	f := NewFlow(Config{}, NormalBase{}, 2, []Layer[float64]{flowTestFailLayer{2}, flowTestFailLayer{2}})
	x := []float64{1, 0, 2, 0, -1, 0, -2, 0}
	q := make([]float64, 4)
	err := f.LogProb(q, x, 2)
	if !errors.Is(err, errFlowTest) {
		t.Fatalf("got error %v, want one wrapping %v", err, errFlowTest)
	}
	if want := "sample 2: layer 1"; !strings.Contains(err.Error(), want) {
		t.Errorf("got error %q, want it to contain %q", err, want)
	}
	for i, ok := range []bool{true, true, false, false} {
		if math.IsNaN(q[i]) == ok {
			t.Errorf("logq[%d]: got %v, want NaN only for failed samples", i, q[i])
		}
	}
	if err := f.LogProb(q[:2], x[:4], 2); err != nil {
		t.Errorf("after a failure: got error %v, want nil", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, theory := range []string{TheoryPhi4, TheoryU1} {
		if err := DefaultConfig(theory, 8).Validate(); err != nil {
			t.Errorf("DefaultConfig(%q, 8): got %v, want nil", theory, err)
		}
	}
	mod := func(theory string, L int, fn func(*Config)) Config {
		c := DefaultConfig(theory, L)
		fn(&c)
		return c
	}
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"theory", mod("xy", 8, func(*Config) {}), "theory"},
		{"L=2", mod(TheoryPhi4, 2, func(*Config) {}), "L=2"},
		{"phi4/L=5", mod(TheoryPhi4, 5, func(*Config) {}), "even"},
		{"u1/L=6", mod(TheoryU1, 6, func(*Config) {}), "multiple of 4"},
		{"layers=0", mod(TheoryPhi4, 8, func(c *Config) { c.Layers = 0 }), "layers"},
		{"u1/mixtures=0", mod(TheoryU1, 8, func(c *Config) { c.Mixtures = 0 }), "mixtures"},
		{"hidden", mod(TheoryPhi4, 8, func(c *Config) { c.Hidden = []int{8, 0} }), "hidden[1]"},
		{"kernel=2", mod(TheoryPhi4, 8, func(c *Config) { c.Kernel = 2 }), "kernel"},
		{"kernel>L", mod(TheoryPhi4, 4, func(c *Config) { c.Kernel = 5 }), "kernel"},
		{"phi4/base=plaquettes", mod(TheoryPhi4, 8, func(c *Config) { c.Base, c.BaseBeta = BasePlaquettes, 3 }), `base "plaquettes"`},
		{"phi4/base=uniform", mod(TheoryPhi4, 8, func(c *Config) { c.Base = BaseUniform }), `base "uniform"`},
		{"u1/base=normal", mod(TheoryU1, 8, func(c *Config) { c.Base = BaseNormal }), `base "normal"`},
		{"u1/base=unknown", mod(TheoryU1, 8, func(c *Config) { c.Base = "Plaquettes" }), `base "Plaquettes"`},
		{"u1/base_beta=0", mod(TheoryU1, 8, func(c *Config) { c.Base = BasePlaquettes }), "base_beta=0"},
		{"u1/base_beta<0", mod(TheoryU1, 8, func(c *Config) { c.Base, c.BaseBeta = BasePlaquettes, -1 }), "base_beta=-1"},
		{"u1/base_beta=NaN", mod(TheoryU1, 8, func(c *Config) { c.Base, c.BaseBeta = BasePlaquettes, math.NaN() }), "base_beta=NaN"},
		{"u1/base_beta=Inf", mod(TheoryU1, 8, func(c *Config) { c.Base, c.BaseBeta = BasePlaquettes, math.Inf(1) }), "base_beta=+Inf"},
		{"u1/base_beta without plaquettes", mod(TheoryU1, 8, func(c *Config) { c.BaseBeta = 3 }), "base_beta=3"},
		{"u1/base_mode", mod(TheoryU1, 8, func(c *Config) { c.Base, c.BaseBeta, c.BaseMode = BasePlaquettes, 3, "last" }), `base_mode "last"`},
		{"u1/base_mode without plaquettes", mod(TheoryU1, 8, func(c *Config) { c.Base, c.BaseMode = BaseUniform, BaseModeFixed }), `base_mode "fixed"`},
		{"init", mod(TheoryU1, 8, func(c *Config) { c.Init = "zero" }), `init "zero"`},
	}
	for _, c := range cases {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want one naming %q", c.name, err, c.want)
		}
		if _, err := New[float64](c.cfg, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("%s: New: got nil error, want one", c.name)
		}
	}
}

func TestNewDispatch(t *testing.T) {
	const L = 8
	cases := []struct {
		theory string
		base   Base
		size   int
	}{{TheoryPhi4, NormalBase{}, L * L}, {TheoryU1, UniformBase{}, 2 * L * L}}
	for _, c := range cases {
		cfg := DefaultConfig(c.theory, L)
		f, err := New[float32](cfg, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatalf("%s: %v", c.theory, err)
		}
		if f.Base != c.base || f.Size != c.size || len(f.Layers) != cfg.Layers {
			t.Errorf("%s: got base %v, size %d, %d layers, want %v, %d, %d",
				c.theory, f.Base, f.Size, len(f.Layers), c.base, c.size, cfg.Layers)
		}
	}
}
