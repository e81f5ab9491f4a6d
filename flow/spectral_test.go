package flow

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// newTestSpectral returns a float64 spectral layer of the L x L lattice with
// N nodes per pi at random node values of scale sigma.
func newTestSpectral(rng *rand.Rand, L, N int, sigma float64) *SpectralScale[float64] {
	c := NewSpectralScale[float64](L, N)
	for i := range c.Params() {
		c.Params()[i] = sigma * rng.NormFloat64()
	}
	return c
}

// TestSpectralScaleLayer runs the layer checks (VJPs in x and in the
// parameters, fast-path score and log-determinant against finite
// differences, inverse, inverse VJPs, pullback score), with lattice
// momenta on the nodes (L a multiple of 2N) and between them.
func TestSpectralScaleLayer(t *testing.T) {
	for _, tc := range []struct{ L, N int }{{8, 4}, {6, 4}, {8, 3}} {
		t.Run(fmt.Sprintf("L=%d/N=%d", tc.L, tc.N), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(51, uint64(tc.L*10+tc.N)))
			c := newTestSpectral(rng, tc.L, tc.N, 0.3)
			checkLayerVJP(t, c, rng)
			checkLayerFastPath(t, c, rng)
			checkLayerInverse(t, c, rng)
		})
	}
}

// TestSpectralScalePlaneWaves checks what the layer is: a plane wave
// cos(k.x + phase) comes out multiplied by exp(theta(k)), where theta is
// the bilinear interpolation of the node values at k folded into the
// wedge; the same momentum on lattices L and 2L gets the same factor; the
// constant field is kept; and the identity at zero parameters.
func TestSpectralScalePlaneWaves(t *testing.T) {
	const N = 4
	rng := rand.New(rand.NewPCG(52, 1))
	c8 := newTestSpectral(rng, 8, N, 0.5)
	c16 := NewSpectralScale[float64](16, N)
	copy(c16.Params(), c8.Params())
	theta := func(k0, k1 float64) float64 { // k/pi in [0, 1]
		u, v := math.Max(k0, k1)*N, math.Min(k0, k1)*N
		i, j := min(int(u), N-1), min(int(v), N-1)
		fu, fv := u-float64(i), v-float64(j)
		p := func(a, b int) float64 {
			if b > a {
				a, b = b, a
			}
			return c8.Params()[a*(a+1)/2+b]
		}
		return (1-fu)*(1-fv)*p(i, j) + fu*(1-fv)*p(i+1, j) + (1-fu)*fv*p(i, j+1) + fu*fv*p(i+1, j+1)
	}
	wave := func(L, n0, n1 int, phase float64) []float64 {
		x := make([]float64, L*L)
		for a := range L {
			for b := range L {
				x[a*L+b] = math.Cos(2*math.Pi*float64(n0*a+n1*b)/float64(L) + phase)
			}
		}
		return x
	}
	fold := func(L, n int) float64 { return 2 * float64(min(n, L-n)) / float64(L) }
	for _, tc := range []struct{ L, n0, n1 int }{{8, 1, 0}, {8, 2, 1}, {8, 7, 3}, {8, 4, 4}, {8, 0, 0}, {16, 4, 2}, {16, 3, 5}, {16, 15, 1}} {
		c := c8
		if tc.L == 16 {
			c = c16
		}
		x := wave(tc.L, tc.n0, tc.n1, 0.3)
		y := make([]float64, len(x))
		c.Forward(c.NewTape(), y, x, nil)
		want := 1.0
		if tc.n0 != 0 || tc.n1 != 0 {
			want = math.Exp(theta(fold(tc.L, tc.n0), fold(tc.L, tc.n1)))
		}
		for i := range x {
			if math.Abs(y[i]-want*x[i]) > 1e-12 {
				t.Fatalf("L=%d n=(%d,%d): y[%d]=%v, want %v x = %v", tc.L, tc.n0, tc.n1, i, y[i], want, want*x[i])
			}
		}
		if tc.n0 != 0 && math.Abs(want-1) < 1e-3 {
			t.Fatalf("L=%d n=(%d,%d): factor %v: a vacuous check", tc.L, tc.n0, tc.n1, want)
		}
	}
	id := NewSpectralScale[float64](8, N)
	x := jacNormal(rng, 64, 1)
	y := make([]float64, 64)
	if ld := id.Forward(id.NewTape(), y, x, nil); ld != 0 || e64(y, x) > 1e-14 {
		t.Errorf("zero parameters: log|det| %v, max relative change %.3g, want the identity", ld, e64(y, x))
	}
}

