package gauge

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"latflow/lattice"
)

const (
	// mcSigmas is the number of standard errors a Monte Carlo estimate may
	// deviate from the exact value.
	mcSigmas = 3
	// logQTol bounds |log q from SampleTo - LogDensity| and the changes of
	// LogDensity under gauge transformations and 2pi shifts, relative to
	// beta V: both sides sum V cosines of angles rebuilt to about 1e-13.
	logQTol = 1e-12
	// scoreFDStep is the central finite-difference step in a link angle.
	scoreFDStep = 1e-5
	// scoreFDTol bounds |score - FD| / beta: truncation h^2/6 |d^3 log q|
	// is below 1e-9 beta for beta <= 20 here, rounding of log q
	// (about 1e-14 |log q|) over h below 1e-8.
	scoreFDTol = 1e-6
)

var modes = []ConstraintMode{ConstraintRandom, ConstraintFixed, ConstraintSpread}

func mustProposal(tb testing.TB, L int, beta float64, mode ConstraintMode) *PlaquetteProposal {
	tb.Helper()
	p, err := NewPlaquetteProposal(L, beta, mode)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestNewPlaquetteProposalErrors(t *testing.T) {
	for _, c := range []struct {
		L    int
		beta float64
		mode ConstraintMode
	}{
		{1, 2, ConstraintRandom}, {0, 2, ConstraintRandom}, {-3, 2, ConstraintFixed}, {maxProposalL + 1, 2, ConstraintRandom},
		{4, 0, ConstraintRandom}, {4, -1, ConstraintFixed}, {4, math.NaN(), ConstraintRandom}, {4, math.Inf(1), ConstraintRandom},
		{4, 2, ConstraintMode(3)}, {4, 2, ConstraintMode(-1)},
	} {
		t.Run(fmt.Sprintf("L=%d/beta=%g/mode=%v", c.L, c.beta, c.mode), func(t *testing.T) {
			_, err := NewPlaquetteProposal(c.L, c.beta, c.mode)
			if err == nil || err.Error()[:7] != "gauge: " {
				t.Errorf("got error %v, want one prefixed \"gauge: \"", err)
			}
		})
	}
	if _, err := NewExactSampler(1, 2); err == nil {
		t.Errorf("NewExactSampler(L=1): got nil error, want one")
	}
	if _, err := NewExactSampler(4, 0); err == nil {
		t.Errorf("NewExactSampler(beta=0): got nil error, want one")
	}
	if got := ConstraintMode(7).String(); got != "ConstraintMode(7)" {
		t.Errorf("String: got %q, want %q", got, "ConstraintMode(7)")
	}
}

// TestPlaquetteProposalSample checks that SampleTo returns wrapped links and
// the log density that LogDensity gives them.
func TestPlaquetteProposalSample(t *testing.T) {
	for _, mode := range modes {
		for _, L := range []int{2, 3, 8} {
			for _, beta := range []float64{0.5, 3, 1e3} {
				t.Run(fmt.Sprintf("mode=%v/L=%d/beta=%g", mode, L, beta), func(t *testing.T) {
					p := mustProposal(t, L, beta, mode)
					rng := rand.New(rand.NewPCG(8, uint64(L)))
					links := make([]float64, 2*L*L)
					for range 20 {
						logQ := p.SampleTo(links, rng)
						for l, x := range links {
							if !(x >= 0 && x < twoPi) {
								t.Fatalf("link %d: got %g, want in [0, 2pi)", l, x)
							}
						}
						want := p.LogDensity(links)
						if d := math.Abs(logQ - want); d > logQTol*beta*float64(L*L) || math.IsNaN(d) {
							t.Fatalf("got log q %.15g, want LogDensity %.15g", logQ, want)
						}
					}
				})
			}
		}
	}
}

// TestPlaquetteProposalDraws replays the documented order of the draws
// with a second generator of the same seed.
func TestPlaquetteProposalDraws(t *testing.T) {
	const L, beta = 4, 2.5
	for _, mode := range modes {
		t.Run(fmt.Sprintf("mode=%v/L=%d/beta=%g", mode, L, beta), func(t *testing.T) {
			p := mustProposal(t, L, beta, mode)
			g := p.Geometry()
			V := g.V
			links := make([]float64, 2*V)
			again := make([]float64, 2*V)
			p.SampleTo(links, rand.New(rand.NewPCG(9, 9)))
			p.SampleTo(again, rand.New(rand.NewPCG(9, 9)))
			for l := range links {
				if math.Float64bits(links[l]) != math.Float64bits(again[l]) {
					t.Fatalf("link %d: got %g and %g from the same seed", l, links[l], again[l])
				}
			}
			replay := rand.New(rand.NewPCG(9, 9))
			k := V - 1
			switch mode {
			case ConstraintRandom:
				k = replay.IntN(V)
			case ConstraintSpread:
				k = -1 // all V drawn
			}
			plaq := make([]float64, V)
			PlaquettesTo(plaq, g, links)
			draws := make([]float64, V)
			sum := 0.0
			for n := range V {
				if n != k {
					draws[n] = VonMises(replay, beta)
					sum += draws[n]
				}
			}
			shift := 0.0
			if mode == ConstraintSpread {
				// The shift spreads the sum modulo 2pi evenly.
				shift = spreadShift(sum, V)
				if s := shift * float64(V); math.Abs(wrapPi(s-sum)) > treeTol || s < -math.Pi || s >= math.Pi {
					t.Errorf("shift: got V c = %.15g, want the sum %.15g modulo 2pi in [-pi, pi)", s, sum)
				}
			}
			for n := range V {
				if n == k {
					continue
				}
				if want := draws[n] - shift; math.Abs(wrapPi(plaq[n]-want)) > treeTol {
					t.Errorf("P(%d): got %g, want draw - shift %g", n, plaq[n], want)
				}
			}
			w0, w1 := PolyakovLoops(g, links)
			if want := twoPi * replay.Float64(); math.Abs(wrapPi(w0-want)) > treeTol {
				t.Errorf("w0: got %g, want draw %g", w0, want)
			}
			if want := twoPi * replay.Float64(); math.Abs(wrapPi(w1-want)) > treeTol {
				t.Errorf("w1: got %g, want draw %g", w1, want)
			}
			for x0 := range L {
				for x1 := range L - 1 {
					if want := twoPi * replay.Float64(); links[V+g.Site(x0, x1)] != want {
						t.Errorf("theta_1(%d, %d): got %g, want draw %g", x0, x1, links[V+g.Site(x0, x1)], want)
					}
				}
			}
			for x0 := range L - 1 {
				if want := twoPi * replay.Float64(); links[g.Site(x0, 0)] != want {
					t.Errorf("theta_0(%d, 0): got %g, want draw %g", x0, links[g.Site(x0, 0)], want)
				}
			}
		})
	}
}

// translateTo writes into dst the configuration x shifted by d:
// dst_mu(n) = x_mu(n + d), so that P_dst(n) = P_x(n + d).
func translateTo(dst []float64, g *lattice.Geometry, x []float64, d0, d1 int) {
	V := g.V
	for x0 := range g.L {
		for x1 := range g.L {
			n, m := g.Site(x0, x1), g.Site(x0+d0, x1+d1)
			dst[n], dst[V+n] = x[m], x[V+m]
		}
	}
}

// TestPlaquetteProposalMixture checks the two densities against each other:
// q_k(x) = q_(V-1)(T x) for the translation T that moves site k to V-1, and
// the random mode's LogDensity is log (1/V) sum_k q_k. It also checks the
// fixed mode against its product formula.
func TestPlaquetteProposalMixture(t *testing.T) {
	for _, L := range []int{2, 3, 6} {
		for _, beta := range []float64{0.5, 3, 40} {
			t.Run(fmt.Sprintf("L=%d/beta=%g", L, beta), func(t *testing.T) {
				random := mustProposal(t, L, beta, ConstraintRandom)
				fixed := mustProposal(t, L, beta, ConstraintFixed)
				g := fixed.Geometry()
				V := g.V
				x := randomLinks(g, uint64(L))
				plaq := make([]float64, V)
				PlaquettesTo(plaq, g, x)
				want := -float64(V+1)*math.Log(twoPi) - float64(V-1)*(math.Log(twoPi)+LogI0(beta))
				for n := range V - 1 {
					want += beta * math.Cos(plaq[n])
				}
				if got := fixed.LogDensity(x); math.Abs(got-want) > logQTol*beta*float64(V) {
					t.Errorf("fixed: got %.15g, want %.15g", got, want)
				}
				lse := newLogSumExp()
				y := make([]float64, 2*V)
				for k := range V {
					k0, k1 := g.Coords(k)
					translateTo(y, g, x, k0-(L-1), k1-(L-1))
					lse.add(fixed.LogDensity(y))
				}
				want = lse.value() - math.Log(float64(V))
				if got := random.LogDensity(x); math.Abs(got-want) > logQTol*beta*float64(V) {
					t.Errorf("random: got %.15g, want log mean_k q_k = %.15g", got, want)
				}
			})
		}
	}
}

// TestPlaquetteProposalLargeBeta checks that LogDensity and ScoreTo stay
// finite where exp(beta) overflows, on a cold and a hot configuration.
func TestPlaquetteProposalLargeBeta(t *testing.T) {
	const L, beta = 4, 1e6
	for _, mode := range modes {
		p := mustProposal(t, L, beta, mode)
		g := p.Geometry()
		score := make([]float64, 2*g.V)
		for _, links := range [][]float64{make([]float64, 2*g.V), randomLinks(g, 3)} {
			lq := p.LogDensity(links)
			p.ScoreTo(score, links)
			if math.IsNaN(lq) || math.IsInf(lq, 0) {
				t.Errorf("mode=%v: got log q %g, want finite", mode, lq)
			}
			for l, s := range score {
				if math.IsNaN(s) || math.IsInf(s, 0) {
					t.Fatalf("mode=%v: score %d: got %g, want finite", mode, l, s)
				}
			}
		}
	}
}

// TestPlaquetteProposalNormalization checks that q is normalized on the flat
// measure: E_q[p~/q] with p~ = exp(beta sum cos P) is the exact flat-measure
// Z = Z_Haar (2pi)^(2V) of ExactTorus, within mcSigmas standard errors.
func TestPlaquetteProposalNormalization(t *testing.T) {
	n := 12000
	if testing.Short() {
		n = 4000
	}
	for _, mode := range modes {
		betas := []float64{0.7, 2, 5}
		if mode == ConstraintSpread {
			// Where the integral over the shift is sharply peaked.
			betas = append(betas, 30, 300)
		}
		for _, L := range []int{2, 3, 4} {
			for _, beta := range betas {
				t.Run(fmt.Sprintf("mode=%v/L=%d/beta=%g", mode, L, beta), func(t *testing.T) {
					p := mustProposal(t, L, beta, mode)
					g := p.Geometry()
					a := WilsonAction{Geom: g, Beta: beta}
					e, err := ExactTorus(beta, L)
					if err != nil && !errors.Is(err, ErrTopologyFrozen) {
						t.Fatal(err) // log Z is valid with ErrTopologyFrozen
					}
					logZ := e.LogZ + 2*float64(g.V)*math.Log(twoPi)
					rng := rand.New(rand.NewPCG(10, uint64(10*L)+uint64(beta)))
					links := make([]float64, 2*g.V)
					// Weights relative to Z, so that their mean is 1.
					mean, m2 := 0.0, 0.0
					for range n {
						logQ := p.SampleTo(links, rng)
						w := math.Exp(-a.Action(links) - logQ - logZ)
						mean += w / float64(n)
						m2 += w * w / float64(n)
					}
					sigma := math.Sqrt((m2 - mean*mean) / float64(n-1))
					t.Logf("E[w]/Z = %.4f +- %.4f", mean, sigma)
					if math.Abs(mean-1) > mcSigmas*sigma {
						t.Errorf("got E_q[p~/q]/Z = %.4f +- %.4f, want 1 within %d sigma", mean, sigma, mcSigmas)
					}
				})
			}
		}
	}
}

func TestPlaquetteProposalScoreFD(t *testing.T) {
	for _, mode := range modes {
		for _, L := range []int{2, 4} {
			for _, beta := range []float64{0.5, 3, 20} {
				t.Run(fmt.Sprintf("mode=%v/L=%d/beta=%g", mode, L, beta), func(t *testing.T) {
					p := mustProposal(t, L, beta, mode)
					g := p.Geometry()
					// A sample of the proposal, where the mixture weights
					// are uneven, and a hot start.
					sample := make([]float64, 2*g.V)
					p.SampleTo(sample, rand.New(rand.NewPCG(11, uint64(L))))
					for _, links := range [][]float64{sample, randomLinks(g, 12)} {
						score := make([]float64, len(links))
						p.ScoreTo(score, links)
						x := append([]float64(nil), links...)
						for l := range x {
							x[l] = links[l] + scoreFDStep
							lp := p.LogDensity(x)
							x[l] = links[l] - scoreFDStep
							lm := p.LogDensity(x)
							x[l] = links[l]
							fd := (lp - lm) / (2 * scoreFDStep)
							if d := math.Abs(score[l] - fd); d > scoreFDTol*beta {
								t.Errorf("link %d: got score %.10g, want FD %.10g (diff %.2g)", l, score[l], fd, d)
							}
						}
					}
				})
			}
		}
	}
}

func TestPlaquetteProposalInvariance(t *testing.T) {
	for _, mode := range modes {
		for _, beta := range []float64{1, 6} {
			const L = 5
			t.Run(fmt.Sprintf("mode=%v/L=%d/beta=%g", mode, L, beta), func(t *testing.T) {
				p := mustProposal(t, L, beta, mode)
				g := p.Geometry()
				rng := rand.New(rand.NewPCG(13, uint64(beta)))
				links := make([]float64, 2*g.V)
				p.SampleTo(links, rng)
				want := p.LogDensity(links)
				tol := logQTol * beta * float64(g.V)
				alpha := make([]float64, g.V)
				RandomLinksTo(alpha, rng)
				moved := make([]float64, len(links))
				GaugeTransformTo(moved, g, links, alpha)
				if got := p.LogDensity(moved); math.Abs(got-want) > tol {
					t.Errorf("gauge transformed: got %.15g, want %.15g", got, want)
				}
				for l := range moved {
					moved[l] = links[l] + twoPi*float64(rng.IntN(5)-2)
				}
				if got := p.LogDensity(moved); math.Abs(got-want) > tol {
					t.Errorf("shifted by multiples of 2pi: got %.15g, want %.15g", got, want)
				}
			})
		}
	}
}

// batchMean returns the mean of xs and its standard error from nb batch
// means, which is conservative for a correlated chain when the batches are
// much longer than its autocorrelation time.
func batchMean(xs []float64, nb int) (mean, sigma float64) {
	per := len(xs) / nb
	bm := make([]float64, nb)
	for b := range nb {
		for _, x := range xs[b*per : (b+1)*per] {
			bm[b] += x / float64(per)
		}
		mean += bm[b] / float64(nb)
	}
	for _, b := range bm {
		sigma += (b - mean) * (b - mean)
	}
	return mean, math.Sqrt(sigma / float64(nb*(nb-1)))
}

// imhChain runs steps of independence Metropolis with the proposal p for the
// Wilson action and returns the acceptance rate and the per-step mean
// plaquette and Q^2.
func imhChain(p *PlaquetteProposal, rng *rand.Rand, steps int) (acc float64, cosP, q2 []float64) {
	g := p.Geometry()
	a := WilsonAction{Geom: g, Beta: p.Beta()}
	cur := make([]float64, 2*g.V)
	prop := make([]float64, 2*g.V)
	p.SampleTo(cur, rng) // the first proposal, always accepted
	logW := -a.Action(cur) - p.LogDensity(cur)
	accepted := 0
	for range steps {
		lw := -p.SampleTo(prop, rng) - a.Action(prop)
		if lw >= logW || rng.Float64() < math.Exp(lw-logW) {
			cur, prop = prop, cur
			logW = lw
			accepted++
		}
		q := TopologicalCharge(g, cur)
		cosP = append(cosP, MeanCosPlaquette(g, cur))
		q2 = append(q2, q*q)
	}
	return float64(accepted) / float64(steps), cosP, q2
}

// TestPlaquetteProposalIMH runs independence Metropolis with the proposal
// and compares <cos P> and <Q^2> with ExactTorus within mcSigmas batch-mean
// errors (50 batches of a chain whose autocorrelation time is a few steps).
func TestPlaquetteProposalIMH(t *testing.T) {
	const nBatches = 50
	steps := 40000
	if testing.Short() {
		steps = 15000
	}
	for _, c := range []struct {
		mode ConstraintMode
		L    int
		beta float64
	}{
		{ConstraintRandom, 4, 2}, {ConstraintRandom, 4, 4}, {ConstraintFixed, 4, 2}, {ConstraintRandom, 3, 3},
		{ConstraintSpread, 4, 2}, {ConstraintSpread, 4, 4}, {ConstraintSpread, 3, 3},
	} {
		t.Run(fmt.Sprintf("mode=%v/L=%d/beta=%g", c.mode, c.L, c.beta), func(t *testing.T) {
			p := mustProposal(t, c.L, c.beta, c.mode)
			e, err := ExactTorus(c.beta, c.L)
			if err != nil {
				t.Fatal(err)
			}
			acc, cosP, q2 := imhChain(p, rand.New(rand.NewPCG(14, uint64(c.L))), steps)
			t.Logf("acceptance %.3f", acc)
			for _, o := range []struct {
				name string
				xs   []float64
				want float64
			}{{"<cos P>", cosP, e.MeanCos}, {"<Q^2>", q2, e.Q2}} {
				mean, sigma := batchMean(o.xs, nBatches)
				t.Logf("%s: got %.5f +- %.5f, want %.5f", o.name, mean, sigma, o.want)
				if math.Abs(mean-o.want) > mcSigmas*sigma {
					t.Errorf("%s: got %.5f +- %.5f, want %.5f within %d sigma", o.name, mean, sigma, o.want, mcSigmas)
				}
			}
		})
	}
}

func TestPlaquetteProposalAllocs(t *testing.T) {
	for _, mode := range modes {
		p := mustProposal(t, 8, 3, mode)
		rng := rand.New(rand.NewPCG(1, 1))
		links := make([]float64, 2*p.Geometry().V)
		score := make([]float64, len(links))
		for _, c := range []struct {
			name string
			f    func()
		}{
			{"SampleTo", func() { p.SampleTo(links, rng) }},
			{"LogDensity", func() { p.LogDensity(links) }},
			{"ScoreTo", func() { p.ScoreTo(score, links) }},
		} {
			if n := testing.AllocsPerRun(20, c.f); n != 0 {
				t.Errorf("mode=%v: %s: got %g allocs, want 0", mode, c.name, n)
			}
		}
	}
	s, err := NewExactSampler(8, 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	links := make([]float64, 2*s.Geometry().V)
	if n := testing.AllocsPerRun(20, func() { s.SampleTo(links, rng) }); n != 0 {
		t.Errorf("ExactSampler.SampleTo: got %g allocs, want 0", n)
	}
}

// TestPlaquetteProposalConcurrent evaluates one proposal from several
// goroutines (run with -race to check the claim of concurrent safety).
func TestPlaquetteProposalConcurrent(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) { testProposalConcurrent(t, mustProposal(t, 6, 3, mode)) })
	}
}

