package fermion

import (
	"fmt"
	"math"
	"math/cmplx"
	"testing"

	"gonum.org/v1/gonum/mat"

	"latflow/gauge"
	"latflow/lattice"
)

// logDetTol bounds the relative difference of log det(D^dagger D) from two
// methods or from the momentum-space formula (rounding of an LU of size at
// most 512 with pivots of order 1).
const logDetTol = 1e-11

// obsTol bounds the difference of the gradient, condensate and pion
// correlator between methods (entries of D^-1 of order 1 to 10).
const obsTol = 1e-10

var allMethods = []Method{EvenOdd, EvenOddReal, Full, FullReal}

// methodsFor returns the methods valid at extent L.
func methodsFor(L int) []Method {
	if L%2 != 0 {
		return []Method{Full, FullReal}
	}
	return allMethods
}

// freeMomenta calls f with each lattice momentum (p0, p1): p0 = 2pi (k0 +
// 1/2) / L antiperiodic in time, p1 = 2pi k1 / L periodic in space.
func freeMomenta(L int, f func(p0, p1 float64)) {
	for k0 := range L {
		for k1 := range L {
			f(2*math.Pi*(float64(k0)+0.5)/float64(L), 2*math.Pi*float64(k1)/float64(L))
		}
	}
}

// freeLogDet is log det D of the free field (U = 1) in momentum space, the
// formula of issue 21: D(p) = a + i 2 kappa sum_mu gamma_mu sin p_mu with
// a = 1 - 2 kappa sum_mu cos p_mu, whose spin determinant is
// a^2 + 4 kappa^2 sum_mu sin^2 p_mu.
func freeLogDet(L int, kappa float64) float64 {
	var s float64
	freeMomenta(L, func(p0, p1 float64) {
		a := 1 - 2*kappa*(math.Cos(p0)+math.Cos(p1))
		b2 := 4 * kappa * kappa * (math.Sin(p0)*math.Sin(p0) + math.Sin(p1)*math.Sin(p1))
		s += math.Log(a*a + b2)
	})
	return s
}

func TestFreeFieldLogDet(t *testing.T) {
	for _, L := range []int{2, 3, 4, 6, 8} {
		for _, kappa := range []float64{0.1, 0.2, 0.25, 0.3} {
			want := 2 * freeLogDet(L, kappa)
			for _, m := range methodsFor(L) {
				t.Run(fmt.Sprintf("L=%d/kappa=%g/%v", L, kappa, m), func(t *testing.T) {
					g := lattice.NewGeometry(L)
					d, err := NewDeterminant(g, kappa, m)
					if err != nil {
						t.Fatal(err)
					}
					if err := d.Factorize(make([]float64, 2*g.V)); err != nil {
						t.Fatal(err)
					}
					got := d.LogDetDD()
					if math.Abs(got-want) > logDetTol*max(1, math.Abs(want)) {
						t.Errorf("log det D^dagger D: got %.14g, want %.14g (momentum space)", got, want)
					}
				})
			}
		}
	}
	// Periodic time would give a different value: the test sees the
	// boundary condition.
	var periodic float64
	const L, kappa = 4, 0.2
	for k0 := range L {
		for k1 := range L {
			p0, p1 := 2*math.Pi*float64(k0)/L, 2*math.Pi*float64(k1)/L
			a := 1 - 2*kappa*(math.Cos(p0)+math.Cos(p1))
			periodic += math.Log(a*a + 4*kappa*kappa*(math.Sin(p0)*math.Sin(p0)+math.Sin(p1)*math.Sin(p1)))
		}
	}
	if math.Abs(periodic-freeLogDet(L, kappa)) < 0.1 {
		t.Errorf("periodic and antiperiodic free log det agree (%g, %g): the test cannot see the boundary", periodic, freeLogDet(L, kappa))
	}
}

// TestFreeFieldCondensate checks -(1/V) Tr D^-1 on the free field against
// momentum space: tr D(p)^-1 = 2a / (a^2 + b^2).
func TestFreeFieldCondensate(t *testing.T) {
	for _, L := range []int{4, 5, 8} {
		for _, kappa := range []float64{0.15, 0.24} {
			var want float64
			freeMomenta(L, func(p0, p1 float64) {
				a := 1 - 2*kappa*(math.Cos(p0)+math.Cos(p1))
				b2 := 4 * kappa * kappa * (math.Sin(p0)*math.Sin(p0) + math.Sin(p1)*math.Sin(p1))
				want -= 2 * a / (a*a + b2)
			})
			want /= float64(L * L)
			for _, m := range methodsFor(L) {
				t.Run(fmt.Sprintf("L=%d/kappa=%g/%v", L, kappa, m), func(t *testing.T) {
					g := lattice.NewGeometry(L)
					d, err := NewDeterminant(g, kappa, m)
					if err != nil {
						t.Fatal(err)
					}
					if err := d.Factorize(make([]float64, 2*g.V)); err != nil {
						t.Fatal(err)
					}
					if got := d.Condensate(); math.Abs(got-want) > obsTol {
						t.Errorf("condensate: got %.14g, want %.14g", got, want)
					}
				})
			}
		}
	}
}

