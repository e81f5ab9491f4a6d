package flow

import (
	"fmt"
	"math"

	"latflow/nn"
)

// MaxSpectralNodes is the largest Config.Spectral.
const MaxSpectralNodes = 64

// SpectralScale is a linear layer of the phi^4 flow that is diagonal in
// momentum space: with the unitary transform phi_k of GaussKBase,
//
//	y_k = a(k) x_k,  a(k) = exp(theta(k)),  a(0) = 1,
//
// that is y = U^H diag(a) U x, a symmetric circulant map. theta is a
// function of the momentum k = 2pi n/L folded into the fundamental wedge
// pi >= k0 >= k1 >= 0 of the square lattice's symmetry group, bilinear
// between its values at the nodes (pi i/N, pi j/N), 0 <= j <= i <= N: the
// layer's (N+1)(N+2)/2 parameters. So a(k) = a(-k) (y is real), the layer
// keeps the lattice symmetries, and its parameters mean the same at every
// L: a model trained at L applies at 2L, and at an L that is a multiple
// of 2N every lattice momentum sits on a node. The zero mode is left to
// the zero-mode layer.
//
// log|det J| = sum_{k != 0} theta(k), constant in x, so the fast-path
// score is J^-T s = U^H diag(1/a) U s and the pullback J^T s = U^H diag(a)
// U s. Zero parameters are the identity map.
//
// Why: the coupling layers see a few sites, and their errors in the
// two-point function are a pattern over all momenta (the critical L=16
// model's <|phi_k|^2> was off by 1-7% across them); one parameter per
// momentum class corrects that at the cost of four FFTs.
type SpectralScale[T nn.Float] struct {
	l, v, n int
	params  []T
	// node and w: the four nodes of momentum k and their bilinear weights
	// (4 per k, k = n0*L + n1; all zero at k = 0).
	node []int
	w    []float64
}

var _ InverseLayer[float64] = (*SpectralScale[float64])(nil)

// SpectralParams returns the number of parameters of a spectral layer of N
// nodes per pi, (N+1)(N+2)/2.
func SpectralParams(N int) int { return (N + 1) * (N + 2) / 2 }

// NewSpectralScale returns the identity spectral layer of the L x L lattice
// with N nodes per pi (1 <= N <= MaxSpectralNodes).
func NewSpectralScale[T nn.Float](L, N int) *SpectralScale[T] {
	if L < 2 || N < 1 || N > MaxSpectralNodes {
		panic(fmt.Sprintf("flow: NewSpectralScale: L=%d, N=%d, want L >= 2 and 1 <= N <= %d", L, N, MaxSpectralNodes))
	}
	V := L * L
	c := &SpectralScale[T]{l: L, v: V, n: N, params: make([]T, SpectralParams(N)), node: make([]int, 4*V), w: make([]float64, 4*V)}
	fold := func(m int) float64 { // k/pi in [0, 1]
		return 2 * float64(min(m, L-m)) / float64(L)
	}
	for n0 := range L {
		for n1 := range L {
			k := n0*L + n1
			if k == 0 {
				continue
			}
			nodes, ws := spectralStencil(N, fold(n0), fold(n1))
			copy(c.node[4*k:], nodes[:])
			copy(c.w[4*k:], ws[:])
		}
	}
	return c
}

// spectralStencil returns the four nodes (wedge indices) and bilinear
// weights of the momentum pi (k0, k1), 0 <= k0, k1 <= 1, on the grid of N
// nodes per pi; nodes outside the wedge are their mirror images.
func spectralStencil(N int, k0, k1 float64) ([4]int, [4]float64) {
	wedge := func(i, j int) int {
		if j > i {
			i, j = j, i
		}
		return spectralNode(i, j)
	}
	u, t := k0*float64(N), k1*float64(N)
	if t > u {
		u, t = t, u
	}
	i, j := min(int(u), N-1), min(int(t), N-1)
	fu, ft := u-float64(i), t-float64(j)
	return [4]int{wedge(i, j), wedge(i+1, j), wedge(i, j+1), wedge(i+1, j+1)},
		[4]float64{(1 - fu) * (1 - ft), fu * (1 - ft), (1 - fu) * ft, fu * ft}
}

