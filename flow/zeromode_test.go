package flow

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// newTestZeroMode returns a float64 zero-mode layer on v sites with random
// parameters: a spline on [-bound, bound] far from the identity.
func newTestZeroMode(rng *rand.Rand, v, bins int, bound float64) *ZeroModeSpline[float64] {
	z := NewZeroModeSpline[float64](v, bins, bound)
	copy(z.Params(), splineTheta(rng, bins, 1))
	return z
}

// TestZeroModeSplineLayer runs the layer checks (VJPs in x and in the
// parameters, fast-path score, log-determinant against the
// finite-difference Jacobian, inverse, inverse VJPs, pullback score) on
// the zero-mode layer. The checks draw fields from N(0, 1.5^2), whose mean
// has the spread 1.5/sqrt(V): few sites and a small bound put the means of
// the cases in different bins and in the identity tails.
func TestZeroModeSplineLayer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		v     int
		bins  int
		bound float64
	}{
		{"V=4/K=4", 4, 4, 0.8},
		{"V=9/K=6", 9, 6, 0.6},
		{"V=16/K=3", 16, 3, 0.5},
		{"V=4/K=2/tails", 4, 2, 0.2},
	} {
		for seed := uint64(0); seed < 3; seed++ {
			t.Run(fmt.Sprintf("%s/seed=%d", tc.name, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(31, uint64(100*tc.v)+seed))
				z := newTestZeroMode(rng, tc.v, tc.bins, tc.bound)
				checkLayerVJP(t, z, rng)
				checkLayerFastPath(t, z, rng)
				checkLayerInverse(t, z, rng)
			})
		}
	}
}

// TestZeroModeSplineMean checks what the layer is: the mean of y is f(m)
// for the spline f of the parameters (the site map of SplineCoupling),
// y - mean y = x - mean x, the parameters' zero is the identity, and
// log|det| = log f'(m).
func TestZeroModeSplineMean(t *testing.T) {
	rng := rand.New(rand.NewPCG(32, 1))
	const v, bins, bound = 64, 5, 1.2
	z := newTestZeroMode(rng, v, bins, bound)
	r := newRQS(bins, bound)
	splineSetupTest(r, z.Params())
	x, y := make([]float64, v), make([]float64, v)
	for trial := 0; trial < 20; trial++ {
		c := -1.5 + 3*rng.Float64()
		for i := range x {
			x[i] = c + rng.NormFloat64()
		}
		ld := z.Forward(z.NewTape(), y, x, nil)
		m := mean(x)
		f, d, _, _ := r.site(m, 0, 0, false)
		if got := mean(y); math.Abs(got-f) > 1e-12 {
			t.Errorf("mean y = %.15g, want f(mean x) = %.15g", got, f)
		}
		if math.Abs(ld-math.Log(d)) > 1e-12 {
			t.Errorf("log|det| = %.15g, want log f'(m) = %.15g", ld, math.Log(d))
		}
		for i := range x {
			if e := math.Abs((y[i] - f) - (x[i] - m)); e > 1e-12 {
				t.Fatalf("site %d: y - mean y = %g, want x - mean x = %g", i, y[i]-f, x[i]-m)
			}
		}
	}
	id := NewZeroModeSpline[float64](v, bins, bound)
	if ld := id.Forward(id.NewTape(), y, x, nil); math.Abs(ld) > 1e-14 || e64(y, x) > 1e-14 {
		t.Errorf("zero parameters: log|det| %g, max relative change %g, want the identity", ld, e64(y, x))
	}
}

// zeroModeFlowConfig is a small affine phi^4 flow with the zero-mode layer.
func zeroModeFlowConfig(L, layers int) Config {
	cfg := DefaultConfig(TheoryPhi4, L)
	cfg.Layers = layers
	cfg.ZeroModeBins, cfg.ZeroModeBound = 6, 1.5
	return cfg
}

// newTestZeroModeFlow returns a float64 phi^4 flow with the zero-mode
// layer: couplings at InitRandom weights scaled by scale, and the zero-mode
// spline at N(0, 0.4^2) parameters.
func newTestZeroModeFlow(t testing.TB, seed uint64, L, layers int, scale float64) *Flow[float64] {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	f, err := New[float64](zeroModeFlowConfig(L, layers), rng)
	if err != nil {
		t.Fatal(err)
	}
	z, ok := f.Layers[len(f.Layers)-1].(*ZeroModeSpline[float64])
	if !ok || len(f.Layers) != layers+1 {
		t.Fatalf("flow of %d layers with zero_mode_bins: last of %d layers is %T, want %d couplings and a *ZeroModeSpline",
			layers, len(f.Layers), f.Layers[len(f.Layers)-1], layers)
	}
	for _, v := range z.Params() {
		if v != 0 {
			t.Fatalf("New: zero-mode parameters %v, want zero (the identity)", z.Params())
		}
	}
	p := make([]float64, f.NumParams())
	f.GetParams(p)
	nz := len(z.Params())
	for i := range p[:len(p)-nz] {
		p[i] *= scale
	}
	copy(p[len(p)-nz:], splineTheta(rng, 6, 0.4))
	f.SetParams(p)
	return f
}

