package nn

import (
	"fmt"

	"latflow/internal/kernels"
)

// Conv2D is a two-dimensional convolution (cross-correlation) with circular
// padding, an odd kernel K and a bias, from Cin to Cout channels:
//
//	out[o][x] = B[o] + sum_{i,k0,k1} W[((o*Cin+i)*K+k0)*K+k1] in[i][x0+k0-K/2][x1+k1-K/2]
//
// with periodic site arithmetic. In a Net, W and B are views into the
// Net's flat parameter slice.
type Conv2D[T Float] struct {
	Cin, Cout, K int
	// W has length Cout*Cin*K*K, B has length Cout.
	W, B []T
}

// check panics unless the layer is consistent and dst, src have the sizes
// Cout*L*L and Cin*L*L.
func (c *Conv2D[T]) check(op string, dst, src []T, L int) {
	if c.K < 1 || c.K%2 == 0 {
		panic(fmt.Sprintf("nn: Conv2D.%s: kernel K=%d, want odd K >= 1", op, c.K))
	}
	if len(c.W) != c.Cout*c.Cin*c.K*c.K || len(c.B) != c.Cout {
		panic(fmt.Sprintf("nn: Conv2D.%s: len(W)=%d, len(B)=%d, want %d, %d",
			op, len(c.W), len(c.B), c.Cout*c.Cin*c.K*c.K, c.Cout))
	}
	if L < 1 {
		panic(fmt.Sprintf("nn: Conv2D.%s: L=%d, want L >= 1", op, L))
	}
	V := L * L
	if len(dst) != c.Cout*V || len(src) != c.Cin*V {
		panic(fmt.Sprintf("nn: Conv2D.%s: output length %d, input length %d, want %d, %d",
			op, len(dst), len(src), c.Cout*V, c.Cin*V))
	}
}

// Forward sets dst (Cout x L x L) to the convolution of src (Cin x L x L).
// dst and src must not overlap.
func (c *Conv2D[T]) Forward(dst, src []T, L int) {
	c.check("Forward", dst, src, L)
	V, KK := L*L, c.K*c.K
	for o := 0; o < c.Cout; o++ {
		d := dst[o*V : (o+1)*V]
		kernels.Fill(d, c.B[o])
		for i := 0; i < c.Cin; i++ {
			kernels.ConvPlane(d, src[i*V:(i+1)*V], c.W[(o*c.Cin+i)*KK:(o*c.Cin+i+1)*KK], c.K, L)
		}
	}
}

// VJPInput sets gsrc (Cin x L x L) to (d out/d in)^T gdst, gdst being a
// cotangent of the output (Cout x L x L). gsrc and gdst must not overlap.
func (c *Conv2D[T]) VJPInput(gsrc, gdst []T, L int) {
	c.check("VJPInput", gdst, gsrc, L)
	V, KK := L*L, c.K*c.K
	for i := 0; i < c.Cin; i++ {
		g := gsrc[i*V : (i+1)*V]
		kernels.Fill(g, 0)
		for o := 0; o < c.Cout; o++ {
			kernels.ConvPlaneAdjoint(g, gdst[o*V:(o+1)*V], c.W[(o*c.Cin+i)*KK:(o*c.Cin+i+1)*KK], c.K, L)
		}
	}
}

// VJPParams adds (d out/d W)^T gdst to gW and (d out/d B)^T gdst to gB,
// for the input src of the forward pass. gW and gB have the shapes of W
// and B.
func (c *Conv2D[T]) VJPParams(gW, gB, gdst, src []T, L int) {
	c.check("VJPParams", gdst, src, L)
	if len(gW) != len(c.W) || len(gB) != len(c.B) {
		panic(fmt.Sprintf("nn: Conv2D.VJPParams: len(gW)=%d, len(gB)=%d, want %d, %d",
			len(gW), len(gB), len(c.W), len(c.B)))
	}
	V, KK := L*L, c.K*c.K
	for o := 0; o < c.Cout; o++ {
		g := gdst[o*V : (o+1)*V]
		gB[o] += kernels.Sum(g)
		for i := 0; i < c.Cin; i++ {
			kernels.ConvWeightGrad(gW[(o*c.Cin+i)*KK:(o*c.Cin+i+1)*KK], g, src[i*V:(i+1)*V], c.K, L)
		}
	}
}

// workspaceLen returns the length of the workspace the ...WS methods need
// on an L x L lattice: the shifted-row copies of max(Cin, Cout) planes.
func (c *Conv2D[T]) workspaceLen(L int) int {
	return max(c.Cin, c.Cout) * kernels.ShiftedLen(c.K, L)
}

// forwardWS is Forward through shifted-row copies of the input in ws: every
// kernel entry is one contiguous axpy over the plane. Used by Net, whose
// Tape holds the workspace; the shapes are checked by Net.
func (c *Conv2D[T]) forwardWS(dst, src, ws []T, L int) {
	V, KK, S := L*L, c.K*c.K, kernels.ShiftedLen(c.K, L)
	for i := 0; i < c.Cin; i++ {
		kernels.ShiftRowsTo(ws[i*S:(i+1)*S], src[i*V:(i+1)*V], c.K, L)
	}
	for o := 0; o < c.Cout; o++ {
		d := dst[o*V : (o+1)*V]
		kernels.Fill(d, c.B[o])
		for i := 0; i < c.Cin; i++ {
			kernels.ConvShifted(d, ws[i*S:(i+1)*S], c.W[(o*c.Cin+i)*KK:(o*c.Cin+i+1)*KK], c.K, L)
		}
	}
}

// vjpInputWS is VJPInput through shifted-row copies of gdst in ws.
func (c *Conv2D[T]) vjpInputWS(gsrc, gdst, ws []T, L int) {
	V, KK, S := L*L, c.K*c.K, kernels.ShiftedLen(c.K, L)
	for o := 0; o < c.Cout; o++ {
		kernels.ShiftRowsTo(ws[o*S:(o+1)*S], gdst[o*V:(o+1)*V], c.K, L)
	}
	for i := 0; i < c.Cin; i++ {
		g := gsrc[i*V : (i+1)*V]
		kernels.Fill(g, 0)
		for o := 0; o < c.Cout; o++ {
			kernels.ConvShiftedAdjoint(g, ws[o*S:(o+1)*S], c.W[(o*c.Cin+i)*KK:(o*c.Cin+i+1)*KK], c.K, L)
		}
	}
}

// vjpParamsWS is VJPParams through shifted-row copies of src in ws.
func (c *Conv2D[T]) vjpParamsWS(gW, gB, gdst, src, ws []T, L int) {
	V, KK, S := L*L, c.K*c.K, kernels.ShiftedLen(c.K, L)
	for i := 0; i < c.Cin; i++ {
		kernels.ShiftRowsTo(ws[i*S:(i+1)*S], src[i*V:(i+1)*V], c.K, L)
	}
	for o := 0; o < c.Cout; o++ {
		g := gdst[o*V : (o+1)*V]
		gB[o] += kernels.Sum(g)
		for i := 0; i < c.Cin; i++ {
			kernels.ConvWeightGradShifted(gW[(o*c.Cin+i)*KK:(o*c.Cin+i+1)*KK], g, ws[i*S:(i+1)*S], c.K, L)
		}
	}
}
