package gauge

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/mat"
)

const (
	// spreadIntegralTol bounds |log J - reference| and the error of the
	// averages <cos c>, <sin c> (TestSpreadIntegral): the relative accuracy
	// asked of J.
	spreadIntegralTol = 1e-12
	// spreadRefTol is the relative tolerance of every panel of the
	// adaptive reference quadrature.
	spreadRefTol = 1e-14
)

// spreadRef is the reference for spreadRule.integral, computed
// independently of its panels: adaptive Gauss-Legendre quadrature (a
// panel is halved until its 30- and 50-point rules agree to spreadRefTol)
// on panels that halve towards every point where the integrand may peak
// (both ends of the arc [a, a + h] of x = c + phi and the multiples of 2pi
// inside) down to a hundredth of the peak's width. It returns
// log J = top + logRest, top = kappa times the largest cos x, and the
// averages <cos c>, <sin c>.
func spreadRef(kappa, phi, lo, h float64) (top, logRest, meanCos, meanSin float64) {
	a := phi + lo
	b := a + h
	peaks := []float64{a}
	for x := twoPi * math.Ceil(a/twoPi); x < b; x += twoPi {
		if x > a {
			peaks = append(peaks, x)
		}
	}
	peaks = append(peaks, b)
	// The highest: the nearest to a multiple of 2pi (exactly, not by the
	// rounded cosines, which may tie).
	xs := peaks[0]
	for _, p := range peaks {
		if math.Abs(wrapPi(p)) < math.Abs(wrapPi(xs)) {
			xs = p
		}
	}
	// The integrand near the peak p at x = p + d, relative to the largest
	// value: exp(kappa (cos(p + d) - cos xs)), each exponent in a form
	// without cancellation.
	type span struct{ p, d0, d1 float64 }
	var spans []span
	// off(x) = kappa (cos x - cos xs) <= 0, up to the rounding of x and xs.
	off := func(x float64) float64 { return min(-2*kappa*math.Sin((x+xs)/2)*math.Sin((x-xs)/2), 0) }
	for i, p := range peaks {
		width := 1 / math.Sqrt(kappa)
		if s := math.Abs(math.Sin(p)); kappa*s*width > 1 {
			width = 1 / (kappa * s)
		}
		for _, end := range []float64{-1, 1} {
			var d float64
			switch {
			case end < 0 && i > 0:
				d = (peaks[i-1] - p) / 2
			case end > 0 && i < len(peaks)-1:
				d = (peaks[i+1] - p) / 2
			default:
				continue
			}
			if max(off(p), off(p+d)) < -800 {
				continue // cos is monotone on the span: exp underflows on it
			}
			for math.Abs(d) > 1e-2*width {
				spans = append(spans, span{p, d / 2, d})
				d /= 2
			}
			spans = append(spans, span{p, 0, d})
		}
	}
	n30, n50 := glRule(30), glRule(50)
	apply := func(r glNodes, sp span) [3]float64 {
		o := off(sp.p)
		f := func(d float64) float64 { return math.Exp(o - 2*kappa*math.Sin(sp.p+d/2)*math.Sin(d/2)) }
		return r.apply(f, sp.d0, sp.d1, sp.p-phi)
	}
	// A first estimate of J sets the absolute floor of the tolerance.
	total := 0.0
	for _, sp := range spans {
		total += apply(n50, sp)[0]
	}
	var s [3]float64
	budget := 100000 // panels, against a runaway
	var panel func(sp span)
	panel = func(sp span) {
		budget--
		i30, i50 := apply(n30, sp), apply(n50, sp)
		if budget < 0 || !(math.Abs(i30[0]-i50[0]) > spreadRefTol*(i50[0]+0.01*total)) {
			for k := range s {
				s[k] += i50[k]
			}
			return
		}
		m := (sp.d0 + sp.d1) / 2
		panel(span{sp.p, sp.d0, m})
		panel(span{sp.p, m, sp.d1})
	}
	for _, sp := range spans {
		panel(sp)
	}
	if budget < 0 {
		return math.NaN(), math.NaN(), math.NaN(), math.NaN()
	}
	return kappa * math.Cos(xs), math.Log(s[0]), s[1] / s[0], s[2] / s[0]
}

// glNodes is a Gauss-Legendre rule on [0, 1].
type glNodes struct{ x, w []float64 }

func glRule(n int) glNodes {
	r := glNodes{make([]float64, n), make([]float64, n)}
	quad.Legendre{}.FixedLocations(r.x, r.w, 0, 1)
	return r
}

