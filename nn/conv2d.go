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

// rowPlan holds the row offsets of one layer on an L x L lattice for the
// row kernels (kernels.RowCombine4To and kernels.RowDots4), which do a
// whole layer four output channels at a time from the shifted-row copies
// of its planes.
type rowPlan struct {
	// fwd[(i*K+k0)*K+k1] is the offset of the term of input plane i and
	// kernel entry (k0, k1) in the copies of the input planes: the rows of
	// Forward and of the weight gradient, in the order of W.
	fwd []int32
	// bwd[(o*K+k0)*K+k1] is the offset of the term of W[o][.][k0][k1] of
	// the input VJP (the kernel rotated by 180 degrees) in the copies of
	// the output cotangent planes.
	bwd []int32
	// gradFromInput selects the form of the weight gradient with the
	// fewer row tiles: from copies of the input planes against four output
	// cotangents at a time (rows fwd), or from the copies of the output
	// cotangent, which the input VJP needs anyway, against four input
	// planes at a time (rows bwd). It depends only on the shape, so the
	// gradient is the same whether or not the input VJP is wanted.
	gradFromInput bool
	// fwdCoef[t][4*p+r] is the index in W of the coefficient of row p for
	// output channel 4t+r in Forward, bwdCoef[t][4*p+r] that of row p for
	// input channel 4t+r in the input VJP: the packed coefficients of
	// kernels.RowCombine4To are W gathered by these. Channels past the last
	// (r >= m) repeat channel 4t; their sums are not stored.
	fwdCoef, bwdCoef [][]int32
}