// TestMethodsAgree compares the four methods on random links: log det, its
// gradient, the condensate and the pion correlator.
func TestMethodsAgree(t *testing.T) {
	for _, L := range []int{2, 4, 6} {
		for _, kappa := range []float64{0.18, 0.3} {
			t.Run(fmt.Sprintf("L=%d/kappa=%g", L, kappa), func(t *testing.T) {
				g := lattice.NewGeometry(L)
				links := randomLinks(g, uint64(L*100)+uint64(kappa*100))
				type result struct {
					logDet, cond float64
					grad, pion   []float64
				}
				var ref result
				for i, m := range allMethods {
					d, err := NewDeterminant(g, kappa, m)
					if err != nil {
						t.Fatal(err)
					}
					if err := d.Factorize(links); err != nil {
						t.Fatal(err)
					}
					r := result{logDet: d.LogDetDD(), cond: d.Condensate(),
						grad: make([]float64, 2*g.V), pion: make([]float64, L)}
					d.GradTo(r.grad)
					d.PionCorrelatorTo(r.pion)
					if i == 0 {
						ref = r
						continue
					}
					if math.Abs(r.logDet-ref.logDet) > logDetTol*max(1, math.Abs(ref.logDet)) {
						t.Errorf("%v: log det got %.14g, want %.14g (%v)", m, r.logDet, ref.logDet, allMethods[0])
					}
					if math.Abs(r.cond-ref.cond) > obsTol {
						t.Errorf("%v: condensate got %.14g, want %.14g (%v)", m, r.cond, ref.cond, allMethods[0])
					}
					for l := range r.grad {
						if math.Abs(r.grad[l]-ref.grad[l]) > obsTol {
							t.Errorf("%v: gradient link %d got %.14g, want %.14g (%v)", m, l, r.grad[l], ref.grad[l], allMethods[0])
						}
					}
					for tt := range r.pion {
						if math.Abs(r.pion[tt]-ref.pion[tt]) > obsTol*max(1, ref.pion[tt]) {
							t.Errorf("%v: C(%d) got %.14g, want %.14g (%v)", m, tt, r.pion[tt], ref.pion[tt], allMethods[0])
						}
					}
				}
			})
		}
	}
}

// TestGaugeInvariance checks that log det, the condensate and the pion
// correlator do not change under a random gauge transformation, and that
// they do change under a change of the links that is not one.
func TestGaugeInvariance(t *testing.T) {
	for _, L := range []int{3, 4, 8} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			g := lattice.NewGeometry(L)
			const kappa = 0.24
			d, err := NewDeterminant(g, kappa, DefaultMethod(L))
			if err != nil {
				t.Fatal(err)
			}
			links := randomLinks(g, uint64(L))
			alpha := randomLinks(g, uint64(L)+50)[:g.V]
			moved := make([]float64, len(links))
			gauge.GaugeTransformTo(moved, g, links, alpha)
			eval := func(x []float64) (float64, float64, []float64) {
				if err := d.Factorize(x); err != nil {
					t.Fatal(err)
				}
				c := make([]float64, L)
				d.PionCorrelatorTo(c)
				return d.LogDetDD(), d.Condensate(), c
			}
			l0, c0, p0 := eval(links)
			l1, c1, p1 := eval(moved)
			if math.Abs(l1-l0) > logDetTol*max(1, math.Abs(l0)) {
				t.Errorf("log det: got %.14g after the gauge transformation, want %.14g", l1, l0)
			}
			if math.Abs(c1-c0) > obsTol {
				t.Errorf("condensate: got %.14g after the gauge transformation, want %.14g", c1, c0)
			}
			for tt := range p0 {
				if math.Abs(p1[tt]-p0[tt]) > obsTol*max(1, p0[tt]) {
					t.Errorf("C(%d): got %.14g after the gauge transformation, want %.14g", tt, p1[tt], p0[tt])
				}
			}
			moved[0] += 0.5
			if l2, _, _ := eval(moved); math.Abs(l2-l0) < 1e-6 {
				t.Errorf("log det unchanged (%.14g) by a change of one link: the test cannot fail", l2)
			}
		})
	}
}