// TestZeroModeFlowNormalized checks log q of a flow with the zero-mode
// layer by importance sampling, E_q[exp(-S)/q] = Z for a free action with
// known log Z, and that the layer changes the distribution of the
// magnetization (so the check tests its log-determinant); also the flow's
// score d log q/dx against finite differences of LogProb, with the Z2
// symmetrization on.
func TestZeroModeFlowNormalized(t *testing.T) {
	const L = 4
	B := 20000
	if testing.Short() {
		B = 5000
	}
	f := newTestZeroModeFlow(t, 41, L, 2, 0.3)
	x := make([]float64, B*f.Size)
	lq := make([]float64, B)
	f.Sample(rand.New(rand.NewPCG(3, 3)), x, lq, 2)
	checkFreeNormalized(t, L, f.Size, x, lq)
	var m2 float64
	for i := range B {
		xi := x[i*f.Size : (i+1)*f.Size]
		m2 += mean(xi) * mean(xi)
	}
	// Without the zero-mode layer (its parameters zeroed) <m^2> differs.
	p := make([]float64, f.NumParams())
	f.GetParams(p)
	q := append([]float64(nil), p...)
	clear(q[len(q)-(3*6-1):])
	f.SetParams(q)
	f.Sample(rand.New(rand.NewPCG(3, 3)), x, lq, 2)
	f.SetParams(p)
	var m2id float64
	for i := range B {
		xi := x[i*f.Size : (i+1)*f.Size]
		m2id += mean(xi) * mean(xi)
	}
	t.Logf("<m^2> = %.4f with the layer, %.4f without", m2/float64(B), m2id/float64(B))
	if r := m2 / m2id; r > 0.8 && r < 1.25 {
		t.Errorf("<m^2> with the zero-mode layer / without = %.3f, want a layer that changes it by 20%% or more", r)
	}

	cz := f.Config
	cz.Z2 = true
	f, err := New[float64](cz, rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	f.SetParams(p)
	const Bs = 3
	s := make([]float64, Bs*f.Size)
	f.SampleScore(rand.New(rand.NewPCG(4, 4)), x[:Bs*f.Size], s, lq[:Bs], 1)
	one := make([]float64, 1)
	logProb := func(xi []float64) float64 {
		if err := f.LogProb(one, xi, 1); err != nil {
			t.Fatal(err)
		}
		return one[0]
	}
	for i := range Bs {
		xi := x[i*f.Size : (i+1)*f.Size]
		if got := logProb(xi); math.Abs(got-lq[i]) > 1e-10 {
			t.Errorf("sample %d: LogProb %.12g, want log q_s of SampleScore %.12g", i, got, lq[i])
		}
		if e := e64(s[i*f.Size:(i+1)*f.Size], jacGradFD(logProb, xi, nil)); e > 1e-6 {
			t.Errorf("sample %d: d log q_s/dx: got max relative error %.3g, want < 1e-6", i, e)
		}
	}
}

// TestZeroModeModelRoundTrip checks that a model file keeps the zero-mode
// layer (its fields in the header, bit-identical samples after loading),
// that it builds at another L with the same parameters, and that its
// parameters are refused by a config without the layer.
func TestZeroModeModelRoundTrip(t *testing.T) {
	f := newTestZeroModeFlow(t, 42, 4, 2, 0.5)
	got := checkModelRoundTrip(t, f, `"zero_mode_bins":6,"zero_mode_bound":1.5`)
	big, err := BuildAt[float64](got, 8)
	if err != nil {
		t.Fatalf("BuildAt(L=8): %v", err)
	}
	zb := big.Layers[len(big.Layers)-1].(*ZeroModeSpline[float64])
	zf := f.Layers[len(f.Layers)-1].(*ZeroModeSpline[float64])
	if zb.Size() != 64 || e64(zb.Params(), zf.Params()) != 0 {
		t.Errorf("BuildAt(L=8): zero-mode layer of %d sites, parameters %v, want 64 and %v", zb.Size(), zb.Params(), zf.Params())
	}
	old := got
	old.Config.ZeroModeBins, old.Config.ZeroModeBound = 0, 0
	if _, err := Build[float64](old); err == nil || !strings.Contains(err.Error(), "parameters") {
		t.Errorf("zero-mode parameters under a config without the layer: got error %v, want a parameter-count error", err)
	}
}

// TestZeroModeConfig checks Validate on the zero-mode fields.
func TestZeroModeConfig(t *testing.T) {
	if err := zeroModeFlowConfig(4, 2).Validate(); err != nil {
		t.Fatalf("valid zero-mode config: %v", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"bins=1", func(c *Config) { c.ZeroModeBins = 1 }, "zero_mode_bins=1"},
		{"bins=65", func(c *Config) { c.ZeroModeBins = 65 }, "zero_mode_bins=65"},
		{"bound=0", func(c *Config) { c.ZeroModeBound = 0 }, "zero_mode_bound=0"},
		{"bound=NaN", func(c *Config) { c.ZeroModeBound = math.NaN() }, "zero_mode_bound=NaN"},
		{"bound without bins", func(c *Config) { c.ZeroModeBins = 0 }, "without zero_mode_bins"},
		{"u1", func(c *Config) { c.Theory, c.Mixtures = TheoryU1, 2 }, `for theory "u1"`},
	} {
		c := zeroModeFlowConfig(4, 2)
		tc.mod(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want one naming %q", tc.name, err, tc.want)
		}
	}
}
