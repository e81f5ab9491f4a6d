package flow

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"latflow/lattice"
)

// newTestBlockCoupling returns a float64 block coupling of b x b blocks on
// an L x L lattice whose coarse layer is an affine coupling at random
// weights.
func newTestBlockCoupling(rng *rand.Rand, L, b, parity int) *BlockCoupling[float64] {
	return NewBlockCoupling[float64](lattice.NewGeometry(L), b, newTestCoupling(rng, L/b, parity))
}

// TestBlockCouplingLayer runs the layer checks (VJPs in x and in the
// parameters, fast-path score and log-determinant against finite
// differences, inverse, inverse VJPs, pullback score) on block couplings
// with affine and spline coarse layers.
func TestBlockCouplingLayer(t *testing.T) {
	for _, tc := range []struct {
		L, b, parity int
		spline       bool
	}{
		{8, 2, 0, false},
		{8, 2, 1, false},
		{12, 3, 0, false},
		{8, 2, 1, true},
	} {
		t.Run(fmt.Sprintf("L=%d/b=%d/parity=%d/spline=%v", tc.L, tc.b, tc.parity, tc.spline), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(41, uint64(tc.L*10+tc.b+tc.parity)))
			var c *BlockCoupling[float64]
			if tc.spline {
				c = NewBlockCoupling[float64](lattice.NewGeometry(tc.L), tc.b, newTestSplineCoupling(rng, tc.L/tc.b, tc.parity))
			} else {
				c = newTestBlockCoupling(rng, tc.L, tc.b, tc.parity)
			}
			checkLayerVJP(t, c, rng)
			checkLayerFastPath(t, c, rng)
			checkLayerInverse(t, c, rng)
		})
	}
}

// TestBlockCouplingBlocks checks what the layer is: the block averages of
// y are the coarse layer's map of those of x, y - U P y = x - U P x (the
// fluctuations within blocks are kept), and the log-determinant is the
// coarse layer's.
func TestBlockCouplingBlocks(t *testing.T) {
	const L, b = 8, 4
	rng := rand.New(rand.NewPCG(42, 1))
	c := newTestBlockCoupling(rng, L, b, 1)
	V, nc := L*L, (L/b)*(L/b)
	x, y := jacNormal(rng, V, 1.5), make([]float64, V)
	ld := c.Forward(c.NewTape(), y, x, nil)
	xc, yc, want := make([]float64, nc), make([]float64, nc), make([]float64, nc)
	c.meanTo(xc, x)
	c.meanTo(yc, y)
	wantLd := c.Inner().Forward(c.Inner().NewTape(), want, xc, nil)
	if e := e64(yc, want); e > 1e-13 || math.Abs(ld-wantLd) > 1e-13 {
		t.Errorf("block averages of y: max relative error %.3g against g(P x), log|det| %v, want %v", e, ld, wantLd)
	}
	if e := e64(yc, xc); e < 1e-3 {
		t.Fatalf("the coarse layer at random weights leaves the block averages (max relative change %.3g): a vacuous test", e)
	}
	g := lattice.NewGeometry(L)
	for n := range V {
		x0, x1 := g.Coords(n)
		k := (x0/b)*(L/b) + x1/b
		if d := (y[n] - yc[k]) - (x[n] - xc[k]); math.Abs(d) > 1e-13 {
			t.Fatalf("site %d: y - block mean %v, x - block mean %v, want equal", n, y[n]-yc[k], x[n]-xc[k])
		}
	}
}

// newTestBlockFlow returns a float64 phi^4 flow of layers couplings, block
// couplings of the given sizes and a zero-mode layer, all parameters at
// their random initialization scaled by scale (the zero-mode spline at
// N(0, 0.4^2), as newTestZeroModeFlow draws it).
func newTestBlockFlow(t testing.TB, seed uint64, L, layers int, blocks []int, scale float64) *Flow[float64] {
	t.Helper()
	cfg := zeroModeFlowConfig(L, layers)
	cfg.Blocks = blocks
	f, err := New[float64](cfg, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Layers); n != layers+len(blocks)+1 {
		t.Fatalf("flow with blocks %v: %d layers, want %d", blocks, n, layers+len(blocks)+1)
	}
	for i, b := range blocks {
		bc, ok := f.Layers[layers+i].(*BlockCoupling[float64])
		if !ok || bc.BlockSize() != b {
			t.Fatalf("layer %d: %T, want a block coupling of block size %d", layers+i, f.Layers[layers+i], b)
		}
	}
	p := make([]float64, f.NumParams())
	f.GetParams(p)
	rng := rand.New(rand.NewPCG(seed, 2))
	for i := range p {
		p[i] *= scale
	}
	zm := p[len(p)-(3*6-1):]
	for i := range zm {
		zm[i] = 0.4 * rng.NormFloat64()
	}
	f.SetParams(p)
	return f
}

