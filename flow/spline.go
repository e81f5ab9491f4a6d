package flow

import (
	"fmt"
	"math"

	"latflow/internal/vmath"
	"latflow/lattice"
	"latflow/nn"
)

// Monotone rational-quadratic spline (Durkan, Bekasov, Murray, Papamakarios,
// "Neural Spline Flows", arXiv 1906.04032), written from the paper's
// formulas. On [-B, B] the map has K bins with widths w_j and heights h_j
// (knots x_0 = -B < x_1 < ... < x_K = B and y_0 = -B < ... < y_K = B) and
// positive derivatives d_0, ..., d_K at the knots, d_0 = d_K = 1; outside
// [-B, B] it is the identity, so map and derivative are continuous at
// +-B. In bin k, with xi = (x - x_k)/w_k in [0, 1), s = h_k/w_k and
// a = xi (1 - xi),
//
//	y     = y_k + h_k (s xi^2 + d_k a) / (s + (d_k + d_{k+1} - 2s) a),
//	dy/dx = s^2 (d_{k+1} xi^2 + 2 s a + d_k (1 - xi)^2) / (s + (d_k + d_{k+1} - 2s) a)^2.
//
// The 3K-1 unconstrained parameters theta of one site are, in order, the K
// width logits, the K height logits and the K-1 interior derivative
// pre-activations: w_j = 2B (m + (1 - K m) softmax(theta_w)_j) with
// m = splineMinBin, the same for h, and d_j = m_d + (1 - m_d)
// softplus(theta_d + log(e - 1)) with m_d = splineMinDeriv, so that
// theta = 0 is the identity map (equal bins, all derivatives 1).
const (
	// splineMinBin is the smallest bin width and height as a fraction of
	// the interval 2B.
	splineMinBin = 1e-3
	// splineMinDeriv is the smallest derivative at an interior knot.
	splineMinDeriv = 1e-3
)

// splineShift is log(e - 1): softplus(splineShift) = 1.
var splineShift = math.Log(math.E - 1)

// rqs is the spline of one site with its scratch: load reads it from the
// output of splinePrepare, site evaluates the map and its vector-Jacobian
// products, inverse inverts it.
// All arithmetic is float64.
type rqs struct {
	k int
	b float64
	// pw, ph are the softmax probabilities of the width and height logits,
	// w, h the bin widths and heights, xk, yk the K+1 knots, d the K+1
	// knot derivatives, sig the sigmoid of the interior derivative
	// pre-activations (d softplus).
	pw, ph, w, h, xk, yk, d, sig []float64
	// gw, gh, gd are the cotangents of w, h, d; gtheta that of theta.
	gw, gh, gd, gtheta []float64
}

func newRQS(k int, b float64) *rqs {
	buf := make([]float64, 14*k+4)
	take := func(n int) []float64 {
		s := buf[:n:n]
		buf = buf[n:]
		return s
	}
	r := &rqs{k: k, b: b}
	r.pw, r.ph, r.w, r.h = take(k), take(k), take(k), take(k)
	r.xk, r.yk, r.d, r.sig = take(k+1), take(k+1), take(k+1), take(k+1)
	r.gw, r.gh, r.gd, r.gtheta = take(k), take(k), take(k+1), take(3*k-1)
	return r
}