// newTestSpectralFlow returns a float64 phi^4 flow of layers couplings, a
// block coupling of 2 x 2 blocks, a spectral layer of N nodes per pi and a
// zero-mode layer: couplings at their random initialization scaled by
// scale, the spectral layer's node values drawn from N(0, 0.3^2), the
// zero-mode spline as newTestBlockFlow draws it.
func newTestSpectralFlow(t testing.TB, seed uint64, L, layers, N int, scale float64) *Flow[float64] {
	t.Helper()
	cfg := zeroModeFlowConfig(L, layers)
	cfg.Blocks = []int{2}
	cfg.Spectral = N
	f, err := New[float64](cfg, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		t.Fatal(err)
	}
	sp, ok := f.Layers[layers+1].(*SpectralScale[float64])
	if !ok || len(f.Layers) != layers+3 {
		t.Fatalf("layer %d of %d: %T, want a spectral layer before the zero-mode layer", layers+1, len(f.Layers), f.Layers[layers+1])
	}
	for _, v := range sp.Params() {
		if v != 0 {
			t.Fatal("a new spectral layer is not the identity")
		}
	}
	p := make([]float64, f.NumParams())
	f.GetParams(p)
	rng := rand.New(rand.NewPCG(seed, 2))
	for i := range p {
		p[i] *= scale
	}
	nz := len(f.Layers[layers+2].Params())
	ns := SpectralParams(N)
	for i := len(p) - nz - ns; i < len(p)-nz; i++ {
		p[i] = 0.3 * rng.NormFloat64()
	}
	for i := len(p) - nz; i < len(p); i++ {
		p[i] = 0.4 * rng.NormFloat64()
	}
	f.SetParams(p)
	return f
}

// TestSpectralFlowNormalized checks log q of a flow with a spectral layer
// by importance sampling against a free action of known log Z: all other
// layers are the identity, so the flow is the N(0, 1) base filtered by the
// spectral layer, whose node values (L = 2N: every momentum on a node) are
// those of the free propagator, theta = -log(K(k))/2, plus N(0, 0.05^2)
// noise. Then the weights are nearly constant and a log-determinant off by
// a little fails. It first checks that the layer moves <|phi_k|^2> from
// the base's 1 by 5% or more somewhere.
func TestSpectralFlowNormalized(t *testing.T) {
	const L, N = 8, 4
	B := 20000
	if testing.Short() {
		B = 5000
	}
	f := newTestSpectralFlow(t, 53, L, 2, N, 0)
	clear(f.Layers[4].Params()) // the zero-mode layer: the identity
	rng := rand.New(rand.NewPCG(53, 3))
	for i := 0; i <= N; i++ {
		for j := 0; j <= i; j++ {
			// checkFreeNormalized's action: K = 2A - 4J (cos k0 + cos k1).
			f.Layers[3].Params()[i*(i+1)/2+j] = -0.5*math.Log(freeKernelTest(L, 1, 0.08, i, j)) + 0.05*rng.NormFloat64()
		}
	}
	x := make([]float64, B*f.Size)
	lq := make([]float64, B)
	f.Sample(rand.New(rand.NewPCG(3, 3)), x, lq, 2)
	G := make([]float64, f.Size)
	if err := MeasurePropagator(G, L, x); err != nil {
		t.Fatal(err)
	}
	var most float64
	for _, g := range G[1:] {
		most = math.Max(most, math.Abs(g-1))
	}
	t.Logf("largest change of <|phi_k|^2> from the base's 1: %.3f", most)
	if most < 0.05 {
		t.Fatalf("<|phi_k|^2> within %.3f of 1: the spectral layer hardly acts, a vacuous test", most)
	}
	checkFreeNormalized(t, L, f.Size, x, lq)
}

// TestSpectralModelRoundTrip checks that a model file keeps the spectral
// layer, that it builds at 2L with the same parameters (the same scale of
// each momentum), that GrowSpectral adds it as the identity before the
// zero-mode layer (the same samples) and refuses a model that has one, and
// that Validate refuses bad node counts and other theories.
func TestSpectralModelRoundTrip(t *testing.T) {
	f := newTestSpectralFlow(t, 54, 8, 2, 4, 0.5)
	got := checkModelRoundTrip(t, f, `"spectral":4`)
	f16, err := BuildAt[float64](got, 16)
	if err != nil {
		t.Fatalf("BuildAt(L=16): %v", err)
	}
	if e := e64(f16.Layers[3].Params(), f.Layers[3].Params()); e != 0 {
		t.Errorf("BuildAt(L=16): spectral parameters differ by %.3g", e)
	}
	if _, err := GrowSpectral(got, 4, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("GrowSpectral of a model with a spectral layer: no error")
	}
	plain := newTestBlockFlow(t, 55, 8, 2, []int{2}, 0.5)
	m := NewModel(plain)
	g, err := GrowSpectral(m, 4, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	gf, err := Build[float64](g)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := gf.Layers[3].(*SpectralScale[float64]); !ok || g.Config.Spectral != 4 {
		t.Fatalf("grown flow: layer 3 %T, spectral %d; want a spectral layer of 4 nodes", gf.Layers[3], g.Config.Spectral)
	}
	checkSameSamples(t, "grown flow", plain, gf)
	for _, n := range []int{-1, MaxSpectralNodes + 1} {
		cfg := zeroModeFlowConfig(8, 2)
		cfg.Spectral = n
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "spectral") {
			t.Errorf("spectral=%d: got error %v, want one naming spectral", n, err)
		}
	}
	cfg := DefaultConfig(TheoryU1, 8)
	cfg.Spectral = 4
	if err := cfg.Validate(); err == nil {
		t.Error("u1 config with a spectral layer: no error")
	}
}

