package sampler_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"latflow/gauge"
	"latflow/lattice"
	"latflow/sampler"
)

var _ lattice.Action = lattice.Phi4Action{}

const (
	// reversibleTol is the largest allowed deviation of x and p after a
	// leapfrog trajectory forward and back (rounding only).
	reversibleTol = 1e-10
	// scalingTol is the allowed deviation of |dH(eps)| / |dH(eps/2)| from 4,
	// the leading eps^2 behaviour of the leapfrog energy error.
	scalingTol = 0.3
	// kSigma is the width of statistical checks in standard errors.
	kSigma = 3
	// nBins is the number of bins of the binning error estimate.
	nBins = 40
)

// binnedMean returns the mean of xs and its standard error estimated from
// nBins consecutive bins (leftover samples at the end are dropped), which
// is reliable when a bin is much longer than the autocorrelation time.
func binnedMean(xs []float64, nBins int) (mean, stderr float64) {
	size := len(xs) / nBins
	if size < 1 {
		panic(fmt.Sprintf("binnedMean: %d samples for %d bins", len(xs), nBins))
	}
	bins := make([]float64, nBins)
	for b := range bins {
		var s float64
		for _, x := range xs[b*size : (b+1)*size] {
			s += x
		}
		bins[b] = s / float64(size)
		mean += bins[b]
	}
	mean /= float64(nBins)
	var v float64
	for _, m := range bins {
		v += (m - mean) * (m - mean)
	}
	return mean, math.Sqrt(v / float64(nBins-1) / float64(nBins))
}

func gaussian(rng *rand.Rand, n int, scale float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = scale * rng.NormFloat64()
	}
	return x
}

func TestHMCValidate(t *testing.T) {
	for _, c := range []struct {
		h  sampler.HMC
		ok bool
	}{
		{sampler.HMC{Tau: 1, Steps: 10}, true},
		{sampler.HMC{Tau: 0.1, Steps: 1}, true},
		{sampler.HMC{Tau: 0, Steps: 10}, false},
		{sampler.HMC{Tau: -1, Steps: 10}, false},
		{sampler.HMC{Tau: math.NaN(), Steps: 10}, false},
		{sampler.HMC{Tau: math.Inf(1), Steps: 10}, false},
		{sampler.HMC{Tau: 1, Steps: 0}, false},
	} {
		err := c.h.Validate()
		if (err == nil) != c.ok {
			t.Errorf("%+v: got error %v, want ok=%v", c.h, err, c.ok)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "sampler: ") {
			t.Errorf("%+v: got error %q, want prefix \"sampler: \"", c.h, err)
		}
	}
}

func phi4Actions(g *lattice.Geometry) []lattice.Phi4Action {
	return []lattice.Phi4Action{lattice.NewPhi4Standard(g, -4, 8), lattice.NewPhi4Hopping(g, 0.3, 0.022)}
}

func TestLeapfrogReversible(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	g := lattice.NewGeometry(8)
	for _, a := range phi4Actions(g) {
		t.Run(fmt.Sprintf("L=8/%v", a.Param), func(t *testing.T) {
			h := sampler.HMC{Tau: 1, Steps: 20}
			x0 := gaussian(rng, g.V, 1)
			p0 := gaussian(rng, g.V, 1)
			x := append([]float64(nil), x0...)
			p := append([]float64(nil), p0...)
			force := make([]float64, g.V)
			h.Leapfrog(a, x, p, force)
			moved := 0.0
			for i := range x {
				moved = math.Max(moved, math.Abs(x[i]-x0[i]))
				p[i] = -p[i]
			}
			if moved < 0.1 {
				t.Fatalf("got max |x(tau)-x(0)|=%g, want a trajectory that moves", moved)
			}
			h.Leapfrog(a, x, p, force)
			for i := range x {
				p[i] = -p[i]
				if math.Abs(x[i]-x0[i]) > reversibleTol || math.Abs(p[i]-p0[i]) > reversibleTol {
					t.Fatalf("site %d: got (x, p)=(%.15g, %.15g), want (%.15g, %.15g)", i, x[i], p[i], x0[i], p0[i])
				}
			}
		})
	}
}

// energyError returns sum over the starts of |H(end) - H(start)| for one
// leapfrog trajectory from each start.
func energyError(h sampler.HMC, a lattice.Action, xs, ps [][]float64) float64 {
	var sum float64
	for k := range xs {
		x := append([]float64(nil), xs[k]...)
		p := append([]float64(nil), ps[k]...)
		h0 := a.Action(x)
		for _, v := range p {
			h0 += v * v / 2
		}
		h.Leapfrog(a, x, p, make([]float64, len(x)))
		h1 := a.Action(x)
		for _, v := range p {
			h1 += v * v / 2
		}
		sum += math.Abs(h1 - h0)
	}
	return sum
}

