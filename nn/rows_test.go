package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// withRows returns a copy of n (same parameters) that uses the row kernels
// if rows, the per-plane axpy kernels otherwise.
func withRows[T Float](n *Net[T], rows bool) *Net[T] {
	m := Convert[T](n)
	m.rows = rows
	return m
}

// Sums of up to Cin*K*K terms per layer in a different order, with FMA on
// one side: relative to the sum of the magnitudes (the scale).
const (
	pathTol64 = 1e-12
	pathTol32 = 2e-5
)

// testRowPath compares Forward and Backward of the row kernels with the
// axpy path, elementwise relative to the largest magnitude of each output.
func testRowPath[T Float](t *testing.T, c netCase, tol float64) {
	rng := rand.New(rand.NewPCG(16, uint64(c.L)))
	n64 := c.net()
	n64.InitRandom(rng)
	n := Convert[T](n64)
	a, b := withRows(n, true), withRows(n, false)
	ta, tb := a.NewTape(), b.NewTape()
	in, gout := make([]T, n.InSize()), make([]T, n.OutSize())
	for i := range in {
		in[i] = T(2*rng.Float64() - 1)
	}
	for i := range gout {
		gout[i] = T(2*rng.Float64() - 1)
	}
	outA, outB := make([]T, n.OutSize()), make([]T, n.OutSize())
	a.Forward(ta, outA, in)
	b.Forward(tb, outB, in)
	compareRel(t, "output", outA, outB, tol)
	ginA, ginB := make([]T, n.InSize()), make([]T, n.InSize())
	gradA, gradB := make([]T, n.NumParams()), make([]T, n.NumParams())
	a.Backward(ta, ginA, gradA, gout)
	b.Backward(tb, ginB, gradB, gout)
	compareRel(t, "input cotangent", ginA, ginB, tol)
	compareRel(t, "gradient", gradA, gradB, tol)
}

// compareRel fails unless |got-want| <= tol * max|want| elementwise.
func compareRel[T Float](t *testing.T, what string, got, want []T, tol float64) {
	t.Helper()
	var scale float64
	for _, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*scale {
			t.Errorf("%s element %d: got %.9g, want %.9g (axpy path)", what, i, got[i], want[i])
			return
		}
	}
}

// TestNetRowKernelsMatchAxpyPath checks the row kernels (layers four
// channels at a time, fused activations, both forms of the weight
// gradient) against the per-plane axpy path, on the shapes of the two
// flows and on odd ones (tails of the assembly tiles, K = 5, L not a
// multiple of the vector width).
func TestNetRowKernelsMatchAxpyPath(t *testing.T) {
	cases := append(netCases(),
		netCase{16, []int{2, 8, 8, 7}, 3, LeakyReLU, Identity},
		netCase{8, []int{1, 8, 8, 2}, 3, LeakyReLU, Tanh},
		netCase{6, []int{5, 3, 6}, 3, LeakyReLU, LeakyReLU},
		netCase{3, []int{2, 2}, 3, Identity, Identity},
	)
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v/float64", c), func(t *testing.T) { testRowPath[float64](t, c, pathTol64) })
		t.Run(fmt.Sprintf("%v/float32", c), func(t *testing.T) { testRowPath[float32](t, c, pathTol32) })
	}
}

// TestRowPlanGradientForms checks that both forms of the weight gradient
// of the row kernels (from copies of the input, or of the output
// cotangent) occur in the test shapes and agree with VJPParams.
func TestRowPlanGradientForms(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 99))
	seen := map[bool]bool{}
	for _, c := range []convCase{{2, 8, 3, 16}, {8, 7, 3, 16}, {8, 8, 3, 8}, {1, 8, 3, 8}, {3, 2, 5, 6}, {5, 1, 3, 4}} {
		conv := randomConv(rng, c)
		plan := conv.newRowPlan(c.L)
		seen[plan.gradFromInput] = true
		V := c.L * c.L
		in, gout := randVec(rng, c.Cin*V), randVec(rng, c.Cout*V)
		ws := make([]float64, conv.workspaceLen(c.L))
		gW, gB := make([]float64, len(conv.W)), make([]float64, len(conv.B))
		gW2, gB2 := make([]float64, len(conv.W)), make([]float64, len(conv.B))
		conv.backwardRows(nil, gW, gB, gout, in, ws, &plan, c.L, 0)
		conv.VJPParams(gW2, gB2, gout, in, c.L)
		for i := range gW {
			if math.Abs(gW[i]-gW2[i]) > naiveTol*float64(V)*(1+math.Abs(gW2[i])) {
				t.Errorf("%v (gradFromInput=%v): gW[%d]: got %.15g, want %.15g", c, plan.gradFromInput, i, gW[i], gW2[i])
				break
			}
		}
		for i := range gB {
			if math.Abs(gB[i]-gB2[i]) > naiveTol*float64(V)*(1+math.Abs(gB2[i])) {
				t.Errorf("%v: gB[%d]: got %.15g, want %.15g", c, i, gB[i], gB2[i])
			}
		}
	}
	if !seen[true] || !seen[false] {
		t.Errorf("gradient forms seen: %v, want both", seen)
	}
}
