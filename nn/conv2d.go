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
// kernel entry is one contiguous axpy over the plane. Used by Net without
// the row kernels (see forwardRows); the shapes are checked by Net.
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

// rowPlan holds the rows of one layer on an L x L lattice for the row
// kernels (kernels.RowCombine4To and kernels.RowDots4), which do a whole
// layer four output channels at a time from the shifted-row copies of its
// planes, reading the weights in place.
type rowPlan struct {
	// fwd has, for p = (i*K+k0)*K+k1, the offset of the term of input
	// plane i and kernel entry (k0, k1) in the copies of the input planes
	// (the rows of Forward and of the weight gradient, in the order of W)
	// and the coefficient offset p: W[o*P+p] is w[p + fwdCoff[t][r]] for
	// output o = 4t+r.
	fwd *kernels.RowTable
	// bwd has, for p = (o*K+k0)*K+k1, the offset of the term of
	// W[o][.][k0][k1] of the input VJP (the kernel rotated by 180 degrees)
	// in the copies of the output cotangent planes, and the coefficient
	// offset (o*Cin)*K*K + k0*K + k1: W[o][i][k0][k1] is
	// w[coef + bwdCoff[t][r]] for input i = 4t+r.
	bwd *kernels.RowTable
	// gradFromInput selects the form of the weight gradient with the
	// fewer row tiles: from copies of the input planes against four output
	// cotangents at a time (rows fwd), or from the copies of the output
	// cotangent, which the input VJP needs anyway, against four input
	// planes at a time (rows bwd). It depends only on the shape, so the
	// gradient is the same whether or not the input VJP is wanted.
	gradFromInput bool
	// fwdCoff[t][r] is the offset in W of output channel 4t+r's weights,
	// bwdCoff[t][r] that of input channel 4t+r's within each output's.
	// Channels past the last (r >= m) repeat channel 4t; their sums are
	// not stored.
	fwdCoff, bwdCoff [][4]int32
}

// newRowPlan returns the plan of c on an L x L lattice.
func (c *Conv2D[T]) newRowPlan(L int) rowPlan {
	K, S := c.K, kernels.ShiftedLen(c.K, L)
	R := L + K - 1
	KK, P := K*K, c.Cin*K*K
	if int64(max(c.Cin, c.Cout))*int64(S) > 1<<31-1 || int64(c.Cout)*int64(P) > 1<<31-1 {
		panic(fmt.Sprintf("nn: Conv2D: %d planes of %d shifted elements overflow the row offsets", max(c.Cin, c.Cout), S))
	}
	offsets := func(planes int, rotate bool) []int32 {
		rows := make([]int32, planes*KK)
		for j := 0; j < planes; j++ {
			for k0 := 0; k0 < K; k0++ {
				for k1 := 0; k1 < K; k1++ {
					a0, a1 := k0, k1
					if rotate {
						a0, a1 = K-1-k0, K-1-k1
					}
					rows[(j*K+k0)*K+k1] = int32(j*S + (a1*R+a0)*L)
				}
			}
		}
		return rows
	}
	tiles := func(c int) int { return (c + 3) / 4 }
	// coffs returns the per-tile offsets of channels channels, stride
	// apart, channels past the last repeating the tile's first.
	coffs := func(channels, stride int) [][4]int32 {
		co := make([][4]int32, tiles(channels))
		for t := range co {
			for r := range 4 {
				ch := 4*t + r
				if ch >= channels {
					ch = 4 * t
				}
				co[t][r] = int32(ch * stride)
			}
		}
		return co
	}
	fwdCoef := make([]int32, P)
	for p := range fwdCoef {
		fwdCoef[p] = int32(p)
	}
	// Row p = o*KK + q of the input VJP has W[o][i][q] for input i.
	bwdCoef := make([]int32, c.Cout*KK)
	for p := range bwdCoef {
		bwdCoef[p] = int32(p/KK*c.Cin*KK + p%KK)
	}
	return rowPlan{
		fwd:           kernels.NewRowTable(offsets(c.Cin, false), fwdCoef),
		bwd:           kernels.NewRowTable(offsets(c.Cout, true), bwdCoef),
		gradFromInput: tiles(c.Cout)*c.Cin < tiles(c.Cin)*c.Cout,
		fwdCoff:       coffs(c.Cout, P),
		bwdCoff:       coffs(c.Cin, KK),
	}
}

