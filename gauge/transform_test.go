package gauge

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"latflow/lattice"
)

// invarianceTol is the relative rounding allowed in gauge-invariant sums.
const invarianceTol = 1e-12

func TestGaugeInvariance(t *testing.T) {
	for _, L := range []int{4, 8, 16} {
		for _, beta := range []float64{1, 3} {
			t.Run(fmt.Sprintf("L=%d/beta=%g", L, beta), func(t *testing.T) {
				g := lattice.NewGeometry(L)
				a := WilsonAction{Geom: g, Beta: beta}
				rng := rand.New(rand.NewPCG(uint64(L), uint64(beta)))
				links := make([]float64, 2*g.V)
				RandomLinksTo(links, rng)
				alpha := make([]float64, g.V)
				RandomLinksTo(alpha, rng)
				moved := make([]float64, len(links))
				GaugeTransformTo(moved, g, links, alpha)

				changed := 0
				for l := range links {
					if math.Abs(wrapPi(moved[l]-links[l])) > 1e-3 {
						changed++
					}
				}
				if changed < len(links)/2 {
					t.Fatalf("got %d of %d links changed by the transformation, want most", changed, len(links))
				}
				if s0, s1 := a.Action(links), a.Action(moved); math.Abs(s1-s0) > invarianceTol*float64(g.V)*beta {
					t.Errorf("action: got %.15g, want %.15g", s1, s0)
				}
				p0, p1 := make([]float64, g.V), make([]float64, g.V)
				PlaquettesTo(p0, g, links)
				PlaquettesTo(p1, g, moved)
				for n := range p0 {
					if d := wrapPi(p1[n] - p0[n]); math.Abs(d) > plaqTol {
						t.Errorf("P(%d): got %g, want %g mod 2pi", n, p1[n], p0[n])
					}
				}
				if c0, c1 := MeanCosPlaquette(g, links), MeanCosPlaquette(g, moved); math.Abs(c1-c0) > invarianceTol {
					t.Errorf("mean cos P: got %.15g, want %.15g", c1, c0)
				}
				if q0, q1 := TopologicalCharge(g, links), TopologicalCharge(g, moved); math.Abs(q1-q0) > chargeTol {
					t.Errorf("Q: got %.15g, want %.15g", q1, q0)
				}
				// The force is gauge covariant: it is a function of the
				// plaquettes only, so it does not change either.
				f0, f1 := make([]float64, len(links)), make([]float64, len(links))
				a.ForceTo(f0, links)
				a.ForceTo(f1, moved)
				for l := range f0 {
					if math.Abs(f1[l]-f0[l]) > invarianceTol*beta {
						t.Errorf("force at link %d: got %g, want %g", l, f1[l], f0[l])
					}
				}
			})
		}
	}
}

// TestGaugeTransformPureGauge transforms the cold configuration: the result
// is a pure gauge, with every plaquette 0 mod 2pi, S = -beta V and Q = 0.
func TestGaugeTransformPureGauge(t *testing.T) {
	const L, beta = 8, 2.0
	g := lattice.NewGeometry(L)
	alpha := make([]float64, g.V)
	RandomLinksTo(alpha, rand.New(rand.NewPCG(9, 9)))
	links := make([]float64, 2*g.V)
	GaugeTransformTo(links, g, links, alpha)
	for mu := range lattice.Dim {
		for n := range g.V {
			want := Wrap(alpha[n] - alpha[g.Up(mu, n)])
			if got := links[mu*g.V+n]; got != want {
				t.Errorf("theta_%d(%d): got %g, want %g", mu, n, got, want)
			}
		}
	}
	a := WilsonAction{Geom: g, Beta: beta}
	if got, want := a.Action(links), -beta*float64(g.V); math.Abs(got-want) > invarianceTol*math.Abs(want) {
		t.Errorf("action: got %.15g, want %.15g", got, want)
	}
	if q := TopologicalCharge(g, links); math.Abs(q) > chargeTol {
		t.Errorf("Q: got %g, want 0", q)
	}
}

// TestGaugeTransformInPlace checks that dst may alias links.
func TestGaugeTransformInPlace(t *testing.T) {
	g := lattice.NewGeometry(4)
	links := randomLinks(g, 11)
	alpha := randomLinks(g, 12)[:g.V]
	want := make([]float64, len(links))
	GaugeTransformTo(want, g, links, alpha)
	GaugeTransformTo(links, g, links, alpha)
	for l := range links {
		if links[l] != want[l] {
			t.Errorf("link %d: got %g, want %g", l, links[l], want[l])
		}
	}
}
