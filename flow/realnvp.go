package flow

import (
	"fmt"
	"math"
	"math/rand/v2"
	"unsafe"

	"latflow/internal/vmath"
	"latflow/lattice"
	"latflow/nn"
)

// RealNVPCoupling is the affine coupling layer of the phi^4 RealNVP flow
// (Albergo et al., arXiv 2101.08176). The sites with (x0 + x1) % 2 ==
// Parity are active, the others frozen. A CNN reads the frozen field
// (1 channel, x at frozen sites and 0 at active ones; tanh on its
// 2 output channels) and gives the log-scale s (channel 0) and the shift t
// (channel 1); on active sites y = x exp(s) + t, frozen sites are copied,
// and log|det dy/dx| = sum over active sites of s.
type RealNVPCoupling[T nn.Float] struct {
	parity int
	net    *nn.Net[T]
	v      int
	active []bool
}

var _ InverseLayer[float64] = (*RealNVPCoupling[float64])(nil)

// NewRealNVPCoupling returns the coupling on geometry g with active sites of
// the given parity and a conditioner with the given hidden channels and odd
// kernel. Its parameters are zero (the identity map); fill Params or call
// Net().InitRandom.
func NewRealNVPCoupling[T nn.Float](g *lattice.Geometry, parity int, hidden []int, kernel int) *RealNVPCoupling[T] {
	channels := append(append([]int{1}, hidden...), 2)
	return &RealNVPCoupling[T]{
		parity: parity,
		net:    nn.NewNet[T](g.L, channels, kernel, nn.LeakyReLU, nn.Tanh),
		v:      g.V,
		active: lattice.Checkerboard(g, parity),
	}
}

