package gauge

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/integrate/quad"
)

const (
	// chi2Sigmas is how many standard deviations sqrt(2 dof) above its mean
	// dof a chi^2 statistic may lie.
	chi2Sigmas = 4
	// logI0Tol is the absolute accuracy of LogI0, that is the relative
	// accuracy of I0, checked against independent references.
	logI0TestTol = 1e-13
)

// binProbabilities returns the probabilities of the bins between edges of the
// unnormalized density f, normalized over [edges[0], edges[len-1]], by
// Gauss-Legendre quadrature on each bin.
func binProbabilities(f func(float64) float64, edges []float64) []float64 {
	p := make([]float64, len(edges)-1)
	total := 0.0
	for i := range p {
		p[i] = quad.Fixed(f, edges[i], edges[i+1], 40, quad.Legendre{}, 0)
		total += p[i]
	}
	for i := range p {
		p[i] /= total
	}
	return p
}

// chi2 returns the chi^2 statistic of the counts against the probabilities
// and its number of degrees of freedom.
func chi2(counts []int, probs []float64) (stat float64, dof int) {
	n := 0
	for _, c := range counts {
		n += c
	}
	for i, c := range counts {
		e := probs[i] * float64(n)
		stat += (float64(c) - e) * (float64(c) - e) / e
	}
	return stat, len(counts) - 1
}

// binOf returns the index of the bin of x between sorted edges, clamped to
// the first and last bin.
func binOf(edges []float64, x float64) int {
	lo, hi := 0, len(edges)-2
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if x >= edges[mid] {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// chi2Limit is the largest chi^2 accepted for dof degrees of freedom.
func chi2Limit(dof int) float64 {
	return float64(dof) + chi2Sigmas*math.Sqrt(2*float64(dof))
}

// vonMisesEdges returns bin edges of roughly equal probability for the von
// Mises density with concentration kappa: a fine partition of the range
// where the density is above exp(-72) of its peak, cut where the
// cumulative probability crosses j/nBins.
func vonMisesEdges(kappa float64, nBins int) []float64 {
	c := math.Pi
	if kappa > 0 {
		c = math.Min(math.Pi, 12/math.Sqrt(kappa))
	}
	const fine = 2000
	fineEdges := make([]float64, fine+1)
	for i := range fineEdges {
		fineEdges[i] = -c + 2*c*float64(i)/fine
	}
	fineEdges[fine] = c
	p := binProbabilities(func(x float64) float64 { return math.Exp(-2 * kappa * math.Pow(math.Sin(x/2), 2)) }, fineEdges)
	edges := []float64{-c}
	cum := 0.0
	for i, pi := range p {
		cum += pi
		if float64(len(edges)) <= cum*float64(nBins) && len(edges) < nBins && i < fine-1 {
			edges = append(edges, fineEdges[i+1])
		}
	}
	return append(edges, c)
}

func TestVonMisesChi2(t *testing.T) {
	const nBins = 40
	n := 40000
	if testing.Short() {
		n = 10000
	}
	for i, kappa := range []float64{0, 0.01, 0.5, 2, 10, 100, 1e4, 1e8} {
		t.Run(fmt.Sprintf("kappa=%g", kappa), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(77, uint64(i)))
			edges := vonMisesEdges(kappa, nBins)
			probs := binProbabilities(func(x float64) float64 { return math.Exp(-2 * kappa * math.Pow(math.Sin(x/2), 2)) }, edges)
			counts := make([]int, len(probs))
			for range n {
				x := VonMises(rng, kappa)
				if !(x >= -math.Pi && x < math.Pi) {
					t.Fatalf("got %g, want in [-pi, pi)", x)
				}
				counts[binOf(edges, x)]++
			}
			stat, dof := chi2(counts, probs)
			t.Logf("chi^2 = %.1f for %d dof", stat, dof)
			if stat > chi2Limit(dof) {
				t.Errorf("got chi^2 %.1f for %d dof, want at most %.1f", stat, dof, chi2Limit(dof))
			}
		})
	}
}

// countingSource counts the values drawn from a PCG.
type countingSource struct {
	src rand.Source
	n   int
}

func (c *countingSource) Uint64() uint64 { c.n++; return c.src.Uint64() }

