package gauge

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"latflow/lattice"
)

// meanErr returns the mean of xs and its standard error, for independent
// samples.
func meanErr(xs []float64) (mean, sigma float64) {
	n := float64(len(xs))
	m2 := 0.0
	for _, x := range xs {
		mean += x / n
		m2 += x * x / n
	}
	return mean, math.Sqrt((m2 - mean*mean) / (n - 1))
}

// TestExactSamplerMoments compares <cos P> and <Q^2> of independent exact
// samples with ExactTorus, and the mean number of tries with its exact
// value: a try is accepted with probability
// E[exp(beta (cos P(V-1) - 1))] over V-1 von Mises plaquettes, which is
// exp(-beta) Z_Haar / I0(beta)^(V-1).
func TestExactSamplerMoments(t *testing.T) {
	for _, c := range []struct {
		L, n int
		beta float64
	}{{4, 20000, 3}, {8, 6000, 3}, {16, 2000, 3}, {8, 6000, 2}, {3, 20000, 6}} {
		n := c.n
		if testing.Short() {
			n /= 4
		}
		t.Run(fmt.Sprintf("L=%d/beta=%g", c.L, c.beta), func(t *testing.T) {
			s, err := NewExactSampler(c.L, c.beta)
			if err != nil {
				t.Fatal(err)
			}
			e, err := ExactTorus(c.beta, c.L)
			if err != nil {
				t.Fatal(err)
			}
			g := s.Geometry()
			rng := rand.New(rand.NewPCG(20, uint64(c.L)))
			links := make([]float64, 2*g.V)
			cosP, q2, tries := make([]float64, n), make([]float64, n), make([]float64, n)
			for i := range n {
				tries[i] = float64(s.SampleTo(links, rng))
				cosP[i] = MeanCosPlaquette(g, links)
				q := TopologicalCharge(g, links)
				q2[i] = q * q
			}
			acc := math.Exp(e.LogZ - float64(g.V-1)*LogI0(c.beta) - c.beta)
			for _, o := range []struct {
				name string
				xs   []float64
				want float64
			}{{"<cos P>", cosP, e.MeanCos}, {"<Q^2>", q2, e.Q2}, {"<tries>", tries, 1 / acc}} {
				mean, sigma := meanErr(o.xs)
				t.Logf("%s: got %.5f +- %.5f, want %.5f", o.name, mean, sigma, o.want)
				if math.Abs(mean-o.want) > mcSigmas*sigma {
					t.Errorf("%s: got %.5f +- %.5f, want %.5f within %d sigma", o.name, mean, sigma, o.want, mcSigmas)
				}
			}
		})
	}
}

// onePlaquetteMarginal returns the unnormalized exact density of one
// plaquette angle on the periodic torus of V sites. The V plaquettes,
// wrapped into [-pi, pi), have the density prod_m exp(beta cos P(m)) times
// the periodic delta of sum_m P(m), (1/2pi) sum_n exp(i n sum_m P(m)); each
// of the V-1 integrals over the other plaquettes gives
// int exp(beta cos P + i n P) dP = 2pi I_n(beta), so
//
//	p(P) is proportional to exp(beta cos P) sum_n I_n(beta)^(V-1) cos(n P),
//
// normalized by 2pi sum_n I_n(beta)^V = 2pi Z_Haar. For V -> infinity only
// n = 0 survives and p is the von Mises density.
func onePlaquetteMarginal(beta float64, V int) func(float64) float64 {
	const nMax = 40
	c := make([]float64, nMax+1)
	i0 := besselI(0, beta)
	for n := range c {
		c[n] = math.Pow(besselI(n, beta)/i0, float64(V-1))
	}
	return func(x float64) float64 {
		s := c[0]
		for n := 1; n <= nMax; n++ {
			s += 2 * c[n] * math.Cos(float64(n)*x)
		}
		return math.Exp(beta*(math.Cos(x)-1)) * s
	}
}

