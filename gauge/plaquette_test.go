package gauge

import (
	"fmt"
	"math"
	"testing"

	"latflow/lattice"
)

// plaqTol is the rounding allowed in sums of a few angles of order 2pi.
const plaqTol = 1e-13

func TestPlaquettesTo(t *testing.T) {
	for _, L := range []int{2, 3, 4, 8} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			g := lattice.NewGeometry(L)
			links := randomLinks(g, uint64(L))
			theta := func(mu, x0, x1 int) float64 { return links[mu*g.V+g.Site(x0, x1)] }
			got := make([]float64, g.V)
			PlaquettesTo(got, g, links)
			for x0 := range L {
				for x1 := range L {
					n := g.Site(x0, x1)
					want := theta(0, x0, x1) + theta(1, x0+1, x1) - theta(0, x0, x1+1) - theta(1, x0, x1)
					if math.Abs(got[n]-want) > plaqTol {
						t.Errorf("P(%d,%d): got %g, want %g", x0, x1, got[n], want)
					}
					if p := Plaquette(g, links, n); p != got[n] {
						t.Errorf("Plaquette(%d,%d): got %g, want %g", x0, x1, p, got[n])
					}
				}
			}
		})
	}
}

// TestPlaquetteOrientation excites one link and checks the signs with which
// it enters its two plaquettes, as documented in doc.go.
func TestPlaquetteOrientation(t *testing.T) {
	const L, a = 4, 0.25
	g := lattice.NewGeometry(L)
	n := g.Site(1, 2)
	for mu, want := range [2]map[int]float64{
		0: {n: a, g.Down(1, n): -a}, // theta_0(n) in P(n) and, reversed, in P(n-e1)
		1: {n: -a, g.Down(0, n): a}, // theta_1(n) reversed in P(n), and in P(n-e0)
	} {
		links := make([]float64, 2*g.V)
		links[mu*g.V+n] = a
		P := make([]float64, g.V)
		PlaquettesTo(P, g, links)
		for m, p := range P {
			if p != want[m] {
				t.Errorf("mu=%d: P(%d): got %g, want %g", mu, m, p, want[m])
			}
		}
	}
}

func TestMeanCosPlaquette(t *testing.T) {
	g := lattice.NewGeometry(6)
	links := randomLinks(g, 3)
	P := make([]float64, g.V)
	PlaquettesTo(P, g, links)
	want := 0.0
	for _, p := range P {
		want += math.Cos(p) / float64(g.V)
	}
	if got := MeanCosPlaquette(g, links); math.Abs(got-want) > plaqTol {
		t.Errorf("got %g, want %g", got, want)
	}
	if got := MeanCosPlaquette(g, make([]float64, 2*g.V)); got != 1 {
		t.Errorf("cold start: got %g, want 1", got)
	}
}
