package flow

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"latflow/lattice"
)

const (
	// gaussKTol is the relative tolerance of the FFT-based density and
	// score against the O(V^2) reference DFT (float64 rounding).
	gaussKTol = 1e-10
	// gaussKFDTol is the tolerance of the score against central finite
	// differences of log q0.
	gaussKFDTol = 1e-6
	// gaussKSigmas is the tolerance of the statistical checks.
	gaussKSigmas = 4.0
)

// testPropagator returns an even propagator on L x L with the symmetry of
// the square lattice: the free propagator 1/(m2 + khat^2) of mass^2 m2,
// times a smooth factor so it is not exactly free.
func testPropagator(L int, m2 float64) []float64 {
	G := make([]float64, L*L)
	for n0 := range L {
		for n1 := range L {
			k0 := 2 * math.Pi * float64(n0) / float64(L)
			k1 := 2 * math.Pi * float64(n1) / float64(L)
			kh := 4*math.Pow(math.Sin(k0/2), 2) + 4*math.Pow(math.Sin(k1/2), 2)
			G[n0*L+n1] = (1 + 0.3*math.Cos(k0)*math.Cos(k1)) / (m2 + kh)
		}
	}
	return G
}

// refModes returns phi_k = V^(-1/2) sum_x exp(-i k.x) phi(x) by the
// O(V^2) DFT, indexed n0*L + n1.
func refModes(L int, phi []float64) []complex128 {
	V := L * L
	out := make([]complex128, V)
	for n0 := range L {
		for n1 := range L {
			var s complex128
			for x0 := range L {
				for x1 := range L {
					a := -2 * math.Pi * float64(n0*x0+n1*x1) / float64(L)
					s += complex(phi[x0*L+x1], 0) * cmplx.Exp(complex(0, a))
				}
			}
			out[n0*L+n1] = s / complex(math.Sqrt(float64(V)), 0)
		}
	}
	return out
}

// refLogDensity is log q0 from the O(V^2) DFT.
func refLogDensity(L int, G, phi []float64) float64 {
	var s float64
	for k, c := range refModes(L, phi) {
		a := cmplx.Abs(c)
		s += -0.5*a*a/G[k] - 0.5*math.Log(2*math.Pi*G[k])
	}
	return s
}

func newTestGaussK(t testing.TB, L int) GaussKBase {
	t.Helper()
	b, err := NewGaussKBase(L, testPropagator(L, 0.3))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGaussKBaseMatchesDFT checks LogDensity against the O(V^2) DFT.
func TestGaussKBaseMatchesDFT(t *testing.T) {
	for _, L := range []int{4, 6, 8} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			b := newTestGaussK(t, L)
			rng := rand.New(rand.NewPCG(1, uint64(L)))
			phi := make([]float64, L*L)
			for range 3 {
				for i := range phi {
					phi[i] = rng.NormFloat64()
				}
				got, want := b.LogDensity(phi), refLogDensity(L, b.g, phi)
				if math.Abs(got-want) > gaussKTol*math.Abs(want) {
					t.Errorf("log q0: got %.12g, want %.12g", got, want)
				}
			}
		})
	}
}

// TestGaussKBaseScoreFD checks ScoreTo against finite differences of
// LogDensity.
func TestGaussKBaseScoreFD(t *testing.T) {
	for _, L := range []int{4, 6} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			b := newTestGaussK(t, L)
			rng := rand.New(rand.NewPCG(2, uint64(L)))
			phi := make([]float64, L*L)
			for i := range phi {
				phi[i] = rng.NormFloat64()
			}
			s := make([]float64, L*L)
			b.ScoreTo(s, phi)
			want := jacGradFD(b.LogDensity, phi, nil)
			if e := jacMaxRel(s, want, nil, 1); e > gaussKFDTol {
				t.Errorf("d log q0/dphi: got max relative error %.3g, want < %g", e, gaussKFDTol)
			}
		})
	}
}