// TestExactSamplerPlaquetteMarginal compares the histograms of the
// plaquette at site 0 and of the constrained one at site V-1 with the exact
// one-plaquette marginal of the finite torus, by chi^2. On L = 2 and 3 it
// differs visibly from the von Mises density, and the test checks that the
// same histograms reject the von Mises density, so it can tell them apart.
func TestExactSamplerPlaquetteMarginal(t *testing.T) {
	// n is not reduced in short mode: L = 3 needs it to tell the
	// marginal from the von Mises density.
	const nBins, n = 30, 40000
	for _, c := range []struct {
		L    int
		beta float64
	}{{2, 1}, {2, 2}, {3, 2}} {
		t.Run(fmt.Sprintf("L=%d/beta=%g", c.L, c.beta), func(t *testing.T) {
			s, err := NewExactSampler(c.L, c.beta)
			if err != nil {
				t.Fatal(err)
			}
			g := s.Geometry()
			V := g.V
			edges := make([]float64, nBins+1)
			for i := range edges {
				edges[i] = -math.Pi + twoPi*float64(i)/nBins
			}
			exact := binProbabilities(onePlaquetteMarginal(c.beta, V), edges)
			vonMises := binProbabilities(func(x float64) float64 { return math.Exp(c.beta * (math.Cos(x) - 1)) }, edges)
			rng := rand.New(rand.NewPCG(21, uint64(c.L)))
			links := make([]float64, 2*V)
			first, last := make([]int, nBins), make([]int, nBins)
			for range n {
				s.SampleTo(links, rng)
				first[binOf(edges, wrapPi(Plaquette(g, links, 0)))]++
				last[binOf(edges, wrapPi(Plaquette(g, links, V-1)))]++
			}
			for _, h := range []struct {
				name   string
				counts []int
			}{{"P(0)", first}, {"P(V-1)", last}} {
				stat, dof := chi2(h.counts, exact)
				statVM, _ := chi2(h.counts, vonMises)
				t.Logf("%s: chi^2 = %.1f for %d dof (against von Mises: %.1f)", h.name, stat, dof, statVM)
				if stat > chi2Limit(dof) {
					t.Errorf("%s: got chi^2 %.1f for %d dof, want at most %.1f", h.name, stat, dof, chi2Limit(dof))
				}
				if statVM <= chi2Limit(dof) {
					t.Errorf("%s: got chi^2 %.1f against von Mises, want above %.1f (the test cannot tell the marginals apart)", h.name, statVM, chi2Limit(dof))
				}
			}
		})
	}
}

// TestExactSamplerDraws checks reproducibility and the documented draws:
// the plaquettes of a one-try sample are the first V-1 von Mises draws.
func TestExactSamplerDraws(t *testing.T) {
	const L, beta = 3, 0.2 // small beta: most samples take one try
	s, err := NewExactSampler(L, beta)
	if err != nil {
		t.Fatal(err)
	}
	g := s.Geometry()
	links := make([]float64, 2*g.V)
	again := make([]float64, 2*g.V)
	for seed := range uint64(20) {
		tries := s.SampleTo(links, rand.New(rand.NewPCG(seed, 22)))
		if s.SampleTo(again, rand.New(rand.NewPCG(seed, 22))) != tries {
			t.Fatalf("seed %d: different numbers of tries from the same seed", seed)
		}
		for l := range links {
			if math.Float64bits(links[l]) != math.Float64bits(again[l]) {
				t.Fatalf("seed %d: link %d: got %g and %g from the same seed", seed, l, links[l], again[l])
			}
		}
		if tries != 1 {
			continue
		}
		replay := rand.New(rand.NewPCG(seed, 22))
		for n := range g.V - 1 {
			if want := VonMises(replay, beta); math.Abs(wrapPi(Plaquette(g, links, n)-want)) > treeTol {
				t.Errorf("seed %d: P(%d): got %g, want draw %g", seed, n, Plaquette(g, links, n), want)
			}
		}
		replay.Float64() // the acceptance test
		w0, _ := PolyakovLoops(g, links)
		if want := twoPi * replay.Float64(); math.Abs(wrapPi(w0-want)) > treeTol {
			t.Errorf("seed %d: w0: got %g, want draw %g", seed, w0, want)
		}
	}
}

func TestExactSamplerPanics(t *testing.T) {
	s, err := NewExactSampler(4, 2)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	expectPanic(t, "SampleTo short", func() { s.SampleTo(make([]float64, 31), rng) })
	expectPanic(t, "SampleTo nil rng", func() { s.SampleTo(make([]float64, 32), nil) })
}

// benchmarkSampler times fn, which draws one configuration on g, and
// reports samples per second.
func benchmarkSampler(b *testing.B, g *lattice.Geometry, fn func(links []float64)) {
	links := make([]float64, 2*g.V)
	b.ReportAllocs()
	for b.Loop() {
		fn(links)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkExactSampler(b *testing.B) {
	for _, L := range []int{16, 64} {
		b.Run(fmt.Sprintf("L=%d/beta=3", L), func(b *testing.B) {
			s, err := NewExactSampler(L, 3)
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			tries := 0
			benchmarkSampler(b, s.Geometry(), func(links []float64) { tries += s.SampleTo(links, rng) })
			b.ReportMetric(float64(b.N)/float64(tries), "acceptance")
		})
	}
}