func testProposalConcurrent(t *testing.T, p *PlaquetteProposal) {
	g := p.Geometry()
	links := randomLinks(g, 15)
	want := p.LogDensity(links)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for w := range errs {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(16, uint64(w)))
			x := make([]float64, 2*g.V)
			score := make([]float64, 2*g.V)
			for range 50 {
				p.SampleTo(x, rng)
				p.ScoreTo(score, links)
				if got := p.LogDensity(links); got != want {
					errs[w] = fmt.Errorf("worker %d: got %g, want %g", w, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestPlaquetteProposalPanics(t *testing.T) {
	p := mustProposal(t, 4, 2, ConstraintRandom)
	good := make([]float64, 2*p.Geometry().V)
	short := good[:len(good)-1]
	rng := rand.New(rand.NewPCG(1, 1))
	expectPanic(t, "SampleTo short", func() { p.SampleTo(short, rng) })
	expectPanic(t, "SampleTo nil rng", func() { p.SampleTo(good, nil) })
	expectPanic(t, "LogDensity short", func() { p.LogDensity(short) })
	expectPanic(t, "ScoreTo short dst", func() { p.ScoreTo(short, good) })
	expectPanic(t, "ScoreTo aliasing", func() { p.ScoreTo(good, good) })
	expectPanic(t, "MaximalTreeTo short plaquettes", func() { MaximalTreeTo(good, p.Geometry(), make([]float64, 3), 0, 0) })
}

func BenchmarkPlaquetteProposalSample(b *testing.B) {
	for _, mode := range modes {
		for _, L := range []int{16, 64} {
			b.Run(fmt.Sprintf("mode=%v/L=%d", mode, L), func(b *testing.B) {
				p := mustProposal(b, L, 3, mode)
				rng := rand.New(rand.NewPCG(1, 2))
				benchmarkSampler(b, p.Geometry(), func(links []float64) { p.SampleTo(links, rng) })
			})
		}
	}
}

// proposalSample returns a draw of p, where the benchmarks evaluate it: the
// cost of ConstraintSpread depends on the configuration (through the
// peak of its integral).
func proposalSample(p *PlaquetteProposal) []float64 {
	links := make([]float64, 2*p.Geometry().V)
	p.SampleTo(links, rand.New(rand.NewPCG(1, 3)))
	return links
}

func BenchmarkPlaquetteProposalLogDensity(b *testing.B) {
	for _, mode := range modes {
		const L = 16
		b.Run(fmt.Sprintf("mode=%v/L=%d", mode, L), func(b *testing.B) {
			p := mustProposal(b, L, 3, mode)
			links := proposalSample(p)
			s := 0.0
			b.ReportAllocs()
			for b.Loop() {
				s += p.LogDensity(links)
			}
			if math.IsNaN(s) {
				b.Fatal("NaN")
			}
		})
	}
}

func BenchmarkPlaquetteProposalScore(b *testing.B) {
	for _, mode := range modes {
		const L = 16
		b.Run(fmt.Sprintf("mode=%v/L=%d", mode, L), func(b *testing.B) {
			p := mustProposal(b, L, 3, mode)
			links := proposalSample(p)
			score := make([]float64, len(links))
			b.ReportAllocs()
			for b.Loop() {
				p.ScoreTo(score, links)
			}
		})
	}
}

// BenchmarkPlaquetteProposalIMH measures the independence-Metropolis
// acceptance of the proposal for the Wilson action, one proposal per
// iteration; run it with a fixed count, e.g. -benchtime 20000x.
func BenchmarkPlaquetteProposalIMH(b *testing.B) {
	for _, mode := range modes {
		for _, beta := range []float64{2, 3, 6} {
			for _, L := range []int{8, 16, 32} {
				b.Run(fmt.Sprintf("mode=%v/beta=%g/L=%d", mode, beta, L), func(b *testing.B) {
					p := mustProposal(b, L, beta, mode)
					a := WilsonAction{Geom: p.Geometry(), Beta: beta}
					rng := rand.New(rand.NewPCG(17, uint64(L)))
					x := make([]float64, 2*p.Geometry().V)
					logW := -a.Action(x) - p.SampleTo(x, rng)
					logW = -a.Action(x) - p.LogDensity(x)
					accepted := 0
					b.ReportAllocs()
					for b.Loop() {
						lw := -p.SampleTo(x, rng) - a.Action(x)
						if lw >= logW || rng.Float64() < math.Exp(lw-logW) {
							logW = lw
							accepted++
						}
					}
					b.ReportMetric(float64(accepted)/float64(b.N), "acceptance")
				})
			}
		}
	}
}

// TestParseConstraintMode: every mode parses from its String, and other
// names are errors naming the three modes.
func TestParseConstraintMode(t *testing.T) {
	for _, m := range []ConstraintMode{ConstraintRandom, ConstraintFixed, ConstraintSpread} {
		if got, err := ParseConstraintMode(m.String()); err != nil || got != m {
			t.Errorf("ParseConstraintMode(%q) = %v, %v; want %v", m.String(), got, err, m)
		}
	}
	for _, name := range []string{"", "Random", "last", "spread "} {
		if _, err := ParseConstraintMode(name); err == nil || !strings.Contains(err.Error(), `"spread"`) {
			t.Errorf("ParseConstraintMode(%q): error %v, want one naming the modes", name, err)
		}
	}
}