// TestVonMisesUniforms checks the documented consumption: two uniforms per
// try, and fewer than 1.55 tries per draw on average.
func TestVonMisesUniforms(t *testing.T) {
	const draws, maxTries = 20000, 1.55
	for _, kappa := range []float64{0, 0.01, 1, 3, 1e4} {
		t.Run(fmt.Sprintf("kappa=%g", kappa), func(t *testing.T) {
			src := &countingSource{src: rand.NewPCG(3, 4)}
			rng := rand.New(src)
			for range draws {
				before := src.n
				VonMises(rng, kappa)
				if d := src.n - before; d%2 != 0 || d < 2 {
					t.Fatalf("got %d uniforms for one draw, want an even number >= 2", d)
				}
			}
			tries := float64(src.n) / 2 / draws
			t.Logf("%.3f tries per draw", tries)
			if tries > maxTries {
				t.Errorf("got %.3f tries per draw, want at most %g", tries, maxTries)
			}
		})
	}
}

func TestVonMisesPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, kappa := range []float64{-1, math.NaN(), math.Inf(1), 1e301} {
		expectPanic(t, fmt.Sprintf("VonMises(kappa=%g)", kappa), func() { VonMises(rng, kappa) })
	}
	expectPanic(t, "VonMises nil rng", func() { VonMises(nil, 1) })
}

// TestLogI0 compares with the power series of the test helper besselI
// (positive terms, independent of LogI0's switch to the asymptotic form)
// up to x = 45, and with the quadrature of ExactTorus, exp(-x) I0(x) =
// (1/pi) int_0^pi exp(x (cos phi - 1)) dphi, beyond.
func TestLogI0(t *testing.T) {
	for _, x := range []float64{0, 1e-8, 1e-3, 0.5, 1, 3, 10, 20, 29.99, 30, 30.01, 45} {
		want := math.Log(besselI(0, x))
		if got := LogI0(x); math.Abs(got-want) > logI0TestTol*math.Max(1, want) {
			t.Errorf("LogI0(%g): got %.17g, want %.17g (series)", x, got, want)
		}
		if got := LogI0(-x); got != LogI0(x) {
			t.Errorf("LogI0(%g): got %.17g, want LogI0(%g) = %.17g", -x, got, x, LogI0(x))
		}
	}
	for _, x := range []float64{31, 50, 100, 1e3, 1e4, 1e5, 1e6} {
		f0, _, _ := newThetaQuad(x, 1, 1).eval(0)
		want := x + math.Log(f0)
		if got := LogI0(x); math.Abs(got-want) > logI0TestTol*want {
			t.Errorf("LogI0(%g): got %.17g, want %.17g (quadrature)", x, got, want)
		}
	}
	if got := LogI0(math.Inf(-1)); !math.IsInf(got, 1) {
		t.Errorf("LogI0(-Inf): got %g, want +Inf", got)
	}
	if got := LogI0(math.NaN()); !math.IsNaN(got) {
		t.Errorf("LogI0(NaN): got %g, want NaN", got)
	}
}

// TestVonMisesDrawSinCos checks the cosine and sine that draw returns with
// the angle against math.Cos and math.Sin.
func TestVonMisesDrawSinCos(t *testing.T) {
	// sinCosTol is absolute: the half-angle forms are accurate to a few
	// rounding units, and so is math.Cos of the rounded angle.
	const draws, sinCosTol = 2000, 1e-15
	for _, kappa := range []float64{0, 0.5, 3, 1e4} {
		v := newVonMises(kappa)
		rng := rand.New(rand.NewPCG(43, 1))
		for range draws {
			x, c, s := v.draw(rng)
			if math.Abs(c-math.Cos(x)) > sinCosTol || math.Abs(s-math.Sin(x)) > sinCosTol {
				t.Fatalf("kappa=%g: x=%.17g: got cos %.17g, sin %.17g, want %.17g, %.17g", kappa, x, c, s, math.Cos(x), math.Sin(x))
			}
		}
	}
}

func BenchmarkVonMises(b *testing.B) {
	for _, kappa := range []float64{0.1, 3, 1e4} {
		b.Run(fmt.Sprintf("kappa=%g", kappa), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			v := newVonMises(kappa)
			s := 0.0
			b.ReportAllocs()
			for b.Loop() {
				x, _, _ := v.draw(rng)
				s += x
			}
			if math.IsNaN(s) {
				b.Fatal("NaN")
			}
		})
	}
}
