package gauge

import (
	"fmt"
	"math"

	"latflow/lattice"
)

// Plaquette returns the plaquette angle at site n,
// P(n) = theta_0(n) + theta_1(n+e0) - theta_0(n+e1) - theta_1(n),
// not wrapped.
func Plaquette(g *lattice.Geometry, links []float64, n int) float64 {
	checkLinks("Plaquette", g, links)
	if n < 0 || n >= g.V {
		panic(fmt.Sprintf("gauge: Plaquette: site %d out of range [0, %d)", n, g.V))
	}
	V := g.V
	return links[n] + links[V+g.Up(0, n)] - links[g.Up(1, n)] - links[V+n]
}

// PlaquettesTo writes the plaquette angle P(n) of every site into dst, which
// has length V. The angles are not wrapped: each is a signed sum of four
// link angles.
func PlaquettesTo(dst []float64, g *lattice.Geometry, links []float64) {
	checkLinks("PlaquettesTo", g, links)
	if len(dst) != g.V {
		panic(fmt.Sprintf("gauge: PlaquettesTo: len(dst)=%d, want V=%d", len(dst), g.V))
	}
	V := g.V
	t0, t1 := links[:V], links[V:2*V]
	up0, up1 := g.UpTable(0)[:V], g.UpTable(1)[:V]
	for n := range dst {
		dst[n] = t0[n] + t1[up0[n]] - t0[up1[n]] - t1[n]
	}
}

// MeanCosPlaquette returns (1/V) sum_n cos P(n).
func MeanCosPlaquette(g *lattice.Geometry, links []float64) float64 {
	checkLinks("MeanCosPlaquette", g, links)
	return sumCosPlaquette(g, links) / float64(g.V)
}

// sumCosPlaquette returns sum_n cos P(n); links has been checked.
func sumCosPlaquette(g *lattice.Geometry, links []float64) float64 {
	V := g.V
	t0, t1 := links[:V], links[V:2*V]
	up0, up1 := g.UpTable(0)[:V], g.UpTable(1)[:V]
	s := 0.0
	for n := range V {
		s += math.Cos(t0[n] + t1[up0[n]] - t0[up1[n]] - t1[n])
	}
	return s
}