// newRowPlan returns the plan of c on an L x L lattice.
func (c *Conv2D[T]) newRowPlan(L int) rowPlan {
	K, S := c.K, kernels.ShiftedLen(c.K, L)
	R := L + K - 1
	if int64(max(c.Cin, c.Cout))*int64(S) > 1<<31-1 {
		panic(fmt.Sprintf("nn: Conv2D: %d planes of %d shifted elements overflow the row offsets", max(c.Cin, c.Cout), S))
	}
	offsets := func(planes int, rotate bool) []int32 {
		rows := make([]int32, planes*K*K)
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
	// gather returns the coefficient indices of the tiles of outputs
	// channels: index(ch, p) is the index in W of row p's coefficient for
	// channel ch.
	gather := func(channels, np int, index func(ch, p int) int) [][]int32 {
		g := make([][]int32, tiles(channels))
		for t := range g {
			g[t] = make([]int32, 4*np)
			for p := 0; p < np; p++ {
				for r := 0; r < 4; r++ {
					ch := 4*t + r
					if ch >= channels {
						ch = 4 * t
					}
					g[t][4*p+r] = int32(index(ch, p))
				}
			}
		}
		return g
	}
	KK, P := K*K, c.Cin*K*K
	return rowPlan{
		fwd:           offsets(c.Cin, false),
		bwd:           offsets(c.Cout, true),
		gradFromInput: tiles(c.Cout)*c.Cin < tiles(c.Cin)*c.Cout,
		fwdCoef:       gather(c.Cout, P, func(o, p int) int { return o*P + p }),
		// Row p = o*KK + q of the input VJP has W[o][i][q] for input i.
		bwdCoef: gather(c.Cin, c.Cout*KK, func(i, p int) int { return (p/KK*c.Cin+i)*KK + p%KK }),
	}
}

// rowCoefLen returns the length of the coefficient buffer of the row
// kernels: four output channels of either direction, or the weight
// gradient in the order (i, o, k0, k1) of backwardRows.
func (c *Conv2D[T]) rowCoefLen() int {
	return max(4*max(c.Cin, c.Cout), c.Cin*c.Cout) * c.K * c.K
}

// forwardRows is forwardWS on the row kernels, with the activation epi
// applied to the output; coef is a buffer of rowCoefLen.
func (c *Conv2D[T]) forwardRows(dst, src, ws, coef []T, plan *rowPlan, L int, epi kernels.Epilogue) {
	V, S := L*L, kernels.ShiftedLen(c.K, L)
	for i := 0; i < c.Cin; i++ {
		kernels.ShiftRowsTo(ws[i*S:(i+1)*S], src[i*V:(i+1)*V], c.K, L)
	}
	for t, idx := range plan.fwdCoef {
		o0 := 4 * t
		m := min(4, c.Cout-o0)
		var bias [4]T
		for r := 0; r < m; r++ {
			bias[r] = c.B[o0+r]
		}
		kernels.GatherTo(coef[:len(idx)], c.W, idx)
		kernels.RowCombine4To(dst[o0*V:c.Cout*V], V, m, coef, ws[:c.Cin*S], plan.fwd, &bias, nil, epi, V)
	}
}

// backwardRows is vjpInputWS (if gsrc is not nil) and vjpParamsWS (if gW
// is not nil) on the row kernels. With epi = kernels.EpiLeakyReLUVJP the
// input VJP also applies the VJP of a LeakyReLU whose output is src, so
// gsrc is the cotangent of that activation's input; otherwise epi is
// kernels.EpiNone. coef is a buffer of rowCoefLen.
//
// Unless plan.gradFromInput, the weight gradient is the correlation of the
// shifted cotangent with the input planes, gW[o][i][k0][k1] =
// sum_y g[o][y-k+h] src[i][y]: the rows of the input VJP, so one set of
// shifted copies of gdst serves both.
func (c *Conv2D[T]) backwardRows(gsrc, gW, gB, gdst, src, ws, coef []T, plan *rowPlan, L int, epi kernels.Epilogue) {
	V, S, KK := L*L, kernels.ShiftedLen(c.K, L), c.K*c.K
	if gW != nil {
		for o := 0; o < c.Cout; o++ {
			gB[o] += kernels.Sum(gdst[o*V : (o+1)*V])
		}
	}
	if gW != nil && plan.gradFromInput {
		for i := 0; i < c.Cin; i++ {
			kernels.ShiftRowsTo(ws[i*S:(i+1)*S], src[i*V:(i+1)*V], c.K, L)
		}
		Pf := len(plan.fwd)
		for o0 := 0; o0 < c.Cout; o0 += 4 {
			m := min(4, c.Cout-o0)
			kernels.RowDots4(gW[o0*Pf:c.Cout*Pf], Pf, m, gdst[o0*V:c.Cout*V], V, ws[:c.Cin*S], plan.fwd, V)
		}
		gW = nil
	}
	if gW == nil && gsrc == nil {
		return
	}
	P := len(plan.bwd)
	for o := 0; o < c.Cout; o++ {
		kernels.ShiftRowsTo(ws[o*S:(o+1)*S], gdst[o*V:(o+1)*V], c.K, L)
	}
	ws = ws[:c.Cout*S]
	if gW != nil {
		// tmp[i*P + o*KK + q] = gW[(o*Cin+i)*KK + q]: four input planes
		// at a time against all rows.
		tmp := coef[:c.Cin*P]
		clear(tmp)
		for i0 := 0; i0 < c.Cin; i0 += 4 {
			m := min(4, c.Cin-i0)
			kernels.RowDots4(tmp[i0*P:], P, m, src[i0*V:c.Cin*V], V, ws, plan.bwd, V)
		}
		for i := 0; i < c.Cin; i++ {
			for o := 0; o < c.Cout; o++ {
				w := gW[(o*c.Cin+i)*KK : (o*c.Cin+i+1)*KK]
				for q, v := range tmp[i*P+o*KK : i*P+(o+1)*KK] {
					w[q] += v
				}
			}
		}
	}
	if gsrc == nil {
		return
	}
	for t, idx := range plan.bwdCoef {
		i0 := 4 * t
		m := min(4, c.Cin-i0)
		kernels.GatherTo(coef[:len(idx)], c.W, idx)
		var zero [4]T
		var y []T
		if epi == kernels.EpiLeakyReLUVJP {
			y = src[i0*V : c.Cin*V]
		}
		kernels.RowCombine4To(gsrc[i0*V:c.Cin*V], V, m, coef, ws, plan.bwd, &zero, y, epi, V)
	}
}
