package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"latflow/internal/kernels"
)

// convCase is one layer shape of the convolution tests.
type convCase struct{ Cin, Cout, K, L int }

func (c convCase) String() string {
	return fmt.Sprintf("L=%d/K=%d/Cin=%d/Cout=%d", c.L, c.K, c.Cin, c.Cout)
}

func convCases() []convCase {
	var cs []convCase
	for _, L := range []int{4, 6} {
		for _, K := range []int{3, 5} {
			for _, ch := range [][2]int{{1, 1}, {2, 3}, {3, 2}} {
				cs = append(cs, convCase{ch[0], ch[1], K, L})
			}
		}
	}
	return cs
}

// randomConv returns a layer with weights and biases uniform in (-1, 1).
func randomConv(rng *rand.Rand, c convCase) *Conv2D[float64] {
	return &Conv2D[float64]{Cin: c.Cin, Cout: c.Cout, K: c.K,
		W: randVec(rng, c.Cout*c.Cin*c.K*c.K), B: randVec(rng, c.Cout)}
}

func TestConv2DVJPInputFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 1))
	log := &fdLog{t: t}
	for _, c := range convCases() {
		V := c.L * c.L
		conv := randomConv(rng, c)
		in, gout := randVec(rng, c.Cin*V), randVec(rng, c.Cout*V)
		out := make([]float64, c.Cout*V)
		f := func() (float64, string) {
			conv.Forward(out, in, c.L)
			return dot(gout, out), ""
		}
		gin := randVec(rng, c.Cin*V) // VJPInput overwrites
		conv.VJPInput(gin, gout, c.L)
		log.check(c.String(), in, f, gin)
	}
	log.report()
}

func TestConv2DVJPParamsFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 2))
	log := &fdLog{t: t}
	for _, c := range convCases() {
		V := c.L * c.L
		conv := randomConv(rng, c)
		in, gout := randVec(rng, c.Cin*V), randVec(rng, c.Cout*V)
		out := make([]float64, c.Cout*V)
		f := func() (float64, string) {
			conv.Forward(out, in, c.L)
			return dot(gout, out), ""
		}
		// VJPParams accumulates: start from random values and subtract them.
		gW0, gB0 := randVec(rng, len(conv.W)), randVec(rng, len(conv.B))
		gW, gB := append([]float64(nil), gW0...), append([]float64(nil), gB0...)
		conv.VJPParams(gW, gB, gout, in, c.L)
		for i := range gW {
			gW[i] -= gW0[i]
		}
		for i := range gB {
			gB[i] -= gB0[i]
		}
		log.check(c.String()+"/W", conv.W, f, gW)
		log.check(c.String()+"/B", conv.B, f, gB)
	}
	log.report()
}

// naiveCircularConv pads every input channel circularly by h = K/2 on each
// side, as torch.nn.functional.pad(mode="circular"), and applies the valid
// cross-correlation to the padded array.
func naiveCircularConv(c *Conv2D[float64], in []float64, L int) []float64 {
	h, P := c.K/2, L+c.K-1
	pad := make([]float64, c.Cin*P*P)
	mod := func(a int) int { return ((a % L) + L) % L }
	for i := 0; i < c.Cin; i++ {
		for p0 := 0; p0 < P; p0++ {
			for p1 := 0; p1 < P; p1++ {
				pad[(i*P+p0)*P+p1] = in[(i*L+mod(p0-h))*L+mod(p1-h)]
			}
		}
	}
	out := make([]float64, c.Cout*L*L)
	for o := 0; o < c.Cout; o++ {
		for x0 := 0; x0 < L; x0++ {
			for x1 := 0; x1 < L; x1++ {
				s := c.B[o]
				for i := 0; i < c.Cin; i++ {
					for k0 := 0; k0 < c.K; k0++ {
						for k1 := 0; k1 < c.K; k1++ {
							s += c.W[((o*c.Cin+i)*c.K+k0)*c.K+k1] * pad[(i*P+x0+k0)*P+x1+k1]
						}
					}
				}
				out[(o*L+x0)*L+x1] = s
			}
		}
	}
	return out
}

// Sums of up to Cin*K*K terms of size ~1 in a different order.
const naiveTol = 1e-13

