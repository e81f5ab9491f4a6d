package flow

import (
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"latflow/ensemble"
	"latflow/gauge"
	"latflow/lattice"
	"latflow/nn"
)

const (
	// baseIdentityTol is the tolerance of an identity-initialized flow
	// against its base: x = z modulo 2pi and log q(x) = log q0(x), absolute.
	// Each NCP layer with s = t = 0 maps an angle to itself up to a few
	// rounding units (2 atan2(sin(x/2), cos(x/2))), and its log g' is a
	// rounding-level log(1 + O(1e-16)) per active plaquette.
	baseIdentityTol = 1e-12
	// baseNormSigmas is the number of standard errors allowed between the
	// importance-sampling estimate of Z and the exact value.
	baseNormSigmas = 4.5
)

// TestBaseDensities checks the three bases' densities and scores at known
// points, the plaquette base against package gauge, and the flow's float32
// conversions (draws, log q0, score) against float64.
func TestBaseDensities(t *testing.T) {
	rng := rand.New(rand.NewPCG(26, 1))
	z := make([]float32, 10000)
	drawBase(UniformBase{}, rng, z, baseScratch(len(z)))
	for i, v := range z {
		if v < 0 || v >= 2*math.Pi {
			t.Fatalf("uniform z[%d]: got %v, want in [0, 2pi)", i, v)
		}
	}
	if got, want := logBase(UniformBase{}, z[:3], baseScratch(3)), -3*math.Log(2*math.Pi); got != want {
		t.Errorf("uniform log q0: got %v, want %v", got, want)
	}
	// N(0,1) density of (1, -2): exp(-5/2) / (2 pi).
	if got, want := (NormalBase{}).LogDensity([]float64{1, -2}), -2.5-math.Log(2*math.Pi); math.Abs(got-want) > 1e-15 {
		t.Errorf("normal log q0: got %v, want %v", got, want)
	}
	s := []float64{1, -2}
	scoreBase(NormalBase{}, s, s, baseScratch(2)) // in place
	if s[0] != -1 || s[1] != 2 {
		t.Errorf("normal score in place: got %v, want [-1 2]", s)
	}

	for _, mode := range []gauge.ConstraintMode{gauge.ConstraintRandom, gauge.ConstraintFixed, gauge.ConstraintSpread} {
		t.Run("plaquettes/"+mode.String(), func(t *testing.T) {
			const L, beta = 4, 2.5
			b, err := NewPlaquetteBase(L, beta, mode)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := gauge.NewPlaquetteProposal(L, beta, mode)
			n := 2 * L * L
			// Same draws as the proposal, bit for bit.
			z64, want := make([]float64, n), make([]float64, n)
			drawBase(b, rand.New(rand.NewPCG(26, 2)), z64, nil)
			p.SampleTo(want, rand.New(rand.NewPCG(26, 2)))
			if !reflect.DeepEqual(z64, want) {
				t.Errorf("float64 draw: got %v, want the proposal's %v", z64[:4], want[:4])
			}
			// float32: the same draws rounded (and wrapped).
			z32 := make([]float32, n)
			drawBase(b, rand.New(rand.NewPCG(26, 2)), z32, baseScratch(n))
			for i, v := range z32 {
				w := float32(want[i])
				if w >= 2*math.Pi {
					w = 0
				}
				if v != w {
					t.Fatalf("float32 draw [%d]: got %v, want %v", i, v, w)
				}
			}
			if got, want := logBase(b, z64, nil), p.LogDensity(z64); got != want {
				t.Errorf("log q0: got %v, want the proposal's %v", got, want)
			}
			z32as64 := make([]float64, n)
			for i, v := range z32 {
				z32as64[i] = float64(v)
			}
			if got, want := logBase(b, z32, baseScratch(n)), p.LogDensity(z32as64); got != want {
				t.Errorf("float32 log q0: got %v, want the proposal's %v at the rounded links", got, want)
			}
			wantS := make([]float64, n)
			p.ScoreTo(wantS, z32as64)
			gotS := make([]float64, n)
			scoreBase(b, gotS, z32as64, baseScratch(n))
			inPlace := append([]float64(nil), z32as64...)
			scoreBase(b, inPlace, inPlace, baseScratch(n))
			gotS32 := make([]float32, n)
			scoreBase(b, gotS32, z32, baseScratch(n))
			for i := range wantS {
				if gotS[i] != wantS[i] || inPlace[i] != wantS[i] || gotS32[i] != float32(wantS[i]) {
					t.Fatalf("score [%d]: got %v, in place %v, float32 %v, want %v", i, gotS[i], inPlace[i], gotS32[i], wantS[i])
				}
			}
		})
	}
}