const (
	// gradFDStep is the central finite-difference step in a link angle.
	gradFDStep = 1e-5
	// gradFDTol bounds |grad - FD|: truncation h^2/6 |d^3 log det| ~ 1e-10
	// and rounding 1e-13 |log det| / h <~ 1e-7 for |log det| < 100.
	gradFDTol = 2e-7
)

func TestLogDetDDGradFD(t *testing.T) {
	for _, L := range []int{3, 4, 6} {
		for _, kappa := range []float64{0.2, 0.3} {
			for _, m := range []Method{DefaultMethod(L), Full} {
				if m == Full && L%2 != 0 {
					continue
				}
				t.Run(fmt.Sprintf("L=%d/kappa=%g/%v", L, kappa, m), func(t *testing.T) {
					g := lattice.NewGeometry(L)
					d, err := NewDeterminant(g, kappa, m)
					if err != nil {
						t.Fatal(err)
					}
					links := randomLinks(g, uint64(L)*3+uint64(kappa*10))
					if err := d.Factorize(links); err != nil {
						t.Fatal(err)
					}
					grad := make([]float64, len(links))
					d.GradTo(grad)
					x := append([]float64(nil), links...)
					f := func() float64 {
						if err := d.Factorize(x); err != nil {
							t.Fatal(err)
						}
						return d.LogDetDD()
					}
					var norm float64
					for l := range x {
						x[l] = links[l] + gradFDStep
						fp := f()
						x[l] = links[l] - gradFDStep
						fm := f()
						x[l] = links[l]
						fd := (fp - fm) / (2 * gradFDStep)
						norm = max(norm, math.Abs(fd))
						if diff := math.Abs(grad[l] - fd); diff > gradFDTol {
							t.Errorf("link %d: got gradient %.10g, want FD %.10g (diff %.2g)", l, grad[l], fd, diff)
						}
					}
					if norm < 1e-3 {
						t.Errorf("max |FD gradient| = %g: the test cannot fail", norm)
					}
				})
			}
		}
	}
}

// TestCGDenseSolve checks CG on D^dagger D against gonum's dense solve of
// the real form of D^dagger D (an LU independent of this package).
func TestCGDenseSolve(t *testing.T) {
	for _, L := range []int{3, 4, 8} {
		for _, kappa := range []float64{0.15, 0.25} {
			t.Run(fmt.Sprintf("L=%d/kappa=%g", L, kappa), func(t *testing.T) {
				g := lattice.NewGeometry(L)
				op := NewOperator(g, kappa)
				op.SetLinks(randomLinks(g, uint64(L)+9))
				n := op.Size()
				b := randomSpinor(n, uint64(L))
				x := make([]complex128, n)
				cg := NewCG(op, 1e-12, 10*n)
				iters, err := cg.SolveTo(x, b)
				if err != nil {
					t.Fatal(err)
				}
				// A = D^dagger D densely, then its real form.
				dd := make([]complex128, n*n)
				op.DenseTo(dd)
				a := make([]complex128, n*n)
				for i := range n {
					for j := range n {
						var s complex128
						for k := range n {
							s += cmplx.Conj(dd[k*n+i]) * dd[k*n+j]
						}
						a[i*n+j] = s
					}
				}
				re := mat.NewDense(2*n, 2*n, nil)
				realFormTo(re, a, n)
				rhs := mat.NewVecDense(2*n, nil)
				for i := range n {
					rhs.SetVec(i, real(b[i]))
					rhs.SetVec(n+i, imag(b[i]))
				}
				var sol mat.VecDense
				if err := sol.SolveVec(re, rhs); err != nil {
					t.Fatal(err)
				}
				var worst, scale float64
				for i := range n {
					want := complex(sol.AtVec(i), sol.AtVec(n+i))
					worst = max(worst, cmplx.Abs(x[i]-want))
					scale = max(scale, cmplx.Abs(want))
				}
				if worst > 1e-9*scale {
					t.Errorf("CG (%d iterations): max diff %.3g from the dense solve, want <= %.3g", iters, worst, 1e-9*scale)
				}
			})
		}
	}
}