func TestLeapfrogEnergyScaling(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 2))
	g := lattice.NewGeometry(8)
	for _, a := range phi4Actions(g) {
		t.Run(fmt.Sprintf("L=8/%v", a.Param), func(t *testing.T) {
			var xs, ps [][]float64
			for k := 0; k < 4; k++ {
				xs = append(xs, gaussian(rng, g.V, 0.5))
				ps = append(ps, gaussian(rng, g.V, 1))
			}
			const tau = 0.5
			prev := energyError(sampler.HMC{Tau: tau, Steps: 20}, a, xs, ps)
			for _, steps := range []int{40, 80} {
				cur := energyError(sampler.HMC{Tau: tau, Steps: steps}, a, xs, ps)
				r := prev / cur
				t.Logf("steps %d -> %d: |dH| %.3g -> %.3g, ratio %.4f", steps/2, steps, prev, cur, r)
				if math.Abs(r-4) > scalingTol {
					t.Errorf("steps %d -> %d: got |dH| ratio %.4f (%.3g / %.3g), want 4 +- %g", steps/2, steps, r, prev, cur, scalingTol)
				}
				prev = cur
			}
		})
	}
}

func TestChainReproducible(t *testing.T) {
	g := lattice.NewGeometry(6)
	a := lattice.NewPhi4Standard(g, -4, 8)
	h := sampler.HMC{Tau: 0.5, Steps: 10}
	run := func(seed uint64) ([]float64, []float64) {
		c := sampler.NewChain(h, a, make([]float64, g.V), rand.New(rand.NewPCG(seed, 7)))
		var dHs []float64
		for i := 0; i < 50; i++ {
			_, dH := c.Step()
			dHs = append(dHs, dH)
		}
		return c.X, dHs
	}
	x1, d1 := run(1)
	x2, d2 := run(1)
	x3, _ := run(2)
	for i := range x1 {
		if math.Float64bits(x1[i]) != math.Float64bits(x2[i]) {
			t.Fatalf("site %d: got %v and %v for the same seed, want identical", i, x1[i], x2[i])
		}
	}
	for i := range d1 {
		if math.Float64bits(d1[i]) != math.Float64bits(d2[i]) {
			t.Fatalf("trajectory %d: got dH %v and %v for the same seed, want identical", i, d1[i], d2[i])
		}
	}
	same := true
	for i := range x1 {
		same = same && x1[i] == x3[i]
	}
	if same {
		t.Errorf("got identical chains for seeds 1 and 2, want different")
	}
}

func TestChainCopiesStart(t *testing.T) {
	g := lattice.NewGeometry(4)
	x0 := make([]float64, g.V)
	c := sampler.NewChain(sampler.HMC{Tau: 1, Steps: 5}, lattice.NewPhi4Standard(g, 1, 0), x0, rand.New(rand.NewPCG(1, 1)))
	for i := 0; i < 5; i++ {
		c.Step()
	}
	for i, v := range x0 {
		if v != 0 {
			t.Fatalf("x0[%d]: got %v after Step, want 0 (NewChain copies x0)", i, v)
		}
	}
	if c.Trajectories() != 5 {
		t.Errorf("got %d trajectories, want 5", c.Trajectories())
	}
}

// harmonicWrap is S = (1/2) sum x^2 with a Wrap that counts its calls.
type harmonicWrap struct{ wraps *int }

func (harmonicWrap) Action(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v / 2
	}
	return s
}

func (harmonicWrap) ForceTo(dst, x []float64) { copy(dst, x) }

func (h harmonicWrap) Wrap(x []float64) { *h.wraps++ }

func TestChainWrapsAccepted(t *testing.T) {
	var wraps int
	act := harmonicWrap{&wraps}
	// A coarse step makes some trajectories rejected.
	c := sampler.NewChain(sampler.HMC{Tau: 3, Steps: 2}, act, make([]float64, 50), rand.New(rand.NewPCG(5, 1)))
	accepted := 0
	const n = 200
	for i := 0; i < n; i++ {
		if ok, _ := c.Step(); ok {
			accepted++
		}
	}
	if wraps != accepted {
		t.Errorf("got %d calls of Wrap, want %d (accepted trajectories)", wraps, accepted)
	}
	if accepted == 0 || accepted == n {
		t.Fatalf("got %d of %d accepted, want a mix", accepted, n)
	}
	if got, want := c.Acceptance(), float64(accepted)/n; got != want {
		t.Errorf("got acceptance %v, want %v", got, want)
	}
}