// spectralNode is the parameter index of the node (pi i/N, pi j/N),
// 0 <= j <= i <= N.
func spectralNode(i, j int) int { return i*(i+1)/2 + j }

// Theta returns theta at the momentum pi (k0, k1), 0 <= k0, k1 <= 1.
func (c *SpectralScale[T]) Theta(k0, k1 float64) float64 {
	nodes, ws := spectralStencil(c.n, k0, k1)
	var th float64
	for m, nd := range nodes {
		th += ws[m] * float64(c.params[nd])
	}
	return th
}

// Refine writes into dst (SpectralParams(N) values) the node values of N
// nodes per pi that give the same theta as c, for N a multiple of c's own
// count (a bilinear function sampled at a finer grid's nodes is that
// grid's bilinear interpolation of them).
func (c *SpectralScale[T]) Refine(dst []T, N int) {
	if N%c.n != 0 || len(dst) != SpectralParams(N) {
		panic(fmt.Sprintf("flow: SpectralScale.Refine: N=%d, %d values, want a multiple of %d and %d values", N, len(dst), c.n, SpectralParams(N)))
	}
	for i := 0; i <= N; i++ {
		for j := 0; j <= i; j++ {
			dst[spectralNode(i, j)] = T(c.Theta(float64(i)/float64(N), float64(j)/float64(N)))
		}
	}
}

// Nodes returns N, the number of nodes per pi.
func (c *SpectralScale[T]) Nodes() int { return c.n }

// Size returns V.
func (c *SpectralScale[T]) Size() int { return c.v }

// Params returns the node values of theta.
func (c *SpectralScale[T]) Params() []T { return c.params }

// spectralTape holds the FFT workspace, a(k) and 1/a(k), and the field the last
// Forward (x) or InverseForward (y) saw, for the parameter gradient.
type spectralTape struct {
	ft            *fft2
	c, d          []complex128
	a, ainv, seen []float64
	// theta holds the parameters a and ld were computed from (valid
	// once), so that passes at unchanged parameters skip the V exps.
	theta []float64
	ld    float64
	valid bool
}

// NewTape returns a tape for c.
func (c *SpectralScale[T]) NewTape() Tape {
	return &spectralTape{ft: newFFT2(c.l), c: make([]complex128, c.v), d: make([]complex128, c.v),
		a: make([]float64, c.v), ainv: make([]float64, c.v), seen: make([]float64, c.v), theta: make([]float64, len(c.params))}
}

func (c *SpectralScale[T]) tape(op string, t Tape) *spectralTape {
	tp, ok := t.(*spectralTape)
	if !ok || tp == nil || len(tp.a) != c.v {
		panic(fmt.Sprintf("flow: SpectralScale.%s: tape %T not made by this layer", op, t))
	}
	return tp
}

func (c *SpectralScale[T]) checkLen(op, name string, a []T) {
	if len(a) != c.v {
		panic(fmt.Sprintf("flow: SpectralScale.%s: len(%s)=%d, want V=%d", op, name, len(a), c.v))
	}
}

// scale returns 1/a(k) if inv, else a(k), as set by the last scales.
func (tp *spectralTape) scale(inv bool) []float64 {
	if inv {
		return tp.ainv
	}
	return tp.a
}

// scales writes a(k) into tp.a (1/a(k) into tp.ainv) and returns log|det J| = sum theta(k),
// unless the parameters are those of the tape's last call.
func (c *SpectralScale[T]) scales(tp *spectralTape) float64 {
	same := tp.valid
	for i, p := range c.params {
		if same && tp.theta[i] != float64(p) {
			same = false
		}
		tp.theta[i] = float64(p)
	}
	if same {
		return tp.ld
	}
	var ld float64
	tp.a[0], tp.ainv[0] = 1, 1
	for k := 1; k < c.v; k++ {
		var th float64
		for m := 4 * k; m < 4*k+4; m++ {
			th += c.w[m] * float64(c.params[c.node[m]])
		}
		tp.a[k], tp.ainv[k] = math.Exp(th), math.Exp(-th)
		ld += th
	}
	tp.ld, tp.valid = ld, true
	return ld
}