// TestPionCorrelatorCG checks the pion correlator of the dense inverse
// against the two columns D^-1 e_(0,b) = (D^dagger D)^-1 D^dagger e_(0,b)
// computed by CG, and that C(t) is symmetric under t -> L - t (time
// reflection is not a symmetry of one configuration, so only to within
// the noise: the check is on the free field).
func TestPionCorrelatorCG(t *testing.T) {
	const L, kappa = 6, 0.26
	g := lattice.NewGeometry(L)
	links := randomLinks(g, 77)
	d, err := NewDeterminant(g, kappa, EvenOdd)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Factorize(links); err != nil {
		t.Fatal(err)
	}
	got := make([]float64, L)
	d.PionCorrelatorTo(got)
	op := d.Operator()
	n := op.Size()
	cg := NewCG(op, 1e-13, 20*n)
	want := make([]float64, L)
	src, rhs, col := make([]complex128, n), make([]complex128, n), make([]complex128, n)
	for b := range Spin {
		clear(src)
		src[b] = 1
		op.ApplyDaggerTo(rhs, src)
		if _, err := cg.SolveTo(col, rhs); err != nil {
			t.Fatal(err)
		}
		for x := range g.V {
			t0, _ := g.Coords(x)
			for a := range Spin {
				v := col[2*x+a]
				want[t0] += real(v)*real(v) + imag(v)*imag(v)
			}
		}
	}
	for tt := range L {
		if math.Abs(got[tt]-want[tt]) > 1e-9*max(1, want[tt]) {
			t.Errorf("C(%d): got %.12g, want %.12g (CG)", tt, got[tt], want[tt])
		}
	}
	if err := d.Factorize(make([]float64, 2*g.V)); err != nil {
		t.Fatal(err)
	}
	d.PionCorrelatorTo(got)
	for tt := 1; tt < L; tt++ {
		if math.Abs(got[tt]-got[L-tt]) > obsTol {
			t.Errorf("free field: C(%d) = %.14g, C(%d) = %.14g, want equal", tt, got[tt], L-tt, got[L-tt])
		}
	}
	if !(got[0] > got[1] && got[1] > got[L/2]) {
		t.Errorf("free field: C = %v, want decreasing from t = 0 to L/2", got)
	}
}

// TestLU checks the complex LU on a random matrix: A A^-1 = 1, and log
// |det A| against gonum's real LU of the real form; and a singular matrix
// gives an error.
func TestLU(t *testing.T) {
	const n = 37
	a := randomSpinor(n*n, 3)
	lu := append([]complex128(nil), a...)
	piv := make([]int, n)
	logAbs, phase, err := luFactorize(lu, n, piv)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(cmplx.Abs(phase)-1) > 1e-14 {
		t.Errorf("phase: got |%v| = %g, want 1", phase, cmplx.Abs(phase))
	}
	inv := make([]complex128, n*n)
	luInverse(inv, lu, n, piv)
	var worst float64
	for i := range n {
		for j := range n {
			var s complex128
			for k := range n {
				s += a[i*n+k] * inv[k*n+j]
			}
			if i == j {
				s--
			}
			worst = max(worst, cmplx.Abs(s))
		}
	}
	if worst > 1e-11 {
		t.Errorf("A A^-1 - 1: got max %.3g, want <= 1e-11", worst)
	}
	re := mat.NewDense(2*n, 2*n, nil)
	realFormTo(re, a, n)
	var glu mat.LU
	glu.Factorize(re)
	want, _ := glu.LogDet()
	if math.Abs(2*logAbs-want) > logDetTol*math.Abs(want) {
		t.Errorf("2 log|det A|: got %.14g, want %.14g (gonum, real form)", 2*logAbs, want)
	}
	// Rows 0 and 2 equal: the elimination gives an exact zero pivot.
	sing := []complex128{1, 2i, 3, 4, 5, 6i, 1, 2i, 3}
	if _, _, err := luFactorize(sing, 3, make([]int, 3)); err == nil {
		t.Errorf("singular matrix: got no error, want one")
	}
}

func TestNewDeterminantErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		L     int
		kappa float64
		m     Method
	}{
		{"odd L even-odd", 5, 0.2, EvenOdd},
		{"too large", MaxDenseL + 2, 0.2, Full},
		{"NaN kappa", 4, math.NaN(), Full},
		{"bad method", 4, 0.2, Method(9)},
	} {
		if _, err := NewDeterminant(lattice.NewGeometry(c.L), c.kappa, c.m); err == nil {
			t.Errorf("%s: got no error, want one", c.name)
		}
	}
}
