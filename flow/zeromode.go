package flow

import (
	"fmt"
	"math"

	"latflow/nn"
)

// ZeroModeSpline is a flow layer acting on the zero mode of a phi^4 field,
// the magnetization m = (1/V) sum_n x_n, and on nothing else:
//
//	y_n = x_n + f(m) - m,
//
// with f a monotone rational-quadratic spline (the rqs of SplineCoupling)
// with K bins on [-B, B], the identity outside, whose 3K-1 parameters are
// the layer's own (no conditioner). The mean of y is f(m) and every other
// Fourier mode of x is unchanged. The Jacobian is dy/dx = I + (f'(m) - 1)
// 1 1^T / V, so log|det dy/dx| = log f'(m). Zero parameters are the
// identity map.
//
// Why: at the critical point the distribution of m is double-peaked, a
// global feature that local convolutional couplings model poorly; the
// importance weights of a trained affine flow at L = 16 vary by a factor of
// four with |m|. This layer, last in the flow, reshapes the marginal of m
// directly.
type ZeroModeSpline[T nn.Float] struct {
	v      int
	bins   int
	bound  float64
	params []T
}

var _ InverseLayer[float64] = (*ZeroModeSpline[float64])(nil)

// NewZeroModeSpline returns the zero-mode layer for fields of v sites with
// a spline of bins bins on [-bound, bound]; its parameters are zero, the
// identity map.
func NewZeroModeSpline[T nn.Float](v, bins int, bound float64) *ZeroModeSpline[T] {
	if v < 1 || bins < 2 || !(bound > 0) {
		panic(fmt.Sprintf("flow: NewZeroModeSpline: v=%d, bins=%d, bound=%g, want v >= 1, bins >= 2 and bound > 0", v, bins, bound))
	}
	return &ZeroModeSpline[T]{v: v, bins: bins, bound: bound, params: make([]T, 3*bins-1)}
}

// Size returns V, the number of sites.
func (z *ZeroModeSpline[T]) Size() int { return z.v }

// Params returns the spline's 3K-1 parameters in the order of the rqs:
// K width logits, K height logits, K-1 interior derivative
// pre-activations.
func (z *ZeroModeSpline[T]) Params() []T { return z.params }

// zeroModeTape is the per-sample state of a ZeroModeSpline: the spline
// prepared from the parameters and the mean m of the layer's input (x
// side) of the last pass.
type zeroModeTape struct {
	pre, sig, scr []float64
	r             *rqs
	m             float64
	done          bool
}

// NewTape returns a tape for z.
func (z *ZeroModeSpline[T]) NewTape() Tape {
	nc := 3*z.bins - 1
	return &zeroModeTape{
		pre: make([]float64, nc),
		sig: make([]float64, z.bins-1),
		scr: make([]float64, 1),
		r:   newRQS(z.bins, z.bound),
	}
}

func (z *ZeroModeSpline[T]) tape(op string, t Tape) *zeroModeTape {
	tp, ok := t.(*zeroModeTape)
	if !ok || tp == nil {
		panic(fmt.Sprintf("flow: ZeroModeSpline.%s: tape %T not made by this layer type", op, t))
	}
	if tp.r.k != z.bins || tp.r.b != z.bound {
		panic(fmt.Sprintf("flow: ZeroModeSpline.%s: tape for %d bins on [-%g, %g], layer has %d on [-%g, %g]", op, tp.r.k, tp.r.b, tp.r.b, z.bins, z.bound, z.bound))
	}
	return tp
}

func (z *ZeroModeSpline[T]) checkLen(op, name string, a []T) {
	if len(a) != z.v {
		panic(fmt.Sprintf("flow: ZeroModeSpline.%s: len(%s)=%d, want V=%d", op, name, len(a), z.v))
	}
}

// prepare loads the spline of the current parameters into tp.r.
func (z *ZeroModeSpline[T]) prepare(tp *zeroModeTape) {
	splinePrepare(tp.pre, tp.sig, tp.scr, z.params, 1, z.bins)
	tp.r.load(tp.pre, tp.sig, 1, 0)
}

// sum returns the sum of a in float64.
func sum[T nn.Float](a []T) float64 {
	var s float64
	for _, v := range a {
		s += float64(v)
	}
	return s
}

// mean returns (1/V) sum a in float64.
func mean[T nn.Float](a []T) float64 { return sum(a) / float64(len(a)) }

// shiftTo writes dst_n = src_n + c: every map, score and cotangent of the
// layer moves all sites by one constant.
func shiftTo[T nn.Float](dst, src []T, c float64) {
	for n, v := range src {
		dst[n] = T(float64(v) + c)
	}
}

// Forward maps x to y and returns log f'(m). With s not nil it applies the
// fast-path step s' = J^-T (s - d/dx log|det J|): with u = s - l'/V with l = log f'(m),
// s'_n = u_n - (f' - 1)/(V f') sum u (J is symmetric and
// J^-1 = I - (f' - 1)/(V f') 1 1^T).
func (z *ZeroModeSpline[T]) Forward(t Tape, y, x, s []T) float64 {
	tp := z.tape("Forward", t)
	z.checkLen("Forward", "y", y)
	z.checkLen("Forward", "x", x)
	z.prepare(tp)
	m := mean(x)
	fm, d, dl, _ := tp.r.site(m, 0, 0, false)
	shiftTo(y, x, fm-m)
	tp.m, tp.done = m, true
	if s != nil {
		z.checkLen("Forward", "s", s)
		vf := float64(z.v)
		su := sum(s) - dl // sum u
		shiftTo(s, s, -(dl/vf + (d-1)/(vf*d)*su))
	}
	return math.Log(d)
}