// splinePrepare writes the transcendental part of the splines of all v
// sites of the conditioner output out (channel c at out[c*v + n]) into pre
// (3K-1 channels of v values, the same layout) and sig (K-1 channels):
// the softmax probabilities of the width and height logits, the interior
// derivatives d_j and the sigmoids d softplus of their pre-activations.
// The exponentials are one vectorized call over all channels; scr is
// scratch of v values.
func splinePrepare[T nn.Float](pre, sig, scr []float64, out []T, v, k int) {
	nc := 3*k - 1
	pre, out, scr = pre[:nc*v], out[:nc*v], scr[:v]
	// Logits minus their maximum per site (for widths and heights), and
	// -|t| for the derivative pre-activations t.
	for g := 0; g < 2; g++ {
		off := g * k * v
		for n := range scr {
			scr[n] = float64(out[off+n])
		}
		for j := 1; j < k; j++ {
			for n, o := range out[off+j*v : off+(j+1)*v] {
				if float64(o) > scr[n] {
					scr[n] = float64(o)
				}
			}
		}
		for j := 0; j < k; j++ {
			p := pre[off+j*v : off+(j+1)*v]
			for n, o := range out[off+j*v : off+(j+1)*v] {
				p[n] = float64(o) - scr[n]
			}
		}
	}
	for i := 2 * k * v; i < nc*v; i++ {
		pre[i] = -math.Abs(float64(out[i]) + splineShift)
	}
	vmath.Exp(pre, pre)
	for g := 0; g < 2; g++ {
		off := g * k * v
		copy(scr, pre[off:off+v])
		for j := 1; j < k; j++ {
			for n, e := range pre[off+j*v : off+(j+1)*v] {
				scr[n] += e
			}
		}
		for n := range scr {
			scr[n] = 1 / scr[n]
		}
		for j := 0; j < k; j++ {
			p := pre[off+j*v : off+(j+1)*v]
			for n := range p {
				p[n] *= scr[n]
			}
		}
	}
	// softplus(t) = max(t, 0) + log(1 + e), e = exp(-|t|); the sigmoid is
	// 1/(1 + e) for t >= 0 and e/(1 + e) below.
	d := pre[2*k*v : nc*v]
	sig = sig[:len(d)]
	for i, e := range d {
		t := float64(out[2*k*v+i]) + splineShift
		if t >= 0 {
			sig[i] = 1 / (1 + e)
		} else {
			sig[i] = e / (1 + e)
		}
		d[i] = 1 + e
	}
	vmath.Log(d, d)
	for i := range d {
		t := float64(out[2*k*v+i]) + splineShift
		d[i] = splineMinDeriv + (1-splineMinDeriv)*(math.Max(t, 0)+d[i])
	}
}

// load reads the spline of site n from pre and sig (splinePrepare) into r:
// bin widths and heights, knots, derivatives.
func (r *rqs) load(pre, sig []float64, v, n int) {
	k := r.k
	scale := 2 * r.b * (1 - float64(k)*splineMinBin)
	r.xk[0], r.yk[0] = -r.b, -r.b
	for j := 0; j < k; j++ {
		pw, ph := pre[j*v+n], pre[(k+j)*v+n]
		r.pw[j], r.ph[j] = pw, ph
		r.w[j] = 2*r.b*splineMinBin + scale*pw
		r.h[j] = 2*r.b*splineMinBin + scale*ph
		r.xk[j+1] = r.xk[j] + r.w[j]
		r.yk[j+1] = r.yk[j] + r.h[j]
	}
	r.xk[k], r.yk[k] = r.b, r.b
	r.d[0], r.d[k] = 1, 1
	for j := 1; j < k; j++ {
		r.d[j] = pre[(2*k+j-1)*v+n]
		r.sig[j] = sig[(j-1)*v+n]
	}
}

// bin returns the bin k of z among the knots (k = -1 outside [-B, B)).
func (r *rqs) bin(z float64, knots []float64) int {
	if !(z >= -r.b && z < r.b) {
		return -1
	}
	for j := 1; j < r.k; j++ {
		if z < knots[j] {
			return j - 1
		}
	}
	return r.k - 1
}