// TestBlockFlowNormalized checks log q of a flow with block couplings by
// importance sampling against a free action of known log Z: the fine
// couplings and the zero-mode layer are the identity, so the flow is the
// N(0, 1) base, near the free field, moved by two block couplings at
// random weights. First it checks that the block couplings change the
// distribution of the block averages (so the check tests their
// log-determinants).
func TestBlockFlowNormalized(t *testing.T) {
	const L = 8
	B := 20000
	if testing.Short() {
		B = 5000
	}
	f := newTestBlockFlow(t, 43, L, 2, []int{2, 2}, 1)
	p := make([]float64, f.NumParams())
	f.GetParams(p)
	off := len(f.Layers[0].Params()) + len(f.Layers[1].Params())
	nb := len(f.Layers[2].Params()) + len(f.Layers[3].Params())
	clear(p[:off])
	clear(p[off+nb:])
	x := make([]float64, B*f.Size)
	lq := make([]float64, B)
	blockVar := func(p []float64) float64 {
		f.SetParams(p)
		f.Sample(rand.New(rand.NewPCG(3, 3)), x, lq, 2)
		bc := f.Layers[2].(*BlockCoupling[float64])
		c := make([]float64, 16)
		var v float64
		for i := range B {
			bc.meanTo(c, x[i*f.Size:(i+1)*f.Size])
			for _, cv := range c {
				v += cv * cv
			}
		}
		return v / float64(16*B)
	}
	without := blockVar(make([]float64, len(p)))
	with := blockVar(p)
	t.Logf("<c^2> of the 2x2 block averages: %.4f with the block couplings, %.4f without", with, without)
	if r := with / without; r > 0.9 && r < 1.1 {
		t.Errorf("<c^2> with the block couplings / without = %.3f, want layers that change it by 10%% or more", r)
	}
	checkFreeNormalized(t, L, f.Size, x, lq)
}

// TestBlockModelRoundTrip checks that a model file keeps the block
// couplings, that it builds at 2L with the same parameters, that GrowBlocks
// adds identity block couplings before the zero-mode layer (the same
// samples), and that a block size that does not fit L is refused.
func TestBlockModelRoundTrip(t *testing.T) {
	f := newTestBlockFlow(t, 44, 8, 2, []int{2}, 0.5)
	got := checkModelRoundTrip(t, f, `"blocks":[2]`)
	if _, err := BuildAt[float64](got, 16); err != nil {
		t.Fatalf("BuildAt(L=16): %v", err)
	}
	g, err := GrowBlocks(got, []int{2, 2}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(g.Config.Blocks) != "[2 2 2]" {
		t.Fatalf("GrowBlocks: blocks %v, want [2 2 2]", g.Config.Blocks)
	}
	gf, err := Build[float64](g)
	if err != nil {
		t.Fatal(err)
	}
	checkSameSamples(t, "grown flow", f, gf)
	for _, c := range []struct {
		L      int
		blocks []int
	}{{8, []int{3}}, {8, []int{8}}, {12, []int{2, 4}}, {8, []int{1}}} {
		cfg := zeroModeFlowConfig(c.L, 2)
		cfg.Blocks = c.blocks
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "blocks[") {
			t.Errorf("L=%d, blocks %v: got error %v, want one naming the block", c.L, c.blocks, err)
		}
	}
	cfg := DefaultConfig(TheoryU1, 8)
	cfg.Blocks = []int{2}
	if err := cfg.Validate(); err == nil {
		t.Error("u1 config with blocks: no error")
	}
}