func TestChainStepNoAlloc(t *testing.T) {
	g := lattice.NewGeometry(8)
	c := sampler.NewChain(sampler.HMC{Tau: 1, Steps: 10}, lattice.NewPhi4Standard(g, -4, 8), make([]float64, g.V), rand.New(rand.NewPCG(1, 1)))
	if allocs := testing.AllocsPerRun(20, func() { c.Step() }); allocs != 0 {
		t.Errorf("got %v allocations per Step, want 0", allocs)
	}
}

func TestHMCFreeField(t *testing.T) {
	for _, L := range []int{4, 6} {
		t.Run(fmt.Sprintf("L=%d/m2=1", L), func(t *testing.T) {
			g := lattice.NewGeometry(L)
			a := lattice.NewPhi4Standard(g, 1, 0)
			exact, err := lattice.ExactFreeField(a)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(11, uint64(L)))
			// Fixed-length HMC is not ergodic for a free mode with
			// omega Tau = pi (x -> -x whatever the momentum); the
			// frequencies sqrt(M(k)) lie in [sqrt(2), sqrt(18)], so
			// Tau = 0.6 keeps omega Tau in [0.85, 2.55], away from pi
			// (Tau = 1 resonates with omega = sqrt(10) ~ 3.16).
			c := sampler.NewChain(sampler.HMC{Tau: 0.6, Steps: 6}, a, make([]float64, g.V), rng)
			const therm, n = 200, 60000
			phi2 := make([]float64, n)
			chi2 := make([]float64, n)
			for i := -therm; i < n; i++ {
				c.Step()
				if i < 0 {
					continue
				}
				var s2, s float64
				for _, v := range c.X {
					s2 += v * v
					s += v
				}
				phi2[i] = s2 / float64(g.V)
				chi2[i] = s * s / float64(g.V)
			}
			for _, o := range []struct {
				name string
				xs   []float64
				want float64
			}{{"<phi^2>", phi2, exact.Phi2}, {"chi_2", chi2, exact.Chi2}} {
				m, e := binnedMean(o.xs, nBins)
				if math.Abs(m-o.want) > kSigma*e {
					t.Errorf("%s: got %.5f +- %.5f, want %.5f (exact) within %d sigma", o.name, m, e, o.want, kSigma)
				}
				t.Logf("%s: got %.5f +- %.5f, exact %.5f, acceptance %.3f", o.name, m, e, o.want, c.Acceptance())
			}
		})
	}
}

func TestChainPanics(t *testing.T) {
	g := lattice.NewGeometry(4)
	a := lattice.NewPhi4Standard(g, 1, 0)
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float64, g.V)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"Steps=0", func() { sampler.NewChain(sampler.HMC{Tau: 1}, a, x, rng) }},
		{"nil rng", func() { sampler.NewChain(sampler.HMC{Tau: 1, Steps: 1}, a, x, nil) }},
		{"empty x0", func() { sampler.NewChain(sampler.HMC{Tau: 1, Steps: 1}, a, nil, rng) }},
		{"Leapfrog lengths", func() { sampler.HMC{Tau: 1, Steps: 1}.Leapfrog(a, x, x[:3], x) }},
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.HasPrefix(fmt.Sprint(r), "sampler: ") {
					t.Errorf("%s: got panic %v, want one prefixed \"sampler: \"", c.name, r)
				}
			}()
			c.f()
		}()
	}
}

// benchmarkTrajectories runs HMC trajectories of act from x0 and reports
// trajectories per second.
func benchmarkTrajectories(b *testing.B, h sampler.HMC, act lattice.Action, x0 []float64) {
	c := sampler.NewChain(h, act, x0, rand.New(rand.NewPCG(1, 1)))
	b.ReportAllocs()
	for b.Loop() {
		c.Step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "traj/s")
	b.ReportMetric(c.Acceptance(), "acceptance")
}

func BenchmarkHMCTrajectory(b *testing.B) {
	b.Run("phi4/L=16", func(b *testing.B) {
		g := lattice.NewGeometry(16)
		benchmarkTrajectories(b, sampler.HMC{Tau: 1, Steps: 10}, lattice.NewPhi4Standard(g, -4, 8), make([]float64, g.V))
	})
	b.Run("u1/L=16", func(b *testing.B) {
		g := lattice.NewGeometry(16)
		x0 := make([]float64, 2*g.V)
		gauge.RandomLinksTo(x0, rand.New(rand.NewPCG(1, 2)))
		benchmarkTrajectories(b, sampler.HMC{Tau: 1, Steps: 10}, gauge.WilsonAction{Geom: g, Beta: 3}, x0)
	})
}