// Forward maps x to y = U^H diag(a) U x and returns sum theta(k); a score
// s becomes U^H diag(1/a) U s.
func (c *SpectralScale[T]) Forward(t Tape, y, x, s []T) float64 {
	return c.apply("Forward", t, y, x, s, false)
}

// Inverse maps y to x = U^H diag(1/a) U y and returns sum theta(k).
func (c *SpectralScale[T]) Inverse(t Tape, x, y []T) (float64, error) {
	return c.InverseForward(t, x, y, nil)
}

// InverseForward is Inverse that records y for InverseBackward and maps a
// score s of y to the pullback J^T s = U^H diag(a) U s (the
// log-determinant does not depend on x).
func (c *SpectralScale[T]) InverseForward(t Tape, x, y, s []T) (float64, error) {
	return c.apply("InverseForward", t, x, y, s, true), nil
}

// apply is Forward (inv false: in = x, out = y) and InverseForward (inv
// true: in = y, out = x): it records in on the tape, writes out = U^H
// diag(a^(+-1)) U in, maps s by the other power of a, and returns sum
// theta(k).
func (c *SpectralScale[T]) apply(op string, t Tape, out, in, s []T, inv bool) float64 {
	tp := c.tape(op, t)
	c.checkLen(op, "input", in)
	c.checkLen(op, "output", out)
	ld := c.scales(tp)
	for i, v := range in {
		tp.seen[i] = float64(v)
	}
	dftTo(tp.ft, tp.c, in)
	filterBackTo(tp.ft, out, tp.c, tp.scale(inv))
	if s != nil {
		c.checkLen(op, "s", s)
		dftTo(tp.ft, tp.c, s)
		filterBackTo(tp.ft, s, tp.c, tp.scale(!inv))
	}
	return ld
}

// Backward: gx = U^H diag(a) U gy, and dL/dtheta(k) = a(k) Re(conj(gy_k)
// x_k) + gld summed onto the nodes with the bilinear weights.
func (c *SpectralScale[T]) Backward(t Tape, gx, gy []T, gld float64, grad []T) {
	c.backward(c.tape("Backward", t), gx, gy, gld, grad, false)
}

// InverseBackward: x = U^H diag(1/a) U y, so gy = U^H diag(1/a) U gx and
// dL/dtheta(k) = -Re(conj(gx_k) y_k)/a(k) + gld.
func (c *SpectralScale[T]) InverseBackward(t Tape, gy, gx []T, gld float64, grad []T) {
	c.backward(c.tape("InverseBackward", t), gy, gx, gld, grad, true)
}

// backward is Backward (inv false: out = gx, in = gy, seen = x) and
// InverseBackward (inv true: out = gy, in = gx, seen = y).
func (c *SpectralScale[T]) backward(tp *spectralTape, out, in []T, gld float64, grad []T, inv bool) {
	c.checkLen("Backward", "cotangent", in)
	if grad != nil {
		if len(grad) != len(c.params) {
			panic(fmt.Sprintf("flow: SpectralScale.Backward: len(grad)=%d, want %d", len(grad), len(c.params)))
		}
		dftTo(tp.ft, tp.d, tp.seen)
	}
	dftTo(tp.ft, tp.c, in)
	if grad != nil {
		s := 1 / float64(c.v)
		for k := 1; k < c.v; k++ {
			g := tp.c[k]
			d := (real(g)*real(tp.d[k]) + imag(g)*imag(tp.d[k])) * s
			if inv {
				d *= -tp.ainv[k]
			} else {
				d *= tp.a[k]
			}
			d += gld
			for m := 4 * k; m < 4*k+4; m++ {
				grad[c.node[m]] += T(c.w[m] * d)
			}
		}
	}
	if out != nil {
		c.checkLen("Backward", "out", out)
		filterBackTo(tp.ft, out, tp.c, tp.scale(inv))
	}
}
