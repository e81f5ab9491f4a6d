package fermion

import (
	"fmt"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"latflow/gauge"
	"latflow/lattice"
)

// matTol bounds the difference of two evaluations of the same matrix
// element or vector component (operator entries are O(1), sums of at most
// nine terms).
const matTol = 1e-13

func randomLinks(g *lattice.Geometry, seed uint64) []float64 {
	links := make([]float64, 2*g.V)
	gauge.RandomLinksTo(links, rand.New(rand.NewPCG(seed, 7)))
	return links
}

func randomSpinor(n int, seed uint64) []complex128 {
	rng := rand.New(rand.NewPCG(seed, 11))
	v := make([]complex128, n)
	for i := range v {
		v[i] = complex(rng.NormFloat64(), rng.NormFloat64())
	}
	return v
}

// denseApply returns A v for the row-major n x n matrix a.
func denseApply(a []complex128, v []complex128, dagger bool) []complex128 {
	n := len(v)
	out := make([]complex128, n)
	for i := range n {
		for j := range n {
			if dagger {
				out[i] += cmplx.Conj(a[j*n+i]) * v[j]
			} else {
				out[i] += a[i*n+j] * v[j]
			}
		}
	}
	return out
}

func maxDiff(a, b []complex128) float64 {
	var m float64
	for i := range a {
		m = max(m, cmplx.Abs(a[i]-b[i]))
	}
	return m
}

// TestApplyMatchesDense checks the stencils of D and D^dagger against the
// dense matrix of D and its conjugate transpose, on random links (L = 2,
// where the forward and backward neighbours coincide, an odd L, and even
// L).
func TestApplyMatchesDense(t *testing.T) {
	for _, L := range []int{2, 3, 4, 6} {
		for _, kappa := range []float64{0.13, 0.27} {
			t.Run(fmt.Sprintf("L=%d/kappa=%g", L, kappa), func(t *testing.T) {
				g := lattice.NewGeometry(L)
				op := NewOperator(g, kappa)
				op.SetLinks(randomLinks(g, uint64(L)))
				n := op.Size()
				dense := make([]complex128, n*n)
				op.DenseTo(dense)
				psi := randomSpinor(n, uint64(L)+1)
				got := make([]complex128, n)
				op.ApplyTo(got, psi)
				if d := maxDiff(got, denseApply(dense, psi, false)); d > matTol {
					t.Errorf("D psi: got max diff %.3g from the dense matrix, want <= %g", d, matTol)
				}
				op.ApplyDaggerTo(got, psi)
				if d := maxDiff(got, denseApply(dense, psi, true)); d > matTol {
					t.Errorf("D^dagger psi: got max diff %.3g from the dense matrix, want <= %g", d, matTol)
				}
			})
		}
	}
}

// TestGamma5Hermiticity checks gamma_5 D gamma_5 = D^dagger entry by entry
// on the dense matrix, so that det D is real, and that D is not hermitian
// itself (the test would pass trivially otherwise).
func TestGamma5Hermiticity(t *testing.T) {
	for _, L := range []int{3, 4} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			g := lattice.NewGeometry(L)
			op := NewOperator(g, 0.22)
			op.SetLinks(randomLinks(g, 3))
			n := op.Size()
			a := make([]complex128, n*n)
			op.DenseTo(a)
			g5 := func(i int) complex128 { return complex(float64(1-2*(i%2)), 0) }
			var worst, herm float64
			for i := range n {
				for j := range n {
					lhs := g5(i) * a[i*n+j] * g5(j)
					rhs := cmplx.Conj(a[j*n+i])
					worst = max(worst, cmplx.Abs(lhs-rhs))
					herm = max(herm, cmplx.Abs(a[i*n+j]-rhs))
				}
			}
			if worst > matTol {
				t.Errorf("gamma5 D gamma5 - D^dagger: got max %.3g, want <= %g", worst, matTol)
			}
			if herm < 0.1 {
				t.Errorf("D - D^dagger: got max %.3g, want D not hermitian (> 0.1)", herm)
			}
			// The stencil form: <phi, gamma5 D gamma5 psi> = <D phi, psi>.
			psi, phi := randomSpinor(n, 5), randomSpinor(n, 6)
			g5psi, dg5psi, dphi := make([]complex128, n), make([]complex128, n), make([]complex128, n)
			Gamma5To(g5psi, psi)
			op.ApplyTo(dg5psi, g5psi)
			Gamma5To(dg5psi, dg5psi)
			op.ApplyTo(dphi, phi)
			var l, r complex128
			for i := range n {
				l += cmplx.Conj(phi[i]) * dg5psi[i]
				r += cmplx.Conj(dphi[i]) * psi[i]
			}
			if d := cmplx.Abs(l - r); d > 1e-12*float64(n) {
				t.Errorf("<phi, g5 D g5 psi> = %v, <D phi, psi> = %v: diff %.3g, want <= %g", l, r, d, 1e-12*float64(n))
			}
		})
	}
}

// TestAntiperiodicTime checks the boundary conditions on single entries
// of the free-field D: the forward time hop out of the last slice x0 = L-1
// has the opposite sign of a hop in the bulk, the space hop across the
// boundary the same sign.
func TestAntiperiodicTime(t *testing.T) {
	const L = 4
	g := lattice.NewGeometry(L)
	op := NewOperator(g, 0.2)
	n := op.Size()
	dense := make([]complex128, n*n)
	op.DenseTo(dense)
	// The hop from (L-1, x1) forward in time to (0, x1) carries -kappa
	// (1 - gamma_0) times -1; within the bulk, +1.
	x, y := g.Site(L-1, 2), g.Site(0, 2)
	if got, want := dense[2*x*n+2*y], complex(+0.2, 0); cmplx.Abs(got-want) > matTol {
		t.Errorf("D(%d,%d)[0][0] across the time boundary: got %v, want %v", x, y, got, want)
	}
	x, y = g.Site(1, 2), g.Site(2, 2)
	if got, want := dense[2*x*n+2*y], complex(-0.2, 0); cmplx.Abs(got-want) > matTol {
		t.Errorf("D(%d,%d)[0][0] in the bulk: got %v, want %v", x, y, got, want)
	}
	x, y = g.Site(1, L-1), g.Site(1, 0)
	if got, want := dense[2*x*n+2*y], complex(-0.2, 0); cmplx.Abs(got-want) > matTol {
		t.Errorf("D(%d,%d)[0][0] across the space boundary: got %v, want %v (periodic)", x, y, got, want)
	}
}

func TestNoAllocApply(t *testing.T) {
	g := lattice.NewGeometry(8)
	op := NewOperator(g, 0.25)
	links := randomLinks(g, 1)
	psi, dst, tmp := randomSpinor(op.Size(), 1), make([]complex128, op.Size()), make([]complex128, op.Size())
	if a := testing.AllocsPerRun(10, func() {
		op.SetLinks(links)
		op.ApplyDDTo(dst, tmp, psi)
	}); a != 0 {
		t.Errorf("SetLinks + ApplyDDTo: got %v allocations, want 0", a)
	}
	cg := NewCG(op, 1e-10, 500)
	if a := testing.AllocsPerRun(3, func() {
		if _, err := cg.SolveTo(dst, psi); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("CG.SolveTo: got %v allocations, want 0", a)
	}
}
