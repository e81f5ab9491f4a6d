package observables

import (
	"fmt"
	"math"
	"testing"

	"latflow/lattice"
)

// chargedLinks returns links whose plaquette angles all equal 2 pi k / V
// modulo 2 pi, so that Q = k for |k| < V/2: theta_1(x0, x1) = 2 pi k x0 / V
// and, on the last time slice, theta_0(L-1, x1) = -2 pi k x1 / L.
func chargedLinks(g *lattice.Geometry, k int) []float64 {
	links := make([]float64, 2*g.V)
	L, V := float64(g.L), float64(g.V)
	for n := range g.V {
		x0, x1 := g.Coords(n)
		links[g.V+n] = 2 * math.Pi * float64(k) * float64(x0) / V
		if x0 == g.L-1 {
			links[n] = -2 * math.Pi * float64(k) * float64(x1) / L
		}
	}
	for i, v := range links {
		v = math.Mod(v, 2*math.Pi)
		if v < 0 {
			v += 2 * math.Pi
		}
		links[i] = v
	}
	return links
}

func TestMeasureU1(t *testing.T) {
	// u1Tol allows rounding in sums over V plaquettes.
	const u1Tol = 1e-9
	for _, L := range []int{4, 6} {
		for _, k := range []int{0, 1, -2} {
			for _, beta := range []float64{1, 3} {
				t.Run(fmt.Sprintf("L=%d/Q=%d/beta=%g", L, k, beta), func(t *testing.T) {
					g := lattice.NewGeometry(L)
					got := MeasureU1(g, beta, chargedLinks(g, k))
					V := float64(g.V)
					cosP := math.Cos(2 * math.Pi * float64(k) / V)
					if got.Q != float64(k) || got.Q2 != float64(k*k) {
						t.Errorf("Q, Q^2: got %v, %v, want %d, %d", got.Q, got.Q2, k, k*k)
					}
					if math.Abs(got.Plaquette-cosP) > u1Tol {
						t.Errorf("plaquette: got %.12g, want %.12g", got.Plaquette, cosP)
					}
					if want := -beta * V * cosP; math.Abs(got.Action-want) > u1Tol*V {
						t.Errorf("action: got %.12g, want %.12g", got.Action, want)
					}
				})
			}
		}
	}
}