// baseModes are the constraint modes of the plaquette base.
var baseModes = []string{BaseModeRandom, BaseModeFixed, BaseModeSpread}

// plaquetteConfig returns the config of a small U(1) flow with the
// plaquette base at beta.
func plaquetteConfig(L, layers, K int, beta float64, mode string) Config {
	cfg := DefaultConfig(TheoryU1, L)
	cfg.Layers, cfg.Mixtures = layers, K
	cfg.Base, cfg.BaseBeta, cfg.BaseMode = BasePlaquettes, beta, mode
	return cfg
}

// TestPlaquetteBaseNormalized checks that log q of a U(1) flow with the
// plaquette base (default initialization, so the layers are far from the
// identity) is a normalized density on the flat measure: with
// p~ = exp(beta sum cos P), E_q[p~/q] is the exact flat-measure
// Z = Z_Haar (2pi)^(2V) (gauge.ExactTorus, physics.md section 1), within
// baseNormSigmas standard errors.
func TestPlaquetteBaseNormalized(t *testing.T) {
	const L, beta, B, batches = 4, 2.0, 500, 16
	for _, mode := range baseModes {
		t.Run("L=4/beta=2/"+mode, func(t *testing.T) {
			f, err := New[float64](plaquetteConfig(L, 4, 2, 1.5, mode), rand.New(rand.NewPCG(27, 1)))
			if err != nil {
				t.Fatal(err)
			}
			g := lattice.NewGeometry(L)
			act := gauge.WilsonAction{Geom: g, Beta: beta}
			e, err := gauge.ExactTorus(beta, L)
			if err != nil && !errors.Is(err, gauge.ErrTopologyFrozen) {
				t.Fatal(err) // log Z is valid with ErrTopologyFrozen
			}
			logZ := e.LogZ + 2*float64(g.V)*math.Log(2*math.Pi)
			rng := rand.New(rand.NewPCG(27, 2))
			x, logq := make([]float64, B*f.Size), make([]float64, B)
			// Weights relative to Z, so that their mean is 1.
			var mean, m2 float64
			const n = B * batches
			for range batches {
				f.Sample(rng, x, logq, 0)
				for i := range B {
					w := math.Exp(-act.Action(x[i*f.Size:(i+1)*f.Size]) - logq[i] - logZ)
					mean += w / n
					m2 += w * w / n
				}
			}
			sigma := math.Sqrt((m2 - mean*mean) / (n - 1))
			t.Logf("E_q[p~/q]/Z = %.4f +- %.4f (ESS/N %.3f)", mean, sigma, mean*mean/m2)
			if math.Abs(mean-1) > baseNormSigmas*sigma {
				t.Errorf("got E_q[p~/q]/Z = %.4f +- %.4f, want 1 within %g sigma", mean, sigma, baseNormSigmas)
			}
		})
	}
}

// identityCases are flows of every base with Init = InitIdentity.
func identityCases() []struct {
	name string
	cfg  Config
} {
	u1 := DefaultConfig(TheoryU1, 8)
	u1.Layers, u1.Mixtures = 8, 3
	phi4 := DefaultConfig(TheoryPhi4, 8)
	phi4.Layers = 8
	cases := []struct {
		name string
		cfg  Config
	}{
		{"u1/uniform", u1},
		{"u1/plaquettes/random", plaquetteConfig(8, 8, 3, 3, BaseModeRandom)},
		{"u1/plaquettes/fixed", plaquetteConfig(8, 8, 3, 3, BaseModeFixed)},
		{"u1/plaquettes/spread", plaquetteConfig(8, 8, 3, 3, BaseModeSpread)},
		{"phi4/normal", phi4},
	}
	for i := range cases {
		cases[i].cfg.Init = InitIdentity
	}
	return cases
}