// apply returns the integrals over [d0, d1] (either order) of f, f cos c
// and f sin c, c = c0 + d.
func (r glNodes) apply(f func(float64) float64, d0, d1, c0 float64) [3]float64 {
	lo, hi := min(d0, d1), max(d0, d1)
	var s [3]float64
	for k, x := range r.x {
		d := lo + (hi-lo)*x
		v := r.w[k] * (hi - lo) * f(d)
		s[0] += v
		s[1] += v * math.Cos(c0+d)
		s[2] += v * math.Sin(c0+d)
	}
	return s
}

// TestSpreadIntegral checks log J and the averages of spreadRule.integral
// against spreadRef for every kind of arc (peak inside, at either end,
// the minimum of cos inside, ends at 0 and -pi) at concentrations from 0
// to 1e300 (beta up to 1e300 on the smallest lattice).
func TestSpreadIntegral(t *testing.T) {
	var maxD, maxM float64
	defer func() { t.Logf("max |log J - ref| %.3g, max moment error %.3g", maxD, maxM) }()
	for _, V := range []int{4, 9, 64, 1024} {
		r := newSpreadRule(V)
		h := r.h
		// Starts of the arc a = phi + lo.
		starts := []float64{-h / 2, -h / 3, -1e-13, 0, 1e-14, -h + 1e-10, -h, 0.3, 2, math.Pi - h/2, math.Pi - h/2 - 1e-9, math.Pi - 1e-12,
			math.Pi - h - 1e-9, -math.Pi, -math.Pi + h/3, -math.Pi / 2}
		rng := rand.New(rand.NewPCG(40, uint64(V)))
		for range 4 {
			starts = append(starts, math.Pi*(2*rng.Float64()-1))
		}
		for _, kappa := range []float64{0, 1e-9, 0.3, 2, 10, 60, 400, 3e3, 1e5, 1e8, 1e17, 1e150, 4e300} {
			for _, a := range starts {
				if a == math.Pi-h/2 && kappa*1e-16 > spreadIntegralTol/10 {
					// Both ends equally high: their ratio, exp(kappa
					// (cos a - cos(a + h))), depends on the rounding of
					// a and a + h, by a factor of about exp(kappa 1e-16).
					continue
				}
				phi := a - r.lo
				top, rest, mc, ms := r.integral(kappa, phi, true)
				wantTop, wantRest, wantC, wantS := spreadRef(kappa, phi, r.lo, h)
				// log J - reference, exact where both pick the same peak.
				d := (top - wantTop) + (rest - wantRest)
				maxD = max(maxD, math.Abs(d))
				maxM = max(maxM, math.Abs(mc-wantC), math.Abs(ms-wantS))
				if !(math.Abs(d) <= spreadIntegralTol) || !(math.Abs(mc-wantC) <= spreadIntegralTol) || !(math.Abs(ms-wantS) <= spreadIntegralTol) {
					t.Errorf("V=%d/kappa=%g/a=%.17g: got log J - kappa max cos %.17g, <cos c> %.17g, <sin c> %.17g, want %.17g, %.17g, %.17g (diff %.3g, %.3g, %.3g)",
						V, kappa, a, rest, mc, ms, wantRest, wantC, wantS, d, mc-wantC, ms-wantS)
				}
			}
		}
	}
}

// TestSpreadJacobian checks the change of variables behind the density of
// ConstraintSpread: the map from the V drawn plaquettes P to
// (P'(n) = P(n) - c for n < V-1, c), c = spreadShift(sum P), is linear
// with determinant 1/V away from the cut of the sum (its matrix built
// column by column from small unit inputs, as in
// TestMaximalTreeJacobian), and a bijection of [0, 2pi)^V onto
// [0, 2pi)^(V-1) x [-pi/V, pi/V): P -> (P', c) -> P and
// (P', c) -> P -> (P', c) are the identity modulo 2pi, the inverse being
// P(n) = P'(n) + c with P'(V-1) = -sum_(n<V-1) P'(n).
func TestSpreadJacobian(t *testing.T) {
	const unit, detTol, roundTrips = 1e-3, 1e-12, 200
	for _, L := range []int{2, 3, 4, 5} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			V := L * L
			forward := func(P []float64) (Pp []float64, c float64) {
				sum := 0.0
				for _, x := range P {
					sum += x
				}
				c = spreadShift(sum, V)
				Pp = make([]float64, V-1)
				for n := range Pp {
					Pp[n] = P[n] - c
				}
				return Pp, c
			}
			inverse := func(Pp []float64, c float64) []float64 {
				P := make([]float64, V)
				last := 0.0
				for n, x := range Pp {
					P[n] = x + c
					last -= x
				}
				P[V-1] = last + c
				return P
			}
			m := mat.NewDense(V, V, nil)
			for col := range V {
				in := make([]float64, V)
				in[col] = unit
				Pp, c := forward(in)
				for row, x := range Pp {
					m.Set(row, col, x/unit)
				}
				m.Set(V-1, col, c/unit)
			}
			if det := mat.Det(m); math.Abs(det*float64(V)-1) > detTol {
				t.Errorf("got determinant %.15g, want 1/V = %.15g", det, 1/float64(V))
			}
			rng := rand.New(rand.NewPCG(41, uint64(L)))
			for range roundTrips {
				P := randomPlaquettes(rng, V)
				Pp, c := forward(P)
				if !(c >= -math.Pi/float64(V) && c < math.Pi/float64(V)) {
					t.Fatalf("got c = %g, want in [-pi/V, pi/V)", c)
				}
				for n, x := range inverse(Pp, c) {
					if d := wrapPi(x - P[n]); math.Abs(d) > treeTol {
						t.Fatalf("P -> (P', c) -> P: P(%d) got %.15g, want %.15g modulo 2pi", n, x, P[n])
					}
				}
				// (P', c) -> P -> (P', c), c away from the ends of its range.
				Pp = randomPlaquettes(rng, V)[:V-1]
				c = (math.Pi / float64(V)) * (2*rng.Float64() - 1) * (1 - 1e-9)
				back, c2 := forward(inverse(Pp, c))
				if math.Abs(c2-c) > treeTol {
					t.Fatalf("(P', c) -> P -> (P', c): c got %.15g, want %.15g", c2, c)
				}
				for n, x := range back {
					if d := wrapPi(x - Pp[n]); math.Abs(d) > treeTol {
						t.Fatalf("(P', c) -> P -> (P', c): P'(%d) got %.15g, want %.15g modulo 2pi", n, x, Pp[n])
					}
				}
			}
		})
	}
}

