package lattice

import (
	"fmt"
	"math"
)

// FreeField holds exact expectation values of the free field (B = 0) on the
// finite periodic lattice.
type FreeField struct {
	// Phi2 is <phi(x)^2>, the same at every site.
	Phi2 float64
	// M2 is <m^2> with the magnetization m = (1/V) sum_x phi(x).
	M2 float64
	// Chi2 is the two-point susceptibility V <m^2> = <(sum_x phi(x))^2> / V.
	Chi2 float64
}

// freeKernel returns M(k) = 2A - 4J sum_mu cos k_mu of the free action
// S = (1/2) phi^T M phi at the momentum k_mu = 2 pi n_mu / L.
func freeKernel(a Phi4Action, n0, n1 int) float64 {
	L := float64(a.Geom.L)
	k0 := 2 * math.Pi * float64(n0) / L
	k1 := 2 * math.Pi * float64(n1) / L
	return 2*a.A - 4*a.J*(math.Cos(k0)+math.Cos(k1))
}

// checkFree returns an error unless a is a free action (B = 0) whose
// kernel M is positive definite.
func checkFree(a Phi4Action) error {
	if a.Geom == nil {
		panic("lattice: free field: Phi4Action has no geometry")
	}
	if a.B != 0 {
		return fmt.Errorf("lattice: free field: %v has B=%g, want B=0", a, a.B)
	}
	L := a.Geom.L
	for n0 := 0; n0 < L; n0++ {
		for n1 := 0; n1 < L; n1++ {
			if m := freeKernel(a, n0, n1); !(m > 0) {
				return fmt.Errorf("lattice: free field: %v is not positive definite: M(k)=%g at n=(%d,%d)", a, m, n0, n1)
			}
		}
	}
	return nil
}

// ExactFreeField returns the exact <phi^2>, <m^2> and chi_2 of the free
// action a, from the momentum-space propagator 1/M(k):
// <phi(x)^2> = (1/V) sum_k 1/M(k) and chi_2 = 1/M(0). It returns an error if
// a.B != 0 or M is not positive definite.
func ExactFreeField(a Phi4Action) (FreeField, error) {
	if err := checkFree(a); err != nil {
		return FreeField{}, err
	}
	L, V := a.Geom.L, float64(a.Geom.V)
	var sum float64
	for n0 := 0; n0 < L; n0++ {
		for n1 := 0; n1 < L; n1++ {
			sum += 1 / freeKernel(a, n0, n1)
		}
	}
	chi2 := 1 / freeKernel(a, 0, 0)
	return FreeField{Phi2: sum / V, M2: chi2 / V, Chi2: chi2}, nil
}

// FreePropagatorTo writes the exact time-slice two-point function of the
// free action a into dst, which must have length L:
//
//	dst[t] = (1/V) sum_x sum_{y: y0 - x0 = t mod L} <phi(x) phi(y)>
//	       = (1/L) sum_{n0} cos(k0 t) / M(k0, 0),
//
// with time along direction 0. It returns an error under the conditions of
// ExactFreeField and panics if len(dst) != L.
func FreePropagatorTo(dst []float64, a Phi4Action) error {
	if a.Geom == nil {
		panic("lattice: FreePropagatorTo: Phi4Action has no geometry")
	}
	L := a.Geom.L
	if len(dst) != L {
		panic(fmt.Sprintf("lattice: FreePropagatorTo: dst length %d, want L=%d", len(dst), L))
	}
	if err := checkFree(a); err != nil {
		return err
	}
	for t := 0; t < L; t++ {
		var sum float64
		for n0 := 0; n0 < L; n0++ {
			// cos(k0 t) with k0 t reduced mod 2 pi exactly in integers.
			sum += math.Cos(2*math.Pi*float64(n0*t%L)/float64(L)) / freeKernel(a, n0, 0)
		}
		dst[t] = sum / float64(L)
	}
	return nil
}