// site returns y, dy/dx and dl = d log(dy/dx)/dx at x. With grad it also
// returns gx = d/dx (cy y + cl log(dy/dx)) and writes
// r.gtheta = d/dtheta (cy y + cl log(dy/dx)).
func (r *rqs) site(x, cy, cl float64, grad bool) (y, dy, dl, gx float64) {
	k := r.bin(x, r.xk)
	if k < 0 {
		if grad {
			clear(r.gtheta)
		}
		return x, 1, 0, cy
	}
	w, h, d0, d1 := r.w[k], r.h[k], r.d[k], r.d[k+1]
	xi := (x - r.xk[k]) / w
	s := h / w
	a := xi * (1 - xi)
	D := d0 + d1 - 2*s
	den := s + D*a
	R := h * (s*xi*xi + d0*a) / den
	n2 := d1*xi*xi + 2*s*a + d0*(1-xi)*(1-xi)
	y = r.yk[k] + R
	dy = s * s * n2 / (den * den)
	denXi := D * (1 - 2*xi)
	n2Xi := 2*d1*xi + 2*s*(1-2*xi) - 2*d0*(1-xi)
	lXi := n2Xi/n2 - 2*denXi/den
	dl = lXi / w
	if !grad {
		return y, dy, dl, 0
	}
	rXi := (h*(2*s*xi+d0*(1-2*xi)) - R*denXi) / den
	rS := (h*xi*xi - R*(1-2*a)) / den
	lS := 2/s + 2*a/n2 - 2*(1-2*a)/den
	gXi := cy*rXi + cl*lXi
	gS := cy*rS + cl*lS
	gx = gXi / w
	// Knots x_k, y_k are the sums of the widths and heights below bin k.
	gxk := -gXi / w
	for j := 0; j < k; j++ {
		r.gw[j], r.gh[j] = gxk, cy
	}
	r.gw[k] = -(gXi*xi + gS*s) / w
	r.gh[k] = cy*R/h + gS/w
	for j := k + 1; j < r.k; j++ {
		r.gw[j], r.gh[j] = 0, 0
	}
	clear(r.gd)
	r.gd[k] = cy*(h*a-R*a)/den + cl*((1-xi)*(1-xi)/n2-2*a/den)
	r.gd[k+1] = -cy*R*a/den + cl*(xi*xi/n2-2*a/den)
	// Through size_j = 2B (m + (1 - K m) p_j) and the softmax.
	scale := 2 * r.b * (1 - float64(r.k)*splineMinBin)
	var dotW, dotH float64
	for j := 0; j < r.k; j++ {
		dotW += r.pw[j] * r.gw[j]
		dotH += r.ph[j] * r.gh[j]
	}
	for j := 0; j < r.k; j++ {
		r.gtheta[j] = scale * r.pw[j] * (r.gw[j] - dotW)
		r.gtheta[r.k+j] = scale * r.ph[j] * (r.gh[j] - dotH)
	}
	for j := 1; j < r.k; j++ {
		r.gtheta[2*r.k+j-1] = r.gd[j] * (1 - splineMinDeriv) * r.sig[j]
	}
	return y, dy, dl, gx
}

// inverse returns x with y(x) = y: the root in [0, 1] of the quadratic
// a xi^2 + b xi + c = 0 of the paper, in the cancellation-free form
// xi = 2c / (-b - sqrt(b^2 - 4ac)).
func (r *rqs) inverse(y float64) float64 {
	k := r.bin(y, r.yk)
	if k < 0 {
		return y
	}
	w, h, d0, d1 := r.w[k], r.h[k], r.d[k], r.d[k+1]
	s := h / w
	D := d0 + d1 - 2*s
	dy := y - r.yk[k]
	qa := h*(s-d0) + dy*D
	qb := h*d0 - dy*D
	qc := -s * dy
	xi := 2 * qc / (-qb - math.Sqrt(math.Max(qb*qb-4*qa*qc, 0)))
	xi = math.Min(math.Max(xi, 0), 1)
	return r.xk[k] + xi*w
}

// SplineCoupling is the rational-quadratic spline coupling layer of the
// phi^4 flow: the checkerboard masks and conditioner of RealNVPCoupling
// (a CNN reading the frozen field, 1 input channel), with 3K-1 output
// channels (identity final activation) giving the spline of each active
// site (see rqs above). On active sites y = RQS(x), frozen sites are
// copied, and log|det dy/dx| = sum over active sites of log RQS'(x).
type SplineCoupling[T nn.Float] struct {
	parity int
	net    *nn.Net[T]
	v      int
	bins   int
	bound  float64
	active []bool
}

var _ InverseLayer[float64] = (*SplineCoupling[float64])(nil)

