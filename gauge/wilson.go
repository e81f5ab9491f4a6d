package gauge

import (
	"fmt"
	"math"

	"latflow/lattice"
)

// WilsonAction is the U(1) Wilson plaquette action
// S = -Beta * sum_n cos P(n) on the lattice Geom. It implements
// lattice.Action (value and force dS/dtheta) and lattice.Wrapper.
type WilsonAction struct {
	Geom *lattice.Geometry
	Beta float64
}

// Action returns S = -Beta * sum_n cos P(n).
func (a WilsonAction) Action(links []float64) float64 {
	checkLinks("WilsonAction.Action", a.Geom, links)
	return -a.Beta * sumCosPlaquette(a.Geom, links)
}

// ForceTo writes the gradient dS/dtheta into dst, which has the length of
// links (2V). Each plaquette P(n) contributes Beta sin P(n) times its
// orientation sign to the four links around it:
// + for theta_0(n) and theta_1(n+e0), - for theta_0(n+e1) and theta_1(n).
// ForceTo does not allocate; dst must not share memory with links.
func (a WilsonAction) ForceTo(dst, links []float64) {
	g := a.Geom
	checkLinks("WilsonAction.ForceTo", g, links)
	if len(dst) != len(links) {
		panic(fmt.Sprintf("gauge: WilsonAction.ForceTo: len(dst)=%d, want %d", len(dst), len(links)))
	}
	if &dst[0] == &links[0] {
		panic("gauge: WilsonAction.ForceTo: dst and links share memory")
	}
	V, L := g.V, g.L
	t0, t1 := links[:V], links[V:2*V]
	f0, f1 := dst[:V], dst[V:2*V]
	up0, up1 := g.UpTable(0)[:V], g.UpTable(1)[:V]
	dn0 := g.DownTable(0)[:V]
	beta := a.Beta
	// u(n) = beta sin P(n) is computed once per site and parked in f0.
	for n := range V {
		f0[n] = beta * math.Sin(t0[n]+t1[up0[n]]-t0[up1[n]]-t1[n])
	}
	// dS/dtheta_1(n) = beta [sin P(n-e0) - sin P(n)] = u(n-e0) - u(n).
	for n := range V {
		f1[n] = f0[dn0[n]] - f0[n]
	}
	// dS/dtheta_0(n) = beta [sin P(n) - sin P(n-e1)] = u(n) - u(n-e1),
	// in place along each row: carry the old u of the left neighbour,
	// starting from the periodic image x1 = L-1 of the row.
	for r := 0; r < V; r += L {
		row := f0[r : r+L]
		prev := row[L-1]
		for x1, cur := range row {
			row[x1] = cur - prev
			prev = cur
		}
	}
}

// Wrap brings every link angle into [0, 2pi) in place; it does not change
// the action. It implements lattice.Wrapper.
func (a WilsonAction) Wrap(links []float64) {
	WrapLinks(links)
}
