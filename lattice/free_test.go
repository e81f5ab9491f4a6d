package lattice

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// freeTol is the relative tolerance between the momentum-space results and
// a dense LU inverse of M for lattices of at most 36 sites.
const freeTol = 1e-10

// denseKernel builds M of S = (1/2) phi^T M phi in position space, term by
// term from the J/A form of the action: 2A on the diagonal and -2J on both
// (x, x+e_mu) and (x+e_mu, x) for every site and direction.
func denseKernel(a Phi4Action) *mat.Dense {
	g := a.Geom
	M := mat.NewDense(g.V, g.V, nil)
	for x := 0; x < g.V; x++ {
		M.Set(x, x, M.At(x, x)+2*a.A)
		for mu := 0; mu < Dim; mu++ {
			y := g.Up(mu, x)
			M.Set(x, y, M.At(x, y)-2*a.J)
			M.Set(y, x, M.At(y, x)-2*a.J)
		}
	}
	return M
}

func TestExactFreeFieldDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 1))
	for _, L := range []int{4, 6} {
		g := NewGeometry(L)
		for _, a := range []Phi4Action{NewPhi4Standard(g, 1, 0), NewPhi4Standard(g, 0.25, 0), NewPhi4Hopping(g, 0.2, 0)} {
			t.Run(fmt.Sprintf("L=%d/%v", L, a), func(t *testing.T) {
				M := denseKernel(a)
				// M is the kernel of the action: S = (1/2) phi^T M phi.
				phi := randomField(rng, g.V, 1)
				v := mat.NewVecDense(g.V, phi)
				if got, want := 0.5*mat.Inner(v, M, v), a.Action(phi); !closeRel(got, want, identityTol) {
					t.Fatalf("got (1/2) phi^T M phi=%.15g, want S=%.15g", got, want)
				}
				var G mat.Dense
				if err := G.Inverse(M); err != nil {
					t.Fatalf("inverting M: %v", err)
				}
				var trace, total float64
				prop := make([]float64, L)
				for x := 0; x < g.V; x++ {
					trace += G.At(x, x)
					x0, _ := g.Coords(x)
					for y := 0; y < g.V; y++ {
						total += G.At(x, y)
						y0, _ := g.Coords(y)
						prop[((y0-x0)%L+L)%L] += G.At(x, y)
					}
				}
				V := float64(g.V)
				want := FreeField{Phi2: trace / V, M2: total / (V * V), Chi2: total / V}
				got, err := ExactFreeField(a)
				if err != nil {
					t.Fatalf("ExactFreeField: %v", err)
				}
				if !closeRel(got.Phi2, want.Phi2, freeTol) || !closeRel(got.M2, want.M2, freeTol) || !closeRel(got.Chi2, want.Chi2, freeTol) {
					t.Errorf("got %+v, want %+v", got, want)
				}
				dst := make([]float64, L)
				if err := FreePropagatorTo(dst, a); err != nil {
					t.Fatalf("FreePropagatorTo: %v", err)
				}
				for tt := range dst {
					if w := prop[tt] / V; !closeRel(dst[tt], w, freeTol) {
						t.Errorf("t=%d: got G(t)=%.12g, want %.12g", tt, dst[tt], w)
					}
				}
			})
		}
	}
}

func TestExactFreeFieldErrors(t *testing.T) {
	g := NewGeometry(4)
	for _, a := range []Phi4Action{
		NewPhi4Standard(g, 1, 0.1), // interacting
		NewPhi4Standard(g, -1, 0),  // M(0) = 2(4-1) - 8 < 0
		NewPhi4Standard(g, 0, 0),   // M(0) = 0: massless
		NewPhi4Hopping(g, 0.25, 0), // M(0) = 2 - 8 kappa = 0
	} {
		if _, err := ExactFreeField(a); err == nil {
			t.Errorf("ExactFreeField(%v): got nil error, want an error", a)
		}
		if err := FreePropagatorTo(make([]float64, g.L), a); err == nil {
			t.Errorf("FreePropagatorTo(%v): got nil error, want an error", a)
		}
	}
	expectPanic(t, "FreePropagatorTo short dst", func() { _ = FreePropagatorTo(make([]float64, 3), NewPhi4Standard(g, 1, 0)) })
}