// NewSplineCoupling returns the spline coupling on geometry g with active
// sites of the given parity, K = bins bins on [-bound, bound], and a
// conditioner with the given hidden channels and odd kernel. Its
// parameters are zero, which is the identity map.
func NewSplineCoupling[T nn.Float](g *lattice.Geometry, parity int, hidden []int, kernel, bins int, bound float64) *SplineCoupling[T] {
	if bins < 2 || !(bound > 0) {
		panic(fmt.Sprintf("flow: NewSplineCoupling: bins=%d, bound=%g, want bins >= 2 and bound > 0", bins, bound))
	}
	channels := append(append([]int{1}, hidden...), 3*bins-1)
	return &SplineCoupling[T]{
		parity: parity,
		net:    nn.NewNet[T](g.L, channels, kernel, nn.LeakyReLU, nn.Identity),
		v:      g.V,
		bins:   bins,
		bound:  bound,
		active: lattice.Checkerboard(g, parity),
	}
}

// Parity returns the parity of the active sites.
func (c *SplineCoupling[T]) Parity() int { return c.parity }

// Net returns the conditioner: channels [1, hidden..., 3K-1], LeakyReLU
// hidden activations, identity output.
func (c *SplineCoupling[T]) Net() *nn.Net[T] { return c.net }

// Size returns V, the number of sites.
func (c *SplineCoupling[T]) Size() int { return c.v }

// Params returns the conditioner's parameters.
func (c *SplineCoupling[T]) Params() []T { return c.net.Params() }

// splineTape is the per-sample state of a SplineCoupling.
type splineTape[T nn.Float] struct {
	net *nn.Tape[T]
	// in is the net input, out the net output (theta), gout its cotangent,
	// gin the cotangent of in; x the input of the last Forward or the
	// output of the last InverseForward.
	in, out, gout, gin, x []T
	// pre and sig are splinePrepare of out, scr its scratch.
	pre, sig, scr []float64
	r             *rqs
	done          bool
}

// NewTape returns a tape for c.
func (c *SplineCoupling[T]) NewTape() Tape {
	v, nc := c.v, 3*c.bins-1
	return &splineTape[T]{
		net:  c.net.NewTape(),
		in:   make([]T, v),
		out:  make([]T, nc*v),
		gout: make([]T, nc*v),
		gin:  make([]T, v),
		x:    make([]T, v),
		pre:  make([]float64, nc*v),
		sig:  make([]float64, (c.bins-1)*v),
		scr:  make([]float64, v),
		r:    newRQS(c.bins, c.bound),
	}
}

func (c *SplineCoupling[T]) tape(op string, t Tape) *splineTape[T] {
	tp, ok := t.(*splineTape[T])
	if !ok || tp == nil {
		panic(fmt.Sprintf("flow: SplineCoupling.%s: tape %T not made by this layer type", op, t))
	}
	if len(tp.x) != c.v || tp.r.k != c.bins {
		panic(fmt.Sprintf("flow: SplineCoupling.%s: tape for %d sites and %d bins, layer has %d and %d", op, len(tp.x), tp.r.k, c.v, c.bins))
	}
	return tp
}

func (c *SplineCoupling[T]) checkLen(op, name string, a []T) {
	if len(a) != c.v {
		panic(fmt.Sprintf("flow: SplineCoupling.%s: len(%s)=%d, want V=%d", op, name, len(a), c.v))
	}
}

// condition runs the conditioner on the frozen sites of x into tp.out
// and prepares the splines (tp.pre, tp.sig).
func (c *SplineCoupling[T]) condition(tp *splineTape[T], x []T) {
	for n, act := range c.active {
		if act {
			tp.in[n] = 0
		} else {
			tp.in[n] = x[n]
		}
	}
	c.net.Forward(tp.net, tp.out, tp.in)
	splinePrepare(tp.pre, tp.sig, tp.scr, tp.out, c.v, c.bins)
}

// putGrad writes r.gtheta into the cotangent gout of site n.
func (c *SplineCoupling[T]) putGrad(tp *splineTape[T], n int) {
	for j, g := range tp.r.gtheta {
		tp.gout[j*c.v+n] = T(g)
	}
}