// TestIdentityInit checks that a flow with Init = InitIdentity is its
// base: x = z, log q(x) = log q0(x) and the fast-path score is the base
// score, to rounding, so that with the plaquette base its
// independence-Metropolis acceptance is the proposal's. The same config
// with the default initialization is not the identity.
func TestIdentityInit(t *testing.T) {
	const B = 6
	for _, c := range identityCases() {
		t.Run(c.name, func(t *testing.T) {
			f, err := New[float64](c.cfg, rand.New(rand.NewPCG(28, 1)))
			if err != nil {
				t.Fatal(err)
			}
			n := B * f.Size
			z, x, s, logq := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, B)
			f.SampleBase(rand.New(rand.NewPCG(28, 2)), z)
			f.SampleScore(rand.New(rand.NewPCG(28, 2)), x, s, logq, 2)
			wantS := make([]float64, n)
			f.BaseScore(wantS, x, 2)
			angles := c.cfg.Theory == TheoryU1
			var dx, dq, ds float64
			for i := range B {
				xi := x[i*f.Size : (i+1)*f.Size]
				dq = math.Max(dq, math.Abs(logq[i]-f.Base.LogDensity(xi)))
			}
			for k := range x {
				d := math.Abs(x[k] - z[k])
				if angles {
					d = math.Abs(u1Diff(x[k], z[k]))
				}
				dx = math.Max(dx, d)
				ds = math.Max(ds, math.Abs(s[k]-wantS[k]))
			}
			t.Logf("max |x - z| %.3g, |log q - log q0| %.3g, |s - s0| %.3g", dx, dq, ds)
			if dx > baseIdentityTol || dq > baseIdentityTol || ds > baseIdentityTol*math.Max(1, c.cfg.BaseBeta) {
				t.Errorf("got max |x - z| = %.3g, |log q - log q0(x)| = %.3g, |s - d log q0/dx| = %.3g, want < %g",
					dx, dq, ds, baseIdentityTol)
			}
			// The random initialization is not the identity.
			rc := c.cfg
			rc.Init = InitRandom
			r, err := New[float64](rc, rand.New(rand.NewPCG(28, 1)))
			if err != nil {
				t.Fatal(err)
			}
			r.Sample(rand.New(rand.NewPCG(28, 2)), x, logq, 2)
			if d := math.Abs(logq[0] - r.Base.LogDensity(x[:f.Size])); d < 1e-3 {
				t.Errorf("random init: got |log q - log q0(x)| = %.3g, want a flow away from the identity", d)
			}
		})
	}
}

// TestIdentityInitGradient checks that training can leave the identity:
// the reverse-KL gradient of an identity-initialized flow (standard
// estimator, through Backward) is not zero in any layer, and lies in the
// last convolution of each conditioner (the earlier ones see a zero
// cotangent through the zero weights).
func TestIdentityInitGradient(t *testing.T) {
	const B = 4
	for _, c := range identityCases() {
		t.Run(c.name, func(t *testing.T) {
			f, err := New[float64](c.cfg, rand.New(rand.NewPCG(29, 1)))
			if err != nil {
				t.Fatal(err)
			}
			var act lattice.Action
			g := lattice.NewGeometry(c.cfg.L)
			if c.cfg.Theory == TheoryU1 {
				act = gauge.WilsonAction{Geom: g, Beta: 3}
			} else {
				act = lattice.NewPhi4Standard(g, -4, 8)
			}
			n := B * f.Size
			z, x, logq := make([]float64, n), make([]float64, n), make([]float64, B)
			f.SampleBase(rand.New(rand.NewPCG(29, 2)), z)
			p := f.NewPass(B)
			f.Forward(p, x, nil, logq, z, 1)
			gx, glogq := make([]float64, n), make([]float64, B)
			for i := range B {
				act.ForceTo(gx[i*f.Size:(i+1)*f.Size], x[i*f.Size:(i+1)*f.Size])
				glogq[i] = 1
			}
			grad := make([]float64, f.NumParams())
			f.Backward(p, nil, gx, glogq, grad, 1)
			off := 0
			for l, layer := range f.Layers {
				m := len(layer.Params())
				gl := grad[off : off+m]
				off += m
				var net *nn.Net[float64]
				switch c := layer.(type) {
				case *GaugeCoupling[float64]:
					net = c.Net()
				case *RealNVPCoupling[float64]:
					net = c.Net()
				}
				last := net.Layers[len(net.Layers)-1]
				lastN := len(last.W) + len(last.B)
				var head, tail float64
				for _, v := range gl[:m-lastN] {
					head = math.Max(head, math.Abs(v))
				}
				for _, v := range gl[m-lastN:] {
					tail = math.Max(tail, math.Abs(v))
				}
				if !(tail > 1e-6) || head != 0 {
					t.Errorf("layer %d: got max |grad| %.3g on the last convolution and %.3g before it, want > 0 and 0", l, tail, head)
				}
			}
		})
	}
}