func TestConv2DCircularPadding(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	var cs []convCase
	for _, L := range []int{1, 2, 3, 4, 5, 8} {
		for _, K := range []int{1, 3, 5} {
			cs = append(cs, convCase{2, 3, K, L})
		}
	}
	for _, c := range cs {
		conv := randomConv(rng, c)
		in := randVec(rng, c.Cin*c.L*c.L)
		got := make([]float64, c.Cout*c.L*c.L)
		conv.Forward(got, in, c.L)
		want := naiveCircularConv(conv, in, c.L)
		for j := range got {
			if math.Abs(got[j]-want[j]) > naiveTol {
				t.Errorf("%v: element %d: got %.15g, want %.15g", c, j, got[j], want[j])
				break
			}
		}
	}
}

// TestConv2DVJPInputAdjoint checks <gout, Conv(x) - B> = <VJPInput(gout), x>,
// exercising the adjoint on larger lattices than the FD test.
func TestConv2DVJPInputAdjoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 4))
	for _, c := range []convCase{{8, 8, 3, 16}, {2, 7, 3, 16}, {3, 4, 5, 9}, {4, 4, 7, 3}} {
		V := c.L * c.L
		conv := randomConv(rng, c)
		clear(conv.B)
		in, gout := randVec(rng, c.Cin*V), randVec(rng, c.Cout*V)
		out, gin := make([]float64, c.Cout*V), make([]float64, c.Cin*V)
		conv.Forward(out, in, c.L)
		conv.VJPInput(gin, gout, c.L)
		lhs, rhs := dot(gout, out), dot(gin, in)
		if math.Abs(lhs-rhs) > naiveTol*float64(V*c.Cin*c.Cout*c.K*c.K) {
			t.Errorf("%v: got <VJPInput(g), x> = %.15g, want <g, Conv(x)> = %.15g", c, rhs, lhs)
		}
	}
}

// TestConv2DWorkspaceMatchesDirect checks the shifted-row paths that Net
// uses (forwardWS, vjpInputWS, vjpParamsWS and the row kernels forwardRows,
// backwardRows) against the direct kernels of the public methods,
// including kernels wider than the lattice.
func TestConv2DWorkspaceMatchesDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 5))
	cs := convCases()
	cs = append(cs, convCase{8, 8, 3, 16}, convCase{2, 3, 5, 2}, convCase{3, 2, 7, 3}, convCase{2, 2, 3, 1})
	for _, c := range cs {
		V := c.L * c.L
		conv := randomConv(rng, c)
		in, gout := randVec(rng, c.Cin*V), randVec(rng, c.Cout*V)
		ws := make([]float64, conv.workspaceLen(c.L))
		compare := func(what string, got, want []float64) {
			t.Helper()
			for j := range got {
				if math.Abs(got[j]-want[j]) > naiveTol*(1+math.Abs(want[j])) {
					t.Errorf("%v: %s element %d: got %.15g, want %.15g", c, what, j, got[j], want[j])
					return
				}
			}
		}
		got, want := make([]float64, c.Cout*V), make([]float64, c.Cout*V)
		conv.forwardWS(got, in, ws, c.L)
		conv.Forward(want, in, c.L)
		compare("forward", got, want)

		gin, gin2 := randVec(rng, c.Cin*V), randVec(rng, c.Cin*V)
		conv.vjpInputWS(gin, gout, ws, c.L)
		conv.VJPInput(gin2, gout, c.L)
		compare("VJPInput", gin, gin2)

		gW, gB := make([]float64, len(conv.W)), make([]float64, len(conv.B))
		gW2, gB2 := make([]float64, len(conv.W)), make([]float64, len(conv.B))
		conv.vjpParamsWS(gW, gB, gout, in, ws, c.L)
		conv.VJPParams(gW2, gB2, gout, in, c.L)
		compare("VJPParams W", gW, gW2)
		compare("VJPParams B", gB, gB2)

		// The row kernels, without activations.
		plan := conv.newRowPlan(c.L)
		conv.forwardRows(got, in, ws, &plan, c.L, kernels.EpiNone)
		compare("forwardRows", got, want)
		clear(gW)
		clear(gB)
		conv.backwardRows(gin, gW, gB, gout, in, ws, &plan, c.L, kernels.EpiNone)
		compare("backwardRows input", gin, gin2)
		compare("backwardRows W", gW, gW2)
		compare("backwardRows B", gB, gB2)
	}
}