// NewPhi4Flow returns the RealNVP flow of cfg (theory phi4) with its base
// (NewBase: N(0, 1) per site, or the momentum-space Gaussian GaussKBase):
// cfg.Layers couplings (RealNVPCoupling, or SplineCoupling for
// cfg.Coupling = CouplingSpline), layer i with active parity i%2, parameters
// drawn by nn.Net.InitRandom from rng layer by layer (for cfg.Init =
// InitIdentity with the last convolution of each conditioner zeroed), then
// one BlockCoupling per entry of cfg.Blocks (its coarse coupling
// initialized the same way), for cfg.Spectral > 0 a SpectralScale and
// for cfg.ZeroModeBins > 0 a last ZeroModeSpline, both starting as the
// identity.
func NewPhi4Flow[T nn.Float](cfg Config, rng *rand.Rand) (*Flow[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Theory != TheoryPhi4 {
		return nil, fmt.Errorf("flow: NewPhi4Flow: theory %q, want %q", cfg.Theory, TheoryPhi4)
	}
	g := lattice.NewGeometry(cfg.L)
	layers := make([]Layer[T], cfg.Layers, cfg.Layers+len(cfg.Blocks)+2)
	for i := range layers {
		layers[i] = newPhi4Coupling[T](cfg, g, i%2, rng)
	}
	for i, b := range cfg.Blocks {
		inner := newPhi4Coupling[T](cfg, lattice.NewGeometry(cfg.L/b), i%2, rng)
		layers = append(layers, NewBlockCoupling(g, b, inner))
	}
	if cfg.Spectral > 0 {
		layers = append(layers, NewSpectralScale[T](cfg.L, cfg.Spectral))
	}
	if cfg.ZeroModeBins > 0 {
		layers = append(layers, NewZeroModeSpline[T](g.V, cfg.ZeroModeBins, cfg.ZeroModeBound))
	}
	base, err := NewBase(cfg)
	if err != nil {
		return nil, err
	}
	return NewFlow(cfg, base, g.V, layers), nil
}

// newPhi4Coupling returns the coupling layer of cfg.Coupling on g with
// active parity, its conditioner initialized from rng for cfg.Init.
func newPhi4Coupling[T nn.Float](cfg Config, g *lattice.Geometry, parity int, rng *rand.Rand) InverseLayer[T] {
	if cfg.Coupling == CouplingSpline {
		c := NewSplineCoupling[T](g, parity, cfg.Hidden, cfg.Kernel, cfg.Bins, cfg.SplineBound)
		initConditioner(cfg, c.net, rng)
		return c
	}
	c := NewRealNVPCoupling[T](g, parity, cfg.Hidden, cfg.Kernel)
	initConditioner(cfg, c.net, rng)
	return c
}

// Parity returns the parity of the active sites, (x0 + x1) % 2 == Parity().
func (c *RealNVPCoupling[T]) Parity() int { return c.parity }

// Net returns the conditioner: channels [1, hidden..., 2], LeakyReLU
// hidden activations, tanh on the outputs (s, t).
func (c *RealNVPCoupling[T]) Net() *nn.Net[T] { return c.net }

// Size returns V, the number of sites.
func (c *RealNVPCoupling[T]) Size() int { return c.v }

// Params returns the conditioner's parameters.
func (c *RealNVPCoupling[T]) Params() []T { return c.net.Params() }

// realNVPTape is the per-sample state of a RealNVPCoupling.
type realNVPTape[T nn.Float] struct {
	net *nn.Tape[T]
	// in is the net input (the frozen field), out the net output (s, t),
	// gout and gin cotangents of out and in.
	in, out, gout, gin []T
	// x is the input of the last Forward or the output of the last
	// InverseForward, es = exp(s) at active sites. Both leave the tape in
	// the same state, that of a Forward at x.
	x, es []T
	done  bool
}

// NewTape returns a tape for c.
func (c *RealNVPCoupling[T]) NewTape() Tape {
	v := c.v
	buf := make([]T, 7*v)
	return &realNVPTape[T]{
		net:  c.net.NewTape(),
		in:   buf[0:v:v],
		out:  buf[v : 3*v : 3*v],
		gout: buf[3*v : 5*v : 5*v],
		gin:  buf[5*v : 6*v : 6*v],
		x:    buf[6*v : 7*v : 7*v],
		es:   make([]T, v),
	}
}

func (c *RealNVPCoupling[T]) tape(op string, t Tape) *realNVPTape[T] {
	tp, ok := t.(*realNVPTape[T])
	if !ok || tp == nil {
		panic(fmt.Sprintf("flow: RealNVPCoupling.%s: tape %T not made by this layer type", op, t))
	}
	if len(tp.x) != c.v {
		panic(fmt.Sprintf("flow: RealNVPCoupling.%s: tape for %d sites, layer has %d", op, len(tp.x), c.v))
	}
	return tp
}

func (c *RealNVPCoupling[T]) checkLen(op, name string, a []T) {
	if len(a) != c.v {
		panic(fmt.Sprintf("flow: RealNVPCoupling.%s: len(%s)=%d, want V=%d", op, name, len(a), c.v))
	}
}

// condition runs the conditioner on the frozen sites of x into tp.out.
func (c *RealNVPCoupling[T]) condition(tp *realNVPTape[T], x []T) {
	for n, act := range c.active {
		if act {
			tp.in[n] = 0
		} else {
			tp.in[n] = x[n]
		}
	}
	c.net.Forward(tp.net, tp.out, tp.in)
}

// Forward maps x to y and returns log|det dy/dx| = sum_active s. With s
// not nil it applies the fast-path step (physics.md section 4): on active
// sites s'^t = s^t exp(-s) (log|det| does not depend on x^t), and on frozen
// sites s'^c = s^c - d_{x^c} log|det| - (dy^t/dx^c)^T s'^t, one VJP through
// the conditioner with cotangent 1 + s'^t x^t exp(s) on the s channel and
// s'^t on the t channel at active sites.
func (c *RealNVPCoupling[T]) Forward(t Tape, y, x, s []T) float64 {
	tp := c.tape("Forward", t)
	c.checkLen("Forward", "y", y)
	c.checkLen("Forward", "x", x)
	if s != nil {
		c.checkLen("Forward", "s", s)
	}
	v := c.v
	c.condition(tp, x)
	copy(tp.x, x)
	sc, sh := tp.out[:v], tp.out[v:]
	var ld float64
	expTo(tp.es, sc) // at every site: one vector call, the frozen ones unused
	for n, act := range c.active {
		if !act {
			y[n] = x[n]
			continue
		}
		y[n] = x[n]*tp.es[n] + sh[n]
		ld += float64(sc[n])
	}
	tp.done = true
	if s == nil {
		return ld
	}
	gs, gt := tp.gout[:v], tp.gout[v:]
	for n, act := range c.active {
		if !act {
			gs[n], gt[n] = 0, 0
			continue
		}
		st := s[n] / tp.es[n]
		s[n] = st
		gs[n] = 1 + st*x[n]*tp.es[n]
		gt[n] = st
	}
	c.net.Backward(tp.net, tp.gin, nil, tp.gout)
	for n, act := range c.active {
		if !act {
			s[n] -= tp.gin[n]
		}
	}
	return ld
}

// Inverse maps y to x in closed form, x^t = (y^t - t) exp(-s), and returns
// the forward log|det dy/dx|. It never fails.
func (c *RealNVPCoupling[T]) Inverse(t Tape, x, y []T) (float64, error) {
	tp := c.tape("Inverse", t)
	c.checkLen("Inverse", "x", x)
	c.checkLen("Inverse", "y", y)
	v := c.v
	// The frozen sites of y and x agree, so the conditioner sees the same input.
	c.condition(tp, y)
	sc, sh := tp.out[:v], tp.out[v:]
	ie := tp.gin // exp(-s), scratch until a backward pass
	negExpTo(ie, sc)
	var ld float64
	for n, act := range c.active {
		if !act {
			x[n] = y[n]
			continue
		}
		x[n] = (y[n] - sh[n]) * ie[n]
		ld += float64(sc[n])
	}
	// The tape now holds the conditioner of this inverse, not of a Forward.
	tp.done = false
	return ld, nil
}

// Backward writes gx = (dy/dx)^T gy + gld d(log|det|)/dx and adds the
// parameter gradient to grad, for the sample of the last Forward on t.
func (c *RealNVPCoupling[T]) Backward(t Tape, gx, gy []T, gld float64, grad []T) {
	tp := c.tape("Backward", t)
	if !tp.done {
		panic("flow: RealNVPCoupling.Backward: tape holds no forward pass")
	}
	c.checkLen("Backward", "gy", gy)
	if gx != nil {
		c.checkLen("Backward", "gx", gx)
	}
	if grad != nil && len(grad) != c.net.NumParams() {
		panic(fmt.Sprintf("flow: RealNVPCoupling.Backward: len(grad)=%d, want %d", len(grad), c.net.NumParams()))
	}
	v := c.v
	g := T(gld)
	gs, gt := tp.gout[:v], tp.gout[v:]
	for n, act := range c.active {
		if !act {
			gs[n], gt[n] = 0, 0
			continue
		}
		gs[n] = gy[n]*tp.x[n]*tp.es[n] + g
		gt[n] = gy[n]
	}
	var gin []T
	if gx != nil {
		gin = tp.gin
	}
	c.net.Backward(tp.net, gin, grad, tp.gout)
	if gx == nil {
		return
	}
	for n, act := range c.active {
		if act {
			gx[n] = gy[n] * tp.es[n]
		} else {
			gx[n] = gy[n] + tp.gin[n]
		}
	}
}

// InverseForward maps y to x as Inverse does and records the pass on t;
// the tape then holds the same state as after Forward(x), so Backward and
// InverseBackward may both follow. With s not nil it applies the pullback
// step s <- J^T s + d/dx log|det J| (J = dy/dx at x): on active sites
// s^t exp(s), and on frozen sites s^c plus one VJP through the conditioner
// with cotangent 1 + s^t (y^t - t) on the s channel and s^t on the t
// channel (the Backward of y with gy = s and gld = 1).
func (c *RealNVPCoupling[T]) InverseForward(t Tape, x, y, s []T) (float64, error) {
	tp := c.tape("InverseForward", t)
	c.checkLen("InverseForward", "x", x)
	c.checkLen("InverseForward", "y", y)
	if s != nil {
		c.checkLen("InverseForward", "s", s)
	}
	v := c.v
	// The frozen sites of y and x agree, so the conditioner sees the same
	// input as a Forward at x.
	c.condition(tp, y)
	sc, sh := tp.out[:v], tp.out[v:]
	ie := tp.gin // exp(-s), scratch until the backward pass below
	negExpTo(ie, sc)
	expTo(tp.es, sc)
	var ld float64
	for n, act := range c.active {
		if !act {
			x[n] = y[n]
			tp.x[n] = y[n]
			continue
		}
		// The same arithmetic as Inverse, so that both give the same x.
		xn := (y[n] - sh[n]) * ie[n]
		x[n] = xn
		tp.x[n] = xn
		ld += float64(sc[n])
	}
	tp.done = true
	if s == nil {
		return ld, nil
	}
	gs, gt := tp.gout[:v], tp.gout[v:]
	for n, act := range c.active {
		if !act {
			gs[n], gt[n] = 0, 0
			continue
		}
		sy := s[n]
		gs[n] = 1 + sy*tp.x[n]*tp.es[n]
		gt[n] = sy
		s[n] = sy * tp.es[n]
	}
	c.net.Backward(tp.net, tp.gin, nil, tp.gout)
	for n, act := range c.active {
		if !act {
			s[n] += tp.gin[n]
		}
	}
	return ld, nil
}

// InverseBackward writes gy = dL/dy and adds dL/dtheta to grad through the
// inverse map x^t = (y^t - t) exp(-s), x^c = y^c, and the log-determinant
// sum_active s, both functions of y^c via the conditioner:
// gy^t = gx^t exp(-s), and gy^c = gx^c plus the VJP of the conditioner with
// cotangent gld - gx^t x^t on the s channel and -gx^t exp(-s) on the t
// channel, which also gives the parameter gradient.
func (c *RealNVPCoupling[T]) InverseBackward(t Tape, gy, gx []T, gld float64, grad []T) {
	tp := c.tape("InverseBackward", t)
	if !tp.done {
		panic("flow: RealNVPCoupling.InverseBackward: tape holds no pass")
	}
	c.checkLen("InverseBackward", "gx", gx)
	if gy != nil {
		c.checkLen("InverseBackward", "gy", gy)
	}
	if grad != nil && len(grad) != c.net.NumParams() {
		panic(fmt.Sprintf("flow: RealNVPCoupling.InverseBackward: len(grad)=%d, want %d", len(grad), c.net.NumParams()))
	}
	if gy == nil && grad == nil {
		return
	}
	v := c.v
	g := T(gld)
	gs, gt := tp.gout[:v], tp.gout[v:]
	for n, act := range c.active {
		if !act {
			gs[n], gt[n] = 0, 0
			continue
		}
		gxe := gx[n] / tp.es[n]
		gs[n] = g - gx[n]*tp.x[n]
		gt[n] = -gxe
	}
	var gin []T
	if gy != nil {
		gin = tp.gin
	}
	c.net.Backward(tp.net, gin, grad, tp.gout)
	if gy == nil {
		return
	}
	for n, act := range c.active {
		if act {
			gy[n] = gx[n] / tp.es[n]
		} else {
			gy[n] = gx[n] + tp.gin[n]
		}
	}
}

// expTo sets dst[i] = exp(x[i]) with the vectorized exponential of package
// vmath for float32 and float64 elements (math.Exp for other types).
func expTo[T nn.Float](dst, x []T) {
	x = x[:len(dst)]
	if len(dst) == 0 {
		return
	}
	var zero T
	switch any(zero).(type) {
	case float32:
		vmath.Exp32(unsafe.Slice((*float32)(unsafe.Pointer(&dst[0])), len(dst)), unsafe.Slice((*float32)(unsafe.Pointer(&x[0])), len(x)))
	case float64:
		vmath.Exp(unsafe.Slice((*float64)(unsafe.Pointer(&dst[0])), len(dst)), unsafe.Slice((*float64)(unsafe.Pointer(&x[0])), len(x)))
	default:
		for i, v := range x {
			dst[i] = T(math.Exp(float64(v)))
		}
	}
}

// negExpTo sets dst[i] = exp(-x[i]) as expTo does; dst may be x.
func negExpTo[T nn.Float](dst, x []T) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = -v
	}
	expTo(dst, dst)
}