// TestSpreadLogDensity checks LogDensity of ConstraintSpread against its
// definition, log of (2pi)^-(V+1) V int prod_n vM(P(n) + c) dc over
// c in [-pi/V, pi/V), with the product of the V von Mises densities summed
// in log space at the nodes of a fine composite Gauss-Legendre rule (the
// integrand is smooth on the scale of its panels here), and SampleTo's
// log q against it.
func TestSpreadLogDensity(t *testing.T) {
	const panels = 400
	rule := glRule(20)
	for _, L := range []int{2, 3, 5} {
		for _, beta := range []float64{0.5, 3, 40} {
			t.Run(fmt.Sprintf("L=%d/beta=%g", L, beta), func(t *testing.T) {
				p := mustProposal(t, L, beta, ConstraintSpread)
				g := p.Geometry()
				V := g.V
				h := twoPi / float64(V)
				logVM := -math.Log(twoPi) - LogI0(beta)
				links := make([]float64, 2*V)
				plaq := make([]float64, V)
				rng := rand.New(rand.NewPCG(42, uint64(L)))
				for i := range 4 {
					logQ := 0.0
					if i%2 == 0 {
						logQ = p.SampleTo(links, rng)
					} else {
						RandomLinksTo(links, rng) // far from the proposal's bulk
					}
					PlaquettesTo(plaq, g, links)
					lse := newLogSumExp()
					for k := range panels {
						c0 := -h/2 + h*float64(k)/panels
						for j, x := range rule.x {
							c := c0 + h/panels*x
							s := math.Log(rule.w[j] * h / panels)
							for _, P := range plaq {
								s += beta*math.Cos(P+c) + logVM
							}
							lse.add(s)
						}
					}
					want := -float64(V+1)*math.Log(twoPi) + math.Log(float64(V)) + lse.value()
					tol := logQTol * beta * float64(V)
					if got := p.LogDensity(links); math.Abs(got-want) > tol {
						t.Errorf("configuration %d: got log q %.15g, want %.15g", i, got, want)
					}
					if i%2 == 0 && math.Abs(logQ-want) > tol {
						t.Errorf("configuration %d: SampleTo got log q %.15g, want %.15g", i, logQ, want)
					}
				}
			})
		}
	}
}

// BenchmarkSpreadIntegral measures the integral over the shift with its
// averages (as ScoreTo needs them): typical of a proposal sample at L=16,
// beta=3 (one panel per side of the peak), and sharply peaked integrands
// on the smallest lattice, at the peak and with the peak at an end.
func BenchmarkSpreadIntegral(b *testing.B) {
	for _, c := range []struct {
		V          int
		kappa, phi float64
	}{{256, 600, 0.001}, {4, 1e3, 0}, {4, 1e3, 1}, {4, 1e300, 1}} {
		b.Run(fmt.Sprintf("V=%d/kappa=%g/phi=%g", c.V, c.kappa, c.phi), func(b *testing.B) {
			r := newSpreadRule(c.V)
			s := 0.0
			for b.Loop() {
				_, rest, mc, _ := r.integral(c.kappa, c.phi, true)
				s += rest + mc
			}
			if math.IsNaN(s) {
				b.Fatal("NaN")
			}
		})
	}
}