// TestPlaquetteBaseWorkers checks that a flow with the plaquette base, in
// each constraint mode, gives bit-identical samples, scores, log q and base
// scores for any number of workers, in float64 and float32.
func TestPlaquetteBaseWorkers(t *testing.T) {
	for _, mode := range baseModes {
		cfg := plaquetteConfig(8, 4, 2, 3, mode)
		t.Run(mode+"/float64", func(t *testing.T) { testBaseWorkers[float64](t, cfg) })
		t.Run(mode+"/float32", func(t *testing.T) { testBaseWorkers[float32](t, cfg) })
	}
}

func testBaseWorkers[T nn.Float](t *testing.T, cfg Config) {
	f, err := New[T](cfg, rand.New(rand.NewPCG(30, 1)))
	if err != nil {
		t.Fatal(err)
	}
	const B = 7
	n := B * f.Size
	type result struct {
		x, s, s0 []T
		logq, lp []float64
	}
	run := func(workers int) result {
		r := result{x: make([]T, n), s: make([]T, n), s0: make([]T, n), logq: make([]float64, B), lp: make([]float64, B)}
		f.SampleScore(rand.New(rand.NewPCG(30, 2)), r.x, r.s, r.logq, workers)
		if err := f.LogProb(r.lp, r.x, workers); err != nil {
			t.Fatal(err)
		}
		f.BaseScore(r.s0, r.x, workers)
		return r
	}
	want := run(1)
	for _, workers := range []int{2, 3, 0} {
		if got := run(workers); !reflect.DeepEqual(got, want) {
			t.Errorf("workers=%d: got results different from 1 worker, want bit-identical", workers)
		}
	}
}

// TestPlaquetteBaseNoAlloc checks that the flow calls that evaluate the
// plaquette base, in each constraint mode, allocate nothing with one
// worker, in float64 and float32.
func TestPlaquetteBaseNoAlloc(t *testing.T) {
	for _, mode := range baseModes {
		cfg := plaquetteConfig(4, 2, 2, 3, mode)
		t.Run(mode+"/float64", func(t *testing.T) { testBaseNoAlloc[float64](t, cfg) })
		t.Run(mode+"/float32", func(t *testing.T) { testBaseNoAlloc[float32](t, cfg) })
	}
}