// TestGaussKBaseNormalized checks the normalization by the exact Gaussian
// integral of a free action, Z = int exp(-phi^T M phi/2) =
// prod_k sqrt(2pi/M(k)). With G = 1/M(k) the weight exp(-S)/q0 is Z for
// every sample; with G = 1.3/M(k), importance sampling gives Z within its
// error. Both fail if the density lacks or doubles a Jacobian factor of
// the real Fourier basis.
func TestGaussKBaseNormalized(t *testing.T) {
	const L, N = 4, 20000
	g := lattice.NewGeometry(L)
	act := lattice.NewPhi4Hopping(g, 0.2, 0)
	M := make([]float64, L*L)
	logZ := 0.0
	for n0 := range L {
		for n1 := range L {
			m := freeKernelTest(L, 2*act.A, 4*act.J, n0, n1)
			M[n0*L+n1] = m
			logZ += 0.5 * math.Log(2*math.Pi/m)
		}
	}
	for _, c := range []float64{1, 1.3} {
		t.Run(fmt.Sprintf("G=%g/M", c), func(t *testing.T) {
			G := make([]float64, L*L)
			for k, m := range M {
				G[k] = c / m
			}
			b, err := NewGaussKBase(L, G)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 3))
			phi := make([]float64, L*L)
			var sum, sum2 float64
			for range N {
				b.SampleTo(phi, rng)
				lw := -act.Action(phi) - b.LogDensity(phi) - logZ
				if c == 1 && math.Abs(lw) > 1e-9 {
					t.Fatalf("log w - log Z: got %g, want 0 for G = 1/M", lw)
				}
				w := math.Exp(lw)
				sum += w
				sum2 += w * w
			}
			mean := sum / N
			se := math.Sqrt(math.Max(sum2/N-mean*mean, 0) / N)
			if math.Abs(mean-1) > gaussKSigmas*se+1e-12 {
				t.Errorf("E[exp(-S)/q0]/Z: got %.4f +- %.4f, want 1", mean, se)
			}
			t.Logf("E[w]/Z = %.5f +- %.5f", mean, se)
		})
	}
}

// TestGaussKBaseCovariance checks that draws have <|phi_k|^2> = G(k) (by
// the reference DFT, per momentum) and the real-space covariance
// <phi(x) phi(x+r)> = (1/V) sum_k G(k) cos(k.r).
func TestGaussKBaseCovariance(t *testing.T) {
	const L, N = 6, 20000
	b := newTestGaussK(t, L)
	V := L * L
	rng := rand.New(rand.NewPCG(4, 4))
	phi := make([]float64, V)
	pk := make([]float64, V)
	rs := [][2]int{{0, 0}, {0, 1}, {1, 1}, {2, 3}}
	cov := make([]float64, len(rs))
	for range N {
		b.SampleTo(phi, rng)
		for k, c := range refModes(L, phi) {
			a := cmplx.Abs(c)
			pk[k] += a * a / N
		}
		for j, r := range rs {
			var s float64
			for x0 := range L {
				for x1 := range L {
					s += phi[x0*L+x1] * phi[(x0+r[0])%L*L+(x1+r[1])%L]
				}
			}
			cov[j] += s / float64(V*N)
		}
	}
	for k, v := range pk {
		// |phi_k|^2/G is chi^2 with 1 or 2 degrees of freedom over their
		// number: standard deviation at most sqrt(2) G.
		if se := math.Sqrt2 * b.g[k] / math.Sqrt(N); math.Abs(v-b.g[k]) > gaussKSigmas*se {
			t.Errorf("<|phi_k|^2> at n=(%d,%d): got %.4f, want G=%.4f +- %.4f", k/L, k%L, v, b.g[k], se)
		}
	}
	for j, r := range rs {
		var want float64
		for k, gk := range b.g {
			want += gk * math.Cos(2*math.Pi*float64(k/L*r[0]+k%L*r[1])/L) / float64(V)
		}
		// Standard error bound from the sample: Var(phi phi') <= C(0)^2 + C(r)^2 per pair.
		se := math.Sqrt(2) * b.covAt(0) / math.Sqrt(N)
		if math.Abs(cov[j]-want) > gaussKSigmas*se {
			t.Errorf("<phi(x) phi(x+%v)>: got %.4f, want %.4f +- %.4f", r, cov[j], want, se)
		}
	}
}

// covAt returns C(0) = (1/V) sum_k G(k).
func (b GaussKBase) covAt(int) float64 {
	var s float64
	for _, v := range b.g {
		s += v
	}
	return s / float64(len(b.g))
}

// TestMeasurePropagator checks that the propagator measured on draws of a
// GaussKBase is its G within errors, and is even.
func TestMeasurePropagator(t *testing.T) {
	const L, N = 8, 4000
	b := newTestGaussK(t, L)
	V := L * L
	rng := rand.New(rand.NewPCG(5, 5))
	configs := make([]float64, N*V)
	for i := range N {
		b.SampleTo(configs[i*V:(i+1)*V], rng)
	}
	G := make([]float64, V)
	if err := MeasurePropagator(G, L, configs); err != nil {
		t.Fatal(err)
	}
	for k, v := range G {
		if se := math.Sqrt2 * b.g[k] / math.Sqrt(N); math.Abs(v-b.g[k]) > gaussKSigmas*se {
			t.Errorf("G at n=(%d,%d): got %.4f, want %.4f +- %.4f", k/L, k%L, v, b.g[k], se)
		}
	}
	if _, err := NewGaussKBase(L, G); err != nil {
		t.Errorf("measured G: %v", err)
	}
	if err := MeasurePropagator(G, L, configs[:V+1]); err == nil {
		t.Errorf("ragged configurations: got no error")
	}
}