// forwardRows is forwardWS on the row kernels, with the activation epi
// applied to the output.
func (c *Conv2D[T]) forwardRows(dst, src, ws []T, plan *rowPlan, L int, epi kernels.Epilogue) {
	V, S := L*L, kernels.ShiftedLen(c.K, L)
	kernels.ShiftPlanesTo(ws, src, c.K, L, c.Cin)
	for t := range plan.fwdCoff {
		o0 := 4 * t
		m := min(4, c.Cout-o0)
		var bias [4]T
		for r := 0; r < m; r++ {
			bias[r] = c.B[o0+r]
		}
		kernels.RowCombine4To(dst[o0*V:c.Cout*V], V, m, c.W, &plan.fwdCoff[t], ws[:c.Cin*S], plan.fwd, &bias, nil, epi, V)
	}
}

// backwardRows is vjpInputWS (if gsrc is not nil) and vjpParamsWS (if gW
// is not nil) on the row kernels. With epi = kernels.EpiLeakyReLUVJP the
// input VJP also applies the VJP of a LeakyReLU whose output is src, so
// gsrc is the cotangent of that activation's input; otherwise epi is
// kernels.EpiNone. The weight gradient is added where the weights are,
// addressed by the coefficient offsets of the plan.
//
// Unless plan.gradFromInput, the weight gradient is the correlation of the
// shifted cotangent with the input planes, gW[o][i][k0][k1] =
// sum_y g[o][y-k+h] src[i][y]: the rows of the input VJP, so one set of
// shifted copies of gdst serves both.
func (c *Conv2D[T]) backwardRows(gsrc, gW, gB, gdst, src, ws []T, plan *rowPlan, L int, epi kernels.Epilogue) {
	V, S := L*L, kernels.ShiftedLen(c.K, L)
	if gW != nil {
		kernels.AddRowSums(gB, gdst, V)
	}
	if gW != nil && plan.gradFromInput {
		// Four output cotangents at a time against the input rows:
		// W[o][p] for o = 4t+r is at fwdCoff[t][r] + p.
		kernels.ShiftPlanesTo(ws, src, c.K, L, c.Cin)
		for t := range plan.fwdCoff {
			o0 := 4 * t
			kernels.RowDots4(gW, &plan.fwdCoff[t], min(4, c.Cout-o0), gdst[o0*V:c.Cout*V], V, ws[:c.Cin*S], plan.fwd, V)
		}
		gW = nil
	}
	if gW == nil && gsrc == nil {
		return
	}
	kernels.ShiftPlanesTo(ws, gdst, c.K, L, c.Cout)
	ws = ws[:c.Cout*S]
	if gW != nil {
		// Four input planes at a time against the cotangent rows:
		// W[o][i][q] for row p = o*KK+q and i = 4t+r is at bwdCoff[t][r]
		// + coef(p).
		for t := range plan.bwdCoff {
			i0 := 4 * t
			kernels.RowDots4(gW, &plan.bwdCoff[t], min(4, c.Cin-i0), src[i0*V:c.Cin*V], V, ws, plan.bwd, V)
		}
	}
	if gsrc == nil {
		return
	}
	var zero [4]T
	for t := range plan.bwdCoff {
		i0 := 4 * t
		m := min(4, c.Cin-i0)
		var y []T
		if epi == kernels.EpiLeakyReLUVJP {
			y = src[i0*V : c.Cin*V]
		}
		kernels.RowCombine4To(gsrc[i0*V:c.Cin*V], V, m, c.W, &plan.bwdCoff[t], ws, plan.bwd, &zero, y, epi, V)
	}
}