// clearFrozen zeroes gout at the frozen sites.
func (c *SplineCoupling[T]) clearFrozen(tp *splineTape[T]) {
	nc := 3*c.bins - 1
	for n, act := range c.active {
		if !act {
			for j := 0; j < nc; j++ {
				tp.gout[j*c.v+n] = 0
			}
		}
	}
}

// Forward maps x to y and returns log|det dy/dx| = sum_active log RQS'(x).
// With s not nil it applies the fast-path step s' = J^-T (s - d/dx
// log|det J|): on active sites s'^t = (s^t - d/dx^t log RQS') / RQS', and
// on frozen sites s'^c = s^c minus one VJP through the conditioner with
// cotangent d/dtheta (s'^t y^t + log RQS') per active site.
func (c *SplineCoupling[T]) Forward(t Tape, y, x, s []T) float64 {
	tp := c.tape("Forward", t)
	c.checkLen("Forward", "y", y)
	c.checkLen("Forward", "x", x)
	if s != nil {
		c.checkLen("Forward", "s", s)
	}
	c.condition(tp, x)
	copy(tp.x, x)
	r := tp.r
	var ld float64
	for n, act := range c.active {
		if !act {
			y[n] = x[n]
			continue
		}
		r.load(tp.pre, tp.sig, c.v, n)
		yv, dy, dl, _ := r.site(float64(x[n]), 0, 0, false)
		y[n] = T(yv)
		ld += math.Log(dy)
		if s == nil {
			continue
		}
		st := (float64(s[n]) - dl) / dy
		s[n] = T(st)
		r.site(float64(x[n]), st, 1, true)
		c.putGrad(tp, n)
	}
	tp.done = true
	if s == nil {
		return ld
	}
	c.clearFrozen(tp)
	c.net.Backward(tp.net, tp.gin, nil, tp.gout)
	for n, act := range c.active {
		if !act {
			s[n] -= tp.gin[n]
		}
	}
	return ld
}

// Inverse maps y to x (the closed-form root of each bin's quadratic) and
// returns the forward log|det dy/dx| at x. It never fails.
func (c *SplineCoupling[T]) Inverse(t Tape, x, y []T) (float64, error) {
	tp := c.tape("Inverse", t)
	c.checkLen("Inverse", "x", x)
	c.checkLen("Inverse", "y", y)
	ld := c.invert(tp, x, y, false)
	tp.done = false
	return ld, nil
}

// invert maps y to x, recording x on the tape if record, and returns the
// forward log-determinant at x.
func (c *SplineCoupling[T]) invert(tp *splineTape[T], x, y []T, record bool) float64 {
	// The frozen sites of y and x agree, so the conditioner sees the same input.
	c.condition(tp, y)
	r := tp.r
	var ld float64
	for n, act := range c.active {
		if !act {
			x[n] = y[n]
			if record {
				tp.x[n] = y[n]
			}
			continue
		}
		r.load(tp.pre, tp.sig, c.v, n)
		xn := T(r.inverse(float64(y[n])))
		x[n] = xn
		if record {
			tp.x[n] = xn
		}
		_, dy, _, _ := r.site(float64(xn), 0, 0, false)
		ld += math.Log(dy)
	}
	return ld
}

// Backward writes gx = (dy/dx)^T gy + gld d(log|det|)/dx and adds the
// parameter gradient to grad, for the sample of the last Forward on t.
func (c *SplineCoupling[T]) Backward(t Tape, gx, gy []T, gld float64, grad []T) {
	tp := c.tape("Backward", t)
	if !tp.done {
		panic("flow: SplineCoupling.Backward: tape holds no forward pass")
	}
	c.checkLen("Backward", "gy", gy)
	if gx != nil {
		c.checkLen("Backward", "gx", gx)
	}
	if grad != nil && len(grad) != c.net.NumParams() {
		panic(fmt.Sprintf("flow: SplineCoupling.Backward: len(grad)=%d, want %d", len(grad), c.net.NumParams()))
	}
	r := tp.r
	for n, act := range c.active {
		if !act {
			continue
		}
		r.load(tp.pre, tp.sig, c.v, n)
		_, _, _, g := r.site(float64(tp.x[n]), float64(gy[n]), gld, true)
		c.putGrad(tp, n)
		if gx != nil {
			gx[n] = T(g)
		}
	}
	c.clearFrozen(tp)
	var gin []T
	if gx != nil {
		gin = tp.gin
	}
	c.net.Backward(tp.net, gin, grad, tp.gout)
	if gx == nil {
		return
	}
	for n, act := range c.active {
		if !act {
			gx[n] = gy[n] + tp.gin[n]
		}
	}
}