func gaussKConfig(L, layers int, init string) Config {
	cfg := DefaultConfig(TheoryPhi4, L)
	cfg.Layers, cfg.Hidden, cfg.Init = layers, []int{4}, init
	cfg.Base, cfg.BasePropagator = BaseGaussK, testPropagator(L, 0.3)
	return cfg
}

// TestGaussKConfig checks validation, the model file and BuildAt.
func TestGaussKConfig(t *testing.T) {
	good := gaussKConfig(4, 2, "")
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(c *Config){
		"no propagator":      func(c *Config) { c.BasePropagator = nil },
		"short propagator":   func(c *Config) { c.BasePropagator = c.BasePropagator[:5] },
		"negative":           func(c *Config) { c.BasePropagator = append([]float64{-1}, c.BasePropagator[1:]...) },
		"odd":                func(c *Config) { p := append([]float64(nil), c.BasePropagator...); p[1] *= 2; c.BasePropagator = p },
		"propagator, normal": func(c *Config) { c.Base = BaseNormal },
		"u1":                 func(c *Config) { c.Theory, c.Mixtures = TheoryU1, 2 },
	}
	for name, mod := range bad {
		c := gaussKConfig(4, 2, "")
		mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: got no error", name)
		}
	}
	f, err := New[float64](good, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Base.(GaussKBase); !ok {
		t.Fatalf("base: got %T, want GaussKBase", f.Base)
	}
	m := NewModel(f)
	m.Target.Theory, m.Target.L = TheoryPhi4, 4
	m.Target.Parametrization = "hopping"
	m.Target.Couplings = map[string]float64{"kappa": 0.27, "lambda": 0.022}
	enc, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode("gauss-k", enc)
	if err != nil {
		t.Fatal(err)
	}
	f2, err := Build[float64](got)
	if err != nil {
		t.Fatal(err)
	}
	phi := make([]float64, 16)
	for i := range phi {
		phi[i] = float64(i%5) - 2
	}
	if a, b := f.Base.LogDensity(phi), f2.Base.LogDensity(phi); a != b {
		t.Errorf("decoded model's base: log q0 %g, want %g", b, a)
	}
	if _, err := BuildAt[float64](got, 8); err == nil {
		t.Errorf("BuildAt L=8 with an L=4 propagator: got no error")
	}
}

// TestGaussKFlow checks a flow on the gauss-k base: at identity couplings
// it is its base (log q = log q0), and the fast-path score at random
// weights matches finite differences of LogProb.
func TestGaussKFlow(t *testing.T) {
	const L, B = 4, 3
	f, err := New[float64](gaussKConfig(L, 2, InitIdentity), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, B*f.Size)
	lq := make([]float64, B)
	f.Sample(rand.New(rand.NewPCG(2, 2)), x, lq, 1)
	for i := range B {
		if want := f.Base.LogDensity(x[i*f.Size : (i+1)*f.Size]); math.Abs(lq[i]-want) > 1e-12*math.Abs(want) {
			t.Errorf("identity flow, sample %d: log q %g, want log q0 %g", i, lq[i], want)
		}
	}
	f, err = New[float64](gaussKConfig(L, 4, InitRandom), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	s := make([]float64, B*f.Size)
	f.SampleScore(rand.New(rand.NewPCG(2, 2)), x, s, lq, 1)
	one := make([]float64, 1)
	logProb := func(xi []float64) float64 {
		if err := f.LogProb(one, xi, 1); err != nil {
			t.Fatal(err)
		}
		return one[0]
	}
	for i := range B {
		want := jacGradFD(logProb, x[i*f.Size:(i+1)*f.Size], nil)
		if e := jacMaxRel(s[i*f.Size:(i+1)*f.Size], want, nil, 1); e > flowFDTol {
			t.Errorf("sample %d: d log q/dx: got max relative error %.3g, want < %g", i, e, flowFDTol)
		}
	}
}

// BenchmarkGaussKBase measures one log-density evaluation (two 2D FFTs
// of gonum's dsp/fourier, separable) against the O(V^2) reference DFT.
func BenchmarkGaussKBase(b *testing.B) {
	for _, L := range []int{16, 32, 64} {
		base, err := NewGaussKBase(L, testPropagator(L, 0.3))
		if err != nil {
			b.Fatal(err)
		}
		phi := make([]float64, L*L)
		rng := rand.New(rand.NewPCG(1, 1))
		base.SampleTo(phi, rng)
		b.Run(fmt.Sprintf("fft/L=%d", L), func(b *testing.B) {
			for b.Loop() {
				base.LogDensity(phi)
			}
		})
		b.Run(fmt.Sprintf("score/L=%d", L), func(b *testing.B) {
			s := make([]float64, L*L)
			for b.Loop() {
				base.ScoreTo(s, phi)
			}
		})
		if L <= 32 {
			b.Run(fmt.Sprintf("dft-v2/L=%d", L), func(b *testing.B) {
				for b.Loop() {
					refLogDensity(L, base.g, phi)
				}
			})
		}
	}
}