// TestRefineSpectral checks that RefineSpectral keeps the map: the refined
// flow's samples and log-densities are those of the original at an L where
// the finer grid has momenta between the coarse nodes, its spectral
// layer's theta agrees at the coarse nodes' midpoints, and a count that is
// not a multiple is refused.
func TestRefineSpectral(t *testing.T) {
	f := newTestSpectralFlow(t, 56, 8, 2, 2, 0.5)
	m := NewModel(f)
	r, err := RefineSpectral(m, 4)
	if err != nil {
		t.Fatal(err)
	}
	if r.Config.Spectral != 4 || len(r.Params) != len(m.Params)-SpectralParams(2)+SpectralParams(4) {
		t.Fatalf("refined: spectral %d, %d parameters", r.Config.Spectral, len(r.Params))
	}
	a, err := BuildAt[float64](m, 16)
	if err != nil {
		t.Fatal(err)
	}
	b, err := BuildAt[float64](r, 16)
	if err != nil {
		t.Fatal(err)
	}
	checkSameSamples(t, "refined flow at L=16", a, b)
	sa, sb := a.Layers[3].(*SpectralScale[float64]), b.Layers[3].(*SpectralScale[float64])
	if d := math.Abs(sa.Theta(0.25, 0.25) - sb.Theta(0.25, 0.25)); d > 1e-14 || sb.Params()[4] == 0 {
		t.Errorf("theta(pi/4, pi/4): %v refined, %v original; node (2,1) %v", sb.Theta(0.25, 0.25), sa.Theta(0.25, 0.25), sb.Params()[4])
	}
	if _, err := RefineSpectral(m, 3); err == nil {
		t.Error("RefineSpectral from 2 to 3 nodes per pi: no error")
	}
}

// BenchmarkSpectralScale times one Forward (as in sampling), one Forward
// with a score (the fast-path step) and one Backward of the spectral layer
// of 16 nodes per pi, beside one affine coupling's Forward (hidden 16,16).
func BenchmarkSpectralScale(b *testing.B) {
	for _, L := range []int{16, 32} {
		rng := rand.New(rand.NewPCG(57, 1))
		c := newTestSpectral(rng, L, 16, 0.1)
		x, y, s := jacNormal(rng, L*L, 1), make([]float64, L*L), jacNormal(rng, L*L, 1)
		tp := c.NewTape()
		b.Run(fmt.Sprintf("L=%d/Forward", L), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Forward(tp, y, x, nil)
			}
		})
		b.Run(fmt.Sprintf("L=%d/ForwardScore", L), func(b *testing.B) {
			for b.Loop() {
				c.Forward(tp, y, x, s)
			}
		})
		b.Run(fmt.Sprintf("L=%d/Backward", L), func(b *testing.B) {
			g := make([]float64, len(c.Params()))
			for b.Loop() {
				c.Backward(tp, s, y, 0.3, g)
			}
		})
		cfg := DefaultConfig(TheoryPhi4, L)
		cfg.Hidden = []int{16, 16}
		f, err := New[float64](cfg, rng)
		if err != nil {
			b.Fatal(err)
		}
		ctp := f.Layers[0].NewTape()
		b.Run(fmt.Sprintf("L=%d/AffineCouplingForward", L), func(b *testing.B) {
			for b.Loop() {
				f.Layers[0].Forward(ctp, y, x, nil)
			}
		})
	}
}

// TestSpectralScaleTapeReuse checks that a tape kept across a parameter
// update (as training keeps them) gives what a fresh tape gives: the
// layer caches exp(theta(k)) on the tape and must notice the change.
func TestSpectralScaleTapeReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(59, 1))
	c := newTestSpectral(rng, 8, 4, 0.3)
	x := jacNormal(rng, 64, 1)
	y, want := make([]float64, 64), make([]float64, 64)
	tp := c.NewTape()
	c.Forward(tp, y, x, nil)
	c.Params()[3] += 0.25
	ld := c.Forward(tp, y, x, nil)
	wantLd := c.Forward(c.NewTape(), want, x, nil)
	if e := e64(y, want); e > 1e-15 || ld != wantLd {
		t.Errorf("reused tape after a parameter change: y off by %.3g, log|det| %v, want %v", e, ld, wantLd)
	}
}

// checkSameSamples checks that flows a and b, sampled from the same seed,
// give the same three samples and log-densities (the same map).
func checkSameSamples(t *testing.T, what string, a, b *Flow[float64]) {
	t.Helper()
	const B = 3
	x0, lq0 := make([]float64, B*a.Size), make([]float64, B)
	x1, lq1 := make([]float64, B*b.Size), make([]float64, B)
	a.Sample(rand.New(rand.NewPCG(2, 2)), x0, lq0, 1)
	b.Sample(rand.New(rand.NewPCG(2, 2)), x1, lq1, 1)
	if e := e64(x1, x0); e > 1e-12 || e64(lq1, lq0) > 1e-12 {
		t.Errorf("%s: samples differ by %.3g, log q by %.3g, want the same map", what, e, e64(lq1, lq0))
	}
}
