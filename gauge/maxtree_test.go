package gauge

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"latflow/lattice"
)

// treeTol is the rounding allowed in angles rebuilt by the tree
// construction, which sums O(L) angles of size 2pi.
const treeTol = 1e-12

// randomPlaquettes returns V angles uniform on [-pi, pi).
func randomPlaquettes(rng *rand.Rand, V int) []float64 {
	p := make([]float64, V)
	for i := range p {
		p[i] = math.Pi * (2*rng.Float64() - 1)
	}
	return p
}

// checkTree checks that links have the plaquettes p(n) for n < V-1 and the
// Polyakov loops w0, w1 modulo 2pi, that P(V-1) is minus the sum of the
// others, and that every link is in [0, 2pi).
func checkTree(t *testing.T, g *lattice.Geometry, links, p []float64, w0, w1 float64) {
	t.Helper()
	V := g.V
	for l, x := range links {
		if !(x >= 0 && x < twoPi) {
			t.Errorf("link %d: got %g, want in [0, 2pi)", l, x)
		}
	}
	got := make([]float64, V)
	PlaquettesTo(got, g, links)
	sum := 0.0
	for n := range V - 1 {
		sum += p[n]
		if d := wrapPi(got[n] - p[n]); math.Abs(d) > treeTol {
			t.Errorf("P(%d): got %.15g, want %.15g mod 2pi", n, got[n], p[n])
		}
	}
	if d := wrapPi(got[V-1] + sum); math.Abs(d) > treeTol*float64(V) {
		t.Errorf("P(V-1): got %.15g, want %.15g mod 2pi", got[V-1], -sum)
	}
	g0, g1 := PolyakovLoops(g, links)
	if d0, d1 := wrapPi(g0-w0), wrapPi(g1-w1); math.Abs(d0) > treeTol || math.Abs(d1) > treeTol {
		t.Errorf("Polyakov loops: got %.15g, %.15g, want %.15g, %.15g mod 2pi", g0, g1, w0, w1)
	}
}

func TestMaximalTreeTo(t *testing.T) {
	for _, L := range []int{2, 3, 4, 8, 33} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			g := lattice.NewGeometry(L)
			V := g.V
			rng := rand.New(rand.NewPCG(5, uint64(L)))
			p := randomPlaquettes(rng, V)
			w0, w1 := 20*rng.Float64()-10, 20*rng.Float64()-10
			links := make([]float64, 2*V)
			MaximalTreeTo(links, g, p, w0, w1)
			checkTree(t, g, links, p, w0, w1)
			// The tree links are zero: the maximal-tree gauge.
			for x0 := range L {
				for x1 := range L - 1 {
					if x := links[V+g.Site(x0, x1)]; x != 0 {
						t.Errorf("theta_1(%d, %d): got %g, want 0", x0, x1, x)
					}
				}
				if x := links[g.Site(x0, 0)]; x0 < L-1 && x != 0 {
					t.Errorf("theta_0(%d, 0): got %g, want 0", x0, x)
				}
			}
			// Gauge invariance of what was prescribed: a gauge transform
			// of the result has the same plaquettes and loops.
			alpha := make([]float64, V)
			RandomLinksTo(alpha, rng)
			GaugeTransformTo(links, g, links, alpha)
			checkTree(t, g, links, p, w0, w1)
		})
	}
}

// TestTreeSolve checks the construction with random tree links, as the
// samplers use it: the tree links are kept and the plaquettes and loops
// prescribed.
func TestTreeSolve(t *testing.T) {
	for _, L := range []int{2, 3, 8} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			g := lattice.NewGeometry(L)
			V := g.V
			rng := rand.New(rand.NewPCG(6, uint64(L)))
			p := randomPlaquettes(rng, V)
			w0, w1 := twoPi*rng.Float64(), twoPi*rng.Float64()
			links := make([]float64, 2*V)
			copy(links, p)
			tree1 := make([]float64, V)
			RandomLinksTo(tree1, rng)
			copy(links[V:], tree1)
			tree0 := make([]float64, L-1)
			RandomLinksTo(tree0, rng)
			calls := 0
			treeSolve(links, L, w0, w1, func(x0 int) float64 {
				if x0 != calls {
					t.Fatalf("tree0 called for row %d, want %d", x0, calls)
				}
				calls++
				return tree0[x0]
			})
			if calls != L-1 {
				t.Errorf("got %d calls of tree0, want %d", calls, L-1)
			}
			checkTree(t, g, links, p, w0, w1)
			for x0 := range L {
				for x1 := range L - 1 {
					if n := g.Site(x0, x1); links[V+n] != tree1[n] {
						t.Errorf("theta_1(%d, %d): got %g, want tree link %g", x0, x1, links[V+n], tree1[n])
					}
				}
				if x0 < L-1 && links[g.Site(x0, 0)] != tree0[x0] {
					t.Errorf("theta_0(%d, 0): got %g, want tree link %g", x0, links[g.Site(x0, 0)], tree0[x0])
				}
			}
		})
	}
}

// TestMaximalTreeJacobian builds the matrix of the linear map from
// (P(n) for n < V-1, w0, w1, tree links theta_1, tree links theta_0) to
// the 2V links, column by column from small unit inputs, checks that its
// entries are integers and that its determinant is +-1: the map is then a
// bijection of the tori with unit Jacobian, and so is its inverse.
func TestMaximalTreeJacobian(t *testing.T) {
	// unit is small enough that every output, an integer combination
	// of one input with coefficients below V, stays inside (-pi, pi).
	const unit, intTol, detTol = 1e-3, 1e-9, 1e-9
	for _, L := range []int{2, 3, 4, 5} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			V := L * L
			m := mat.NewDense(2*V, 2*V, nil)
			links := make([]float64, 2*V)
			for col := range 2 * V {
				in := make([]float64, 2*V)
				in[col] = unit
				// Inputs: in[0:V-1] plaquettes, in[V-1], in[V] loops,
				// then the L(L-1) theta_1 tree links, then L-1 theta_0.
				clear(links)
				copy(links[:V-1], in[:V-1])
				w0, w1 := in[V-1], in[V]
				k := V + 1
				for x0 := range L {
					for x1 := range L - 1 {
						links[V+x0*L+x1] = in[k]
						k++
					}
				}
				treeSolve(links, L, w0, w1, func(x0 int) float64 { return in[k+x0] })
				for row, x := range links {
					c := wrapPi(x) / unit
					if r := math.Round(c); math.Abs(c-r) > intTol {
						t.Fatalf("entry (%d, %d): got %g, want an integer", row, col, c)
					}
					m.Set(row, col, math.Round(c))
				}
			}
			det := mat.Det(m)
			t.Logf("det = %g", det)
			if math.Abs(math.Abs(det)-1) > detTol {
				t.Errorf("got determinant %g, want +-1", det)
			}
		})
	}
}

func TestPolyakovLoops(t *testing.T) {
	const L, k = 6, 2
	g := lattice.NewGeometry(L)
	links := make([]float64, 2*g.V)
	// The instanton has theta_0(x0, 0) = 0 and theta_1(0, x1) = 0.
	InstantonTo(links, g, k)
	if w0, w1 := PolyakovLoops(g, links); w0 != 0 || w1 != 0 {
		t.Errorf("instanton: got %g, %g, want 0, 0", w0, w1)
	}
	for i := range links {
		links[i] = 0.1
	}
	if w0, w1 := PolyakovLoops(g, links); math.Abs(w0-0.6) > treeTol || math.Abs(w1-0.6) > treeTol {
		t.Errorf("constant links 0.1: got %g, %g, want 0.6, 0.6", w0, w1)
	}
}
