package flow

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// Finite-difference helpers shared by the RealNVP and flow tests. Names are
// prefixed jac so they do not collide with other tests of the package.

// jacStep is the central finite-difference step in x and in the
// parameters: truncation error O(h^2 f”') ~ 1e-12, rounding error
// O(1e-16 |f| / h) ~ 1e-10 |f|. The step is small because the conditioners
// use LeakyReLU: a stencil that straddles a kink of one of the thousands of
// units of a flow gives a wrong difference, with probability proportional
// to h.
const jacStep = 1e-6

// jacStencil returns the central difference from the values at x+h, x-h.
func jacStencil(p1, m1 float64) float64 {
	return (p1 - m1) / (2 * jacStep)
}

// jacFD returns the Jacobian J[i][j] = d y_i / d x_j of fn at x by central
// differences; fn writes y (length m) from x.
func jacFD(fn func(y, x []float64), m int, x []float64) *mat.Dense {
	n := len(x)
	J := mat.NewDense(m, n, nil)
	xp := append([]float64(nil), x...)
	yp, ym := make([]float64, m), make([]float64, m)
	for j := 0; j < n; j++ {
		xp[j] = x[j] + jacStep
		fn(yp, xp)
		xp[j] = x[j] - jacStep
		fn(ym, xp)
		xp[j] = x[j]
		for i := 0; i < m; i++ {
			J.Set(i, j, jacStencil(yp[i], ym[i]))
		}
	}
	return J
}

// jacGradFD returns the gradient of the scalar fn at x by central
// differences, for the coordinates in idx (all if idx is nil); entries not
// in idx are zero.
func jacGradFD(fn func(x []float64) float64, x []float64, idx []int) []float64 {
	g := make([]float64, len(x))
	xp := append([]float64(nil), x...)
	if idx == nil {
		idx = make([]int, len(x))
		for i := range idx {
			idx[i] = i
		}
	}
	for _, j := range idx {
		xp[j] = x[j] + jacStep
		fp := fn(xp)
		xp[j] = x[j] - jacStep
		fm := fn(xp)
		xp[j] = x[j]
		g[j] = jacStencil(fp, fm)
	}
	return g
}

// jacLogDet returns log|det J|.
func jacLogDet(J *mat.Dense) float64 {
	ld, _ := mat.LogDet(J)
	return ld
}

// jacMaxRel returns max_i |got_i - want_i| / max(max_i |want_i|, floor) over
// idx (all if nil): the error relative to the size of the reference vector.
func jacMaxRel(got, want []float64, idx []int, floor float64) float64 {
	if idx == nil {
		idx = make([]int, len(want))
		for i := range idx {
			idx[i] = i
		}
	}
	var diff, scale float64
	for _, i := range idx {
		diff = math.Max(diff, math.Abs(got[i]-want[i]))
		scale = math.Max(scale, math.Abs(want[i]))
	}
	return diff / math.Max(scale, floor)
}

// jacNormal returns n draws from N(0, sigma^2).
func jacNormal(rng *rand.Rand, n int, sigma float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = sigma * rng.NormFloat64()
	}
	return v
}

// jacPerturb adds N(0, sigma^2) noise to every element of p, so tests run
// at random weights rather than at an initialization.
func jacPerturb(rng *rand.Rand, p []float64, sigma float64) {
	for i := range p {
		p[i] += sigma * rng.NormFloat64()
	}
}

// jacSubset returns k distinct indices in [0, n) (all if k >= n), sorted.
func jacSubset(rng *rand.Rand, n, k int) []int {
	if k >= n {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	perm := rng.Perm(n)[:k]
	idx := make([]int, 0, k)
	seen := make([]bool, n)
	for _, i := range perm {
		seen[i] = true
	}
	for i, ok := range seen {
		if ok {
			idx = append(idx, i)
		}
	}
	return idx
}

func TestJacHelpers(t *testing.T) {
	// y = A x has Jacobian A and log|det| of A; checks the helpers
	// themselves on an exactly known case.
	A := mat.NewDense(2, 2, []float64{2, 1, 0.5, 3})
	fn := func(y, x []float64) {
		y[0] = 2*x[0] + x[1]
		y[1] = 0.5*x[0] + 3*x[1]
	}
	J := jacFD(fn, 2, []float64{0.3, -0.7})
	if !mat.EqualApprox(J, A, 1e-9) {
		t.Errorf("jacFD: got %v, want %v", mat.Formatted(J), mat.Formatted(A))
	}
	if got, want := jacLogDet(J), math.Log(5.5); math.Abs(got-want) > 1e-9 {
		t.Errorf("jacLogDet: got %v, want %v", got, want)
	}
}