func testBaseNoAlloc[T nn.Float](t *testing.T, cfg Config) {
	f, err := New[T](cfg, rand.New(rand.NewPCG(31, 1)))
	if err != nil {
		t.Fatal(err)
	}
	const B = 4
	n := B * f.Size
	rng := rand.New(rand.NewPCG(31, 2))
	x, s, z, gz := make([]T, n), make([]T, n), make([]T, n), make([]T, n)
	q, gq := make([]float64, B), make([]float64, B)
	for i := range gq {
		gq[i] = 1
	}
	grad := make([]T, f.NumParams())
	p := f.NewPass(B)
	f.Sample(rng, x, q, 1)
	cases := []struct {
		name string
		fn   func()
	}{
		{"SampleBase", func() { f.SampleBase(rng, z) }},
		{"SampleScore", func() { f.SampleScore(rng, x, s, q, 1) }},
		{"LogProb", func() {
			if err := f.LogProb(q, x, 1); err != nil {
				t.Fatal(err)
			}
		}},
		{"BaseScore", func() { f.BaseScore(s, x, 1) }},
		{"Forward+Backward", func() {
			f.Forward(p, x, s, q, z, 1)
			f.Backward(p, gz, nil, gq, grad, 1)
		}},
		{"InverseForward+InverseBackward", func() {
			if err := f.InverseForward(p, z, x, nil, q, 1); err != nil {
				t.Fatal(err)
			}
			f.InverseBackward(p, s, nil, gq, grad, 1)
		}},
	}
	for _, c := range cases {
		c.fn() // warm up
		if a := testing.AllocsPerRun(5, c.fn); a != 0 {
			t.Errorf("%s with 1 worker: got %v allocations per call, want 0", c.name, a)
		}
	}
}

// TestModelBase checks that a model file keeps the base and the
// initialization: a flow with the plaquette base at beta = 3 round-trips
// through Save and Load, builds with the same base and log q, and keeps
// its base beta when built at another L; a file without a base (written
// before the field existed) has the uniform base, and a file with an
// unknown base is refused with an error naming it.
func TestModelBase(t *testing.T) {
	cfg := plaquetteConfig(4, 2, 2, 3, BaseModeFixed)
	cfg.Init = InitIdentity
	f, err := New[float64](cfg, rand.New(rand.NewPCG(32, 1)))
	if err != nil {
		t.Fatal(err)
	}
	theta := make([]float64, f.NumParams())
	f.GetParams(theta)
	jacPerturb(rand.New(rand.NewPCG(32, 2)), theta, 0.1) // trained
	f.SetParams(theta)
	m := NewModel(f)
	m.Target = ensemble.NewU1(4, 2)
	path := filepath.Join(t.TempDir(), "u1.model")
	if err := Save(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Config, cfg) {
		t.Errorf("config: got %+v, want %+v", got.Config, cfg)
	}
	g, err := Build[float64](got)
	if err != nil {
		t.Fatal(err)
	}
	pb, ok := g.Base.(PlaquetteBase)
	if !ok || pb.Proposal.Beta() != 3 || pb.Proposal.Mode() != gauge.ConstraintFixed {
		t.Fatalf("built base: got %v, want plaquettes at beta=3, fixed", g.Base)
	}
	x, q1, q2 := make([]float64, 2*f.Size), make([]float64, 2), make([]float64, 2)
	f.Sample(rand.New(rand.NewPCG(32, 3)), x, q1, 1)
	if err := g.LogProb(q2, x, 1); err != nil {
		t.Fatal(err)
	}
	if math.Abs(q1[0]-q2[0]) > 1e-9 || math.Abs(q1[1]-q2[1]) > 1e-9 {
		t.Errorf("log q of the built flow: got %v, want %v", q2, q1)
	}
	g8, err := BuildAt[float64](got, 8)
	if err != nil {
		t.Fatal(err)
	}
	if pb, ok := g8.Base.(PlaquetteBase); !ok || pb.Proposal.Beta() != 3 || pb.Proposal.Geometry().L != 8 {
		t.Errorf("built at L=8: got base %v, want plaquettes at beta=3 on L=8", g8.Base)
	}

	old := m
	old.Config = DefaultConfig(TheoryU1, 4)
	old.Config.Layers, old.Config.Mixtures = 2, 2
	b, err := old.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"base`) || strings.Contains(string(b), `"init"`) {
		t.Errorf("model file of the default config: got a base or init field, want none (old format)")
	}
	dec, err := Decode("old", b)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := Build[float64](dec); err != nil || u.Base != (UniformBase{}) {
		t.Errorf("model without a base: got base %v, error %v, want uniform", u.Base, err)
	}

	bad := m
	bad.Config.Base = "gaussian"
	b, err = bad.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode("bad", b); err == nil || !strings.Contains(err.Error(), `base "gaussian"`) {
		t.Errorf("unknown base in a model file: got error %v, want one naming base \"gaussian\"", err)
	}
}
