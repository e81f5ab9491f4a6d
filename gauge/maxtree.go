package gauge

import (
	"fmt"
	"math"

	"latflow/lattice"
)

// The maximal tree used throughout the package consists of the V-1 links
//
//	theta_1(x0, x1) for every row x0 and x1 = 0 .. L-2   (L(L-1) links),
//	theta_0(x0, 0)  for x0 = 0 .. L-2                     (L-1 links);
//
// it reaches every site and closes no loop. The other V+1 links follow
// from the tree links, the plaquettes P(n) for n != V-1 and the Polyakov
// loops through site 0,
//
//	w0 = sum_x0 theta_0(x0, 0),  w1 = sum_x1 theta_1(0, x1),
//
// row by row: theta_0(L-1, 0) = w0 - sum_(x0<L-1) theta_0(x0, 0),
// theta_1(0, L-1) = w1 - sum_(x1<L-1) theta_1(0, x1), and along each row
//
//	theta_0(x0, x1+1)  = theta_0(x0, x1) + theta_1(x0+1, x1) - theta_1(x0, x1) - P(x0, x1),
//	theta_1(x0+1, L-1) = P(x0, L-1) - theta_0(x0, L-1) + theta_0(x0, 0) + theta_1(x0, L-1).
//
// The last plaquette P(V-1) is not used: on the torus every link enters two
// plaquettes with opposite signs, so sum_n P(n) = 0 and P(V-1) is minus
// the sum of the others. The map from (P(n) for n < V-1, w0, w1, tree
// links) to the 2V links is linear with integer coefficients and
// determinant +-1, so it is a bijection of the tori [0, 2pi)^(2V) with
// unit Jacobian (TestMaximalTreeJacobian computes the determinant).
// Setting the tree links to zero is the maximal-tree gauge; drawing them
// uniformly is the same as a uniform random gauge transformation, because
// the tree links of alpha(n) - alpha(n+e_mu) are a unimodular function of
// alpha modulo a constant.

// MaximalTreeTo writes into dst (length 2V) the configuration in the
// maximal-tree gauge (see above) whose plaquettes equal plaquettes[n]
// modulo 2pi for n < V-1 and whose Polyakov loops through site 0 equal w0
// and w1 modulo 2pi. plaquettes has length V; plaquettes[V-1] is ignored,
// the result's last plaquette being minus the sum of the others. The links
// are wrapped into [0, 2pi).
func MaximalTreeTo(dst []float64, g *lattice.Geometry, plaquettes []float64, w0, w1 float64) {
	checkLinks("MaximalTreeTo", g, dst)
	V, L := g.V, g.L
	if len(plaquettes) != V {
		panic(fmt.Sprintf("gauge: MaximalTreeTo: len(plaquettes)=%d, want V=%d", len(plaquettes), V))
	}
	copy(dst[:V], plaquettes)
	clear(dst[V:])
	treeSolve(dst, L, w0, w1, func(int) float64 { return 0 })
}

// PolyakovLoops returns the Polyakov loops (holonomies) through site 0,
// w0 = sum_x0 theta_0(x0, 0) and w1 = sum_x1 theta_1(0, x1), not wrapped.
// Modulo 2pi they are gauge invariant.
func PolyakovLoops(g *lattice.Geometry, links []float64) (w0, w1 float64) {
	checkLinks("PolyakovLoops", g, links)
	V, L := g.V, g.L
	for x := range L {
		w0 += links[x*L]
		w1 += links[V+x]
	}
	return w0, w1
}

// treeSolve fills in the links of dst (length 2V, L*L = V) that are not on
// the maximal tree. On entry dst[:V] holds the plaquette angles P(n) (P(V-1)
// is not read) and dst[V:] holds the tree links theta_1(x0, x1),
// x1 < L-1, at their places; the other entries of dst[V:] are overwritten.
// tree0(x0) supplies the tree link theta_0(x0, 0); it is called once for
// each x0 = 0 .. L-2, in that order. w0 and w1 are the Polyakov loops
// through site 0. Every link written is wrapped into [0, 2pi); the tree
// links theta_1 are left as they are.
//
// The plaquettes of row x0 sit in the slots of theta_0(x0, .), which the
// sweep along the row overwrites only after reading them, so no scratch is
// needed.
func treeSolve(dst []float64, L int, w0, w1 float64, tree0 func(x0 int) float64) {
	V := L * L
	t0, t1 := dst[:V], dst[V:2*V]
	// theta_1(0, L-1) closes the Polyakov loop w1.
	h := w1
	for x1 := range L - 1 {
		h -= t1[x1]
	}
	h = wrapFloor(h)
	sum0 := 0.0
	for x0 := range L {
		row, next := x0*L, (x0+1)%L*L
		var c float64 // theta_0(x0, 0)
		if x0 < L-1 {
			c = tree0(x0)
			sum0 += c
		} else {
			c = w0 - sum0
		}
		c = wrapFloor(c)
		cur := c
		for x1 := range L - 1 {
			p := t0[row+x1]
			t0[row+x1] = cur
			cur = wrapFloor(cur + t1[next+x1] - t1[row+x1] - p)
		}
		p := t0[row+L-1] // P(x0, L-1); unused on the last row
		t0[row+L-1] = cur
		t1[row+L-1] = h
		h = wrapFloor(p - cur + c + h)
	}
}

// wrapFloor is Wrap for the moderate angles of the tree construction,
// through math.Floor, which is much faster than math.Mod.
func wrapFloor(x float64) float64 {
	y := x - twoPi*math.Floor(x*(1/twoPi))
	if y >= 0 && y < twoPi {
		return y
	}
	return Wrap(y) // rounding at an end of the range, or NaN
}