// InverseForward maps y to x as Inverse does and records the pass on t;
// the tape then holds the same state as after Forward(x). With s not nil
// it applies the pullback step s <- J^T s + d/dx log|det J|: on active
// sites s^t RQS' + d/dx^t log RQS', on frozen sites s^c plus one VJP
// through the conditioner with cotangent d/dtheta (s^t y^t + log RQS')
// (the Backward of y with gy = s and gld = 1).
func (c *SplineCoupling[T]) InverseForward(t Tape, x, y, s []T) (float64, error) {
	tp := c.tape("InverseForward", t)
	c.checkLen("InverseForward", "x", x)
	c.checkLen("InverseForward", "y", y)
	if s != nil {
		c.checkLen("InverseForward", "s", s)
	}
	ld := c.invert(tp, x, y, true)
	tp.done = true
	if s == nil {
		return ld, nil
	}
	r := tp.r
	for n, act := range c.active {
		if !act {
			continue
		}
		r.load(tp.pre, tp.sig, c.v, n)
		sy := float64(s[n])
		_, dy, dl, _ := r.site(float64(tp.x[n]), sy, 1, true)
		c.putGrad(tp, n)
		s[n] = T(sy*dy + dl)
	}
	c.clearFrozen(tp)
	c.net.Backward(tp.net, tp.gin, nil, tp.gout)
	for n, act := range c.active {
		if !act {
			s[n] += tp.gin[n]
		}
	}
	return ld, nil
}

// InverseBackward writes gy = dL/dy and adds dL/dtheta to grad through the
// inverse map x^t = RQS^-1(y^t; theta(y^c)), x^c = y^c, and the
// log-determinant sum_active log RQS'(x^t). With g = gx^t + gld d/dx^t
// log RQS': gy^t = g / RQS', and through x^t(theta) the conditioner's
// cotangent is d/dtheta (-(g / RQS') y + gld log RQS') at x (implicit
// differentiation of y(x, theta) = y^t), whose VJP gives gy^c - gx^c and
// the parameter gradient.
func (c *SplineCoupling[T]) InverseBackward(t Tape, gy, gx []T, gld float64, grad []T) {
	tp := c.tape("InverseBackward", t)
	if !tp.done {
		panic("flow: SplineCoupling.InverseBackward: tape holds no pass")
	}
	c.checkLen("InverseBackward", "gx", gx)
	if gy != nil {
		c.checkLen("InverseBackward", "gy", gy)
	}
	if grad != nil && len(grad) != c.net.NumParams() {
		panic(fmt.Sprintf("flow: SplineCoupling.InverseBackward: len(grad)=%d, want %d", len(grad), c.net.NumParams()))
	}
	if gy == nil && grad == nil {
		return
	}
	r := tp.r
	for n, act := range c.active {
		if !act {
			continue
		}
		r.load(tp.pre, tp.sig, c.v, n)
		xn := float64(tp.x[n])
		_, dy, dl, _ := r.site(xn, 0, 0, false)
		g := (float64(gx[n]) + gld*dl) / dy
		r.site(xn, -g, gld, true)
		c.putGrad(tp, n)
		if gy != nil {
			gy[n] = T(g)
		}
	}
	c.clearFrozen(tp)
	var gin []T
	if gy != nil {
		gin = tp.gin
	}
	c.net.Backward(tp.net, gin, grad, tp.gout)
	if gy == nil {
		return
	}
	for n, act := range c.active {
		if !act {
			gy[n] = gx[n] + tp.gin[n]
		}
	}
}
