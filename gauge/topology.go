package gauge

import (
	"fmt"
	"math"

	"latflow/lattice"
)

// TopologicalCharge returns Q = (1/2pi) sum_n wrap(P(n)), each plaquette
// angle wrapped into [-pi, pi). On the periodic lattice the unwrapped
// plaquettes sum to zero, so Q is an integer up to rounding (of order
// V times the machine epsilon). It does not allocate.
func TopologicalCharge(g *lattice.Geometry, links []float64) float64 {
	checkLinks("TopologicalCharge", g, links)
	V := g.V
	t0, t1 := links[:V], links[V:2*V]
	up0, up1 := g.UpTable(0)[:V], g.UpTable(1)[:V]
	s := 0.0
	for n := range V {
		s += wrapPi(t0[n] + t1[up0[n]] - t0[up1[n]] - t1[n])
	}
	return s / twoPi
}

// wrapPi returns x modulo 2pi in [-pi, pi), the principal plaquette angle.
func wrapPi(x float64) float64 {
	y := x - twoPi*math.Floor((x+math.Pi)/twoPi)
	if y >= math.Pi {
		y -= twoPi
	} else if y < -math.Pi {
		y += twoPi
	}
	return y
}

// InstantonTo writes into dst (length 2V) the smooth configuration of
// topological charge k on g: every plaquette angle equals 2pi k/V, the
// classical minimum of the Wilson action in the sector Q = k. The links
// are theta_1(x0, x1) = 2pi k x0/V, and theta_0 vanishes except on the last
// row x0 = L-1, theta_0(L-1, x1) = -2pi k x1/L, which closes the flux
// through the periodic boundary. All angles are wrapped into [0, 2pi).
// It panics unless |k| < V/2, where the plaquettes would reach pi.
func InstantonTo(dst []float64, g *lattice.Geometry, k int) {
	checkLinks("InstantonTo", g, dst)
	V, L := g.V, g.L
	if 2*abs(k) >= V {
		panic(fmt.Sprintf("gauge: InstantonTo: charge k=%d, want |k| < V/2=%d", k, V/2))
	}
	F := twoPi * float64(k) / float64(V)
	for x0 := range L {
		for x1 := range L {
			n := g.Site(x0, x1)
			dst[n] = 0
			if x0 == L-1 {
				dst[n] = Wrap(-F * float64(L) * float64(x1))
			}
			dst[V+n] = Wrap(F * float64(x0))
		}
	}
}

func abs(k int) int {
	if k < 0 {
		return -k
	}
	return k
}