// Inverse maps y to x: m = f^-1(mean y), x_n = y_n - mean y + m, and
// returns log f'(m). It never fails.
func (z *ZeroModeSpline[T]) Inverse(t Tape, x, y []T) (float64, error) {
	tp := z.tape("Inverse", t)
	z.checkLen("Inverse", "x", x)
	z.checkLen("Inverse", "y", y)
	d, _ := z.invert(tp, x, y)
	tp.done = false
	return math.Log(d), nil
}

// invert maps y to x, leaves the mean m of x in tp.m and returns f'(m)
// and d/dm log f'(m).
func (z *ZeroModeSpline[T]) invert(tp *zeroModeTape, x, y []T) (d, dl float64) {
	z.prepare(tp)
	my := mean(y)
	shiftTo(x, y, tp.r.inverse(my)-my)
	// The mean of x as Forward(x) computes it, so that the tape of an
	// inverse pass is that of a forward pass at x, bit for bit.
	tp.m = mean(x)
	_, d, dl, _ = tp.r.site(tp.m, 0, 0, false)
	return d, dl
}

// Backward writes gx = J^T gy + gld d/dx log f'(m),
// gx_n = gy_n + ((f' - 1) sum gy + gld l')/V with l = log f'(m), and adds
// d/dtheta (sum gy f(m) + gld log f'(m)) to grad.
func (z *ZeroModeSpline[T]) Backward(t Tape, gx, gy []T, gld float64, grad []T) {
	tp := z.tape("Backward", t)
	if !tp.done {
		panic("flow: ZeroModeSpline.Backward: tape holds no forward pass")
	}
	z.checkLen("Backward", "gy", gy)
	if grad != nil && len(grad) != len(z.params) {
		panic(fmt.Sprintf("flow: ZeroModeSpline.Backward: len(grad)=%d, want %d", len(grad), len(z.params)))
	}
	// The tape holds the spline its pass prepared.
	G := sum(gy)
	// gm = d/dm (G f(m) + gld log f'(m)).
	_, _, _, gm := tp.r.site(tp.m, G, gld, true)
	if grad != nil {
		for j, g := range tp.r.gtheta {
			grad[j] += T(g)
		}
	}
	if gx == nil {
		return
	}
	z.checkLen("Backward", "gx", gx)
	shiftTo(gx, gy, (gm-G)/float64(z.v))
}

// InverseForward maps y to x as Inverse does and records the pass on t
// (the tape then holds what Forward(x) leaves). With s not nil it applies
// the pullback step s <- J^T s + d/dx log|det J|:
// s_n + ((f' - 1) sum s + l')/V, l = log f'(m).
func (z *ZeroModeSpline[T]) InverseForward(t Tape, x, y, s []T) (float64, error) {
	tp := z.tape("InverseForward", t)
	z.checkLen("InverseForward", "x", x)
	z.checkLen("InverseForward", "y", y)
	d, dl := z.invert(tp, x, y)
	tp.done = true
	if s != nil {
		z.checkLen("InverseForward", "s", s)
		shiftTo(s, s, ((d-1)*sum(s)+dl)/float64(z.v))
	}
	return math.Log(d), nil
}

// InverseBackward writes gy = dL/dy and adds dL/dtheta to grad through the
// inverse map x_n = y_n - mean y + f^-1(mean y; theta) and log f'(x's m).
// With G = sum gx and g = (G + gld l')/f' (l = log f'(m)): gy_n = gx_n + (g - G)/V,
// and the parameter cotangent is d/dtheta (-g f(m) + gld log f'(m)) at
// fixed m (implicit differentiation of f(m; theta) = mean y).
func (z *ZeroModeSpline[T]) InverseBackward(t Tape, gy, gx []T, gld float64, grad []T) {
	tp := z.tape("InverseBackward", t)
	if !tp.done {
		panic("flow: ZeroModeSpline.InverseBackward: tape holds no pass")
	}
	z.checkLen("InverseBackward", "gx", gx)
	if grad != nil && len(grad) != len(z.params) {
		panic(fmt.Sprintf("flow: ZeroModeSpline.InverseBackward: len(grad)=%d, want %d", len(grad), len(z.params)))
	}
	// The tape holds the spline its pass prepared.
	G := sum(gx)
	_, d, dl, _ := tp.r.site(tp.m, 0, 0, false)
	g := (G + gld*dl) / d
	if grad != nil {
		tp.r.site(tp.m, -g, gld, true)
		for j, gt := range tp.r.gtheta {
			grad[j] += T(gt)
		}
	}
	if gy == nil {
		return
	}
	z.checkLen("InverseBackward", "gy", gy)
	shiftTo(gy, gx, (g-G)/float64(z.v))
}
