package fermion

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"latflow/lattice"
)

// evenOnly returns a random spinor that vanishes on the odd sites.
func evenOnly(op *Operator, seed uint64) []complex128 {
	v := randomSpinor(op.Size(), seed)
	for _, n := range op.odd {
		v[2*n], v[2*n+1] = 0, 0
	}
	return v
}

// TestApplySchurMatchesD checks M v against the full operator: with
// w = (v, kappa H_oe v), D w = (M v, 0), and kappa H_oe v = -(D v) on the
// odd sites when v vanishes there. It also checks that M^dagger is the
// adjoint of M on even vectors.
func TestApplySchurMatchesD(t *testing.T) {
	for _, L := range []int{2, 4, 6} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			g := lattice.NewGeometry(L)
			op := NewOperator(g, 0.27)
			op.SetLinks(randomLinks(g, uint64(L)+60))
			n := op.Size()
			v := evenOnly(op, 1)
			dv, w, dw := make([]complex128, n), make([]complex128, n), make([]complex128, n)
			op.ApplyTo(dv, v)
			copy(w, v)
			for _, s := range op.odd {
				w[2*s], w[2*s+1] = -dv[2*s], -dv[2*s+1]
			}
			op.ApplyTo(dw, w)
			got, odd := make([]complex128, n), make([]complex128, n)
			op.ApplySchurTo(got, odd, v)
			if d := maxDiff(got, dw); d > matTol {
				t.Errorf("M v: got max diff %.3g from D (v, kappa H_oe v), want <= %g", d, matTol)
			}
			u := evenOnly(op, 2)
			mu := make([]complex128, n)
			op.ApplySchurDaggerTo(mu, odd, u)
			var l, r complex128
			for i := range n {
				l += cmplx.Conj(u[i]) * got[i]
				r += cmplx.Conj(mu[i]) * v[i]
			}
			if d := cmplx.Abs(l - r); d > 1e-12*float64(n) {
				t.Errorf("<u, M v> = %v, <M^dagger u, v> = %v: diff %.3g", l, r, d)
			}
		})
	}
}

// TestSchurCG checks that the Schur CG solves M^dagger M x = b (residual
// through ApplySchurTo, itself checked against D) with x = 0 on the odd
// sites.
func TestSchurCG(t *testing.T) {
	const L = 6
	g := lattice.NewGeometry(L)
	op := NewOperator(g, 0.25)
	op.SetLinks(randomLinks(g, 4))
	n := op.Size()
	b := evenOnly(op, 3)
	x := make([]complex128, n)
	cgS := NewSchurCG(op, 1e-12, 10*n)
	itS, err := cgS.SolveTo(x, b)
	if err != nil {
		t.Fatal(err)
	}
	mx, ax, odd := make([]complex128, n), make([]complex128, n), make([]complex128, n)
	op.ApplySchurTo(mx, odd, x)
	op.ApplySchurDaggerTo(ax, odd, mx)
	if d := maxDiff(ax, b); d > 1e-9 {
		t.Errorf("M^dagger M x - b: got max %.3g, want <= 1e-9", d)
	}
	for _, s := range op.odd {
		if x[2*s] != 0 || x[2*s+1] != 0 {
			t.Fatalf("odd site %d: got x = %v, %v, want 0", s, x[2*s], x[2*s+1])
		}
	}
	// The plain CG on D^dagger D takes more iterations (reported, the
	// point of the even-odd form).
	y := make([]complex128, n)
	itD, err := NewCG(op, 1e-12, 10*n).SolveTo(y, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("iterations: M^dagger M %d, D^dagger D %d", itS, itD)
}

func TestEvenOddPseudofermionForceFD(t *testing.T) {
	for _, L := range []int{4, 6} {
		for _, kappa := range []float64{0.2, 0.27} {
			t.Run(fmt.Sprintf("L=%d/kappa=%g", L, kappa), func(t *testing.T) {
				g := lattice.NewGeometry(L)
				act := NewEvenOddPseudofermionAction(g, 1.5, kappa, pfCGTol, 100*g.V)
				links := randomLinks(g, uint64(L)+uint64(100*kappa))
				act.Refresh(links, rand.New(rand.NewPCG(uint64(L), 3)))
				for i := range links {
					links[i] += 0.3 * math.Sin(float64(i))
				}
				forceFD(t, act, links, pfForceFDTol)
				if err := act.Err(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestEvenOddPseudofermionRefresh: right after Refresh, S_pf = chi^dagger
// chi over the even sites, of mean V (V/2 sites, 2 spins).
func TestEvenOddPseudofermionRefresh(t *testing.T) {
	const L, N = 4, 4000
	g := lattice.NewGeometry(L)
	act := NewEvenOddPseudofermionAction(g, 2, 0.24, 1e-12, 1000)
	links := randomLinks(g, 8)
	rng := rand.New(rand.NewPCG(4, 4))
	sg := act.Gauge.Action(links)
	var sum float64
	for range N {
		act.Refresh(links, rng)
		sum += act.Action(links) - sg
	}
	if err := act.Err(); err != nil {
		t.Fatal(err)
	}
	n := float64(g.V)
	mean, sigma := sum/N, math.Sqrt(n/N)
	if math.Abs(mean-n) > 4*sigma {
		t.Errorf("<S_pf> after refresh: got %.3f, want %g +- %.3f (4 sigma)", mean, n, 4*sigma)
	}
}
