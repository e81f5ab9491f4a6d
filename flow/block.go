package flow

import (
	"fmt"

	"latflow/lattice"
	"latflow/nn"
)

// BlockCoupling is a coupling layer on a coarser lattice: it moves the
// averages of the b x b blocks of a phi^4 field and nothing else. With P
// the block average (V/b^2 coarse sites, c = P x) and U the copy of a
// coarse field to the b^2 sites of each block (P U = I, U^T U = b^2 I),
//
//	y = x + U (g(P x) - P x),
//
// where g is a coupling layer of the coarse lattice (RealNVPCoupling or
// SplineCoupling, checkerboard masks of the coarse sites). The block
// averages of y are g(c); the fluctuations of x within each block are
// kept. The Jacobian is J = I + U (J_g - I) P, so log|det J| =
// log|det J_g|, and
//
//	J^-T s = s + U (J_g^-T U^T s - U^T s) / b^2,
//	J^T s  = s + U (J_g^T U^T s - U^T s) / b^2:
//
// every score and cotangent of the layer is that of g on the block sums
// U^T s, spread back evenly over each block. Zero conditioner output
// parameters are the identity map.
//
// Why: a coupling layer's conditioner sees a few sites; near the critical
// point the field is correlated over the whole lattice. On the coarse
// lattice the same conditioner sees b times farther, at 1/b^2 of the cost.
type BlockCoupling[T nn.Float] struct {
	b     int
	v     int
	block []int // coarse site of each fine site
	inner InverseLayer[T]
}

var _ InverseLayer[float64] = (*BlockCoupling[float64])(nil)

// NewBlockCoupling returns the block coupling of b x b blocks of the L x L
// lattice of g, whose coarse-lattice layer is inner (of (L/b)^2 sites).
func NewBlockCoupling[T nn.Float](g *lattice.Geometry, b int, inner InverseLayer[T]) *BlockCoupling[T] {
	if b < 1 || g.L%b != 0 {
		panic(fmt.Sprintf("flow: NewBlockCoupling: block size %d, want b >= 1 dividing L=%d", b, g.L))
	}
	lc := g.L / b
	if inner.Size() != lc*lc {
		panic(fmt.Sprintf("flow: NewBlockCoupling: inner layer of size %d, want (L/b)^2=%d", inner.Size(), lc*lc))
	}
	c := &BlockCoupling[T]{b: b, v: g.V, block: make([]int, g.V), inner: inner}
	for n := range g.V {
		x0, x1 := g.Coords(n)
		c.block[n] = (x0/b)*lc + x1/b
	}
	return c
}

// BlockSize returns b.
func (c *BlockCoupling[T]) BlockSize() int { return c.b }

// Inner returns the coupling layer of the coarse lattice.
func (c *BlockCoupling[T]) Inner() InverseLayer[T] { return c.inner }

// Size returns V, the number of fine sites.
func (c *BlockCoupling[T]) Size() int { return c.v }

// Params returns the coarse layer's parameters.
func (c *BlockCoupling[T]) Params() []T { return c.inner.Params() }

// blockTape holds the coarse layer's tape and coarse vectors: the input
// and output fields xc, yc, and the block sums of a score or cotangent
// before (sin) and after (sc) the coarse layer.
type blockTape[T nn.Float] struct {
	inner           Tape
	xc, yc, sin, sc []T
}

// NewTape returns a tape for c.
func (c *BlockCoupling[T]) NewTape() Tape {
	nc := c.inner.Size()
	buf := make([]T, 4*nc)
	return &blockTape[T]{inner: c.inner.NewTape(), xc: buf[:nc], yc: buf[nc : 2*nc], sin: buf[2*nc : 3*nc], sc: buf[3*nc:]}
}

func (c *BlockCoupling[T]) tape(op string, t Tape) *blockTape[T] {
	tp, ok := t.(*blockTape[T])
	if !ok || tp == nil || len(tp.xc) != c.inner.Size() {
		panic(fmt.Sprintf("flow: BlockCoupling.%s: tape %T not made by this layer", op, t))
	}
	return tp
}

func (c *BlockCoupling[T]) checkLen(op, name string, a []T) {
	if len(a) != c.v {
		panic(fmt.Sprintf("flow: BlockCoupling.%s: len(%s)=%d, want V=%d", op, name, len(a), c.v))
	}
}

// sumTo writes the block sums U^T a into dst.
func (c *BlockCoupling[T]) sumTo(dst, a []T) {
	clear(dst)
	for n, v := range a {
		dst[c.block[n]] += v
	}
}

// meanTo writes the block averages P a into dst.
func (c *BlockCoupling[T]) meanTo(dst, a []T) {
	c.sumTo(dst, a)
	w := 1 / T(c.b*c.b)
	for i := range dst {
		dst[i] *= w
	}
}

// spreadTo writes dst = src + w U (to - from).
func (c *BlockCoupling[T]) spreadTo(dst, src, to, from []T, w T) {
	for n, v := range src {
		k := c.block[n]
		dst[n] = v + w*(to[k]-from[k])
	}
}

// Forward maps x to y and returns log|det J_g| at P x; with s not nil it
// applies the fast-path step s <- J^-T (s - d/dx log|det J|), which is
// the coarse layer's step on U^T s spread back.
func (c *BlockCoupling[T]) Forward(t Tape, y, x, s []T) float64 {
	tp := c.tape("Forward", t)
	c.checkLen("Forward", "y", y)
	c.checkLen("Forward", "x", x)
	c.meanTo(tp.xc, x)
	var sc []T
	if s != nil {
		c.checkLen("Forward", "s", s)
		c.sumTo(tp.sin, s)
		copy(tp.sc, tp.sin)
		sc = tp.sc
	}
	ld := c.inner.Forward(tp.inner, tp.yc, tp.xc, sc)
	c.spreadTo(y, x, tp.yc, tp.xc, 1)
	if s != nil {
		c.spreadTo(s, s, tp.sc, tp.sin, 1/T(c.b*c.b))
	}
	return ld
}

// Inverse maps y to x: x = y - U (P y - g^-1(P y)), and returns
// log|det J_g| at P x.
func (c *BlockCoupling[T]) Inverse(t Tape, x, y []T) (float64, error) {
	tp := c.tape("Inverse", t)
	c.checkLen("Inverse", "x", x)
	c.checkLen("Inverse", "y", y)
	c.meanTo(tp.yc, y)
	ld, err := c.inner.Inverse(tp.inner, tp.xc, tp.yc)
	c.spreadTo(x, y, tp.xc, tp.yc, 1)
	return ld, err
}

// Backward writes gx = J^T gy + gld d/dx log|det J| (the coarse layer's
// on U^T gy, spread back) and adds the coarse layer's parameter
// cotangent to grad.
func (c *BlockCoupling[T]) Backward(t Tape, gx, gy []T, gld float64, grad []T) {
	tp := c.tape("Backward", t)
	c.checkLen("Backward", "gy", gy)
	c.sumTo(tp.sin, gy)
	var gxc []T
	if gx != nil {
		c.checkLen("Backward", "gx", gx)
		gxc = tp.sc
	}
	c.inner.Backward(tp.inner, gxc, tp.sin, gld, grad)
	if gx != nil {
		c.spreadTo(gx, gy, tp.sc, tp.sin, 1/T(c.b*c.b))
	}
}

// InverseForward maps y to x as Inverse does, recording the pass; with s
// not nil it applies the pullback step s <- J^T s + d/dx log|det J|.
func (c *BlockCoupling[T]) InverseForward(t Tape, x, y, s []T) (float64, error) {
	tp := c.tape("InverseForward", t)
	c.checkLen("InverseForward", "x", x)
	c.checkLen("InverseForward", "y", y)
	c.meanTo(tp.yc, y)
	var sc []T
	if s != nil {
		c.checkLen("InverseForward", "s", s)
		c.sumTo(tp.sin, s)
		copy(tp.sc, tp.sin)
		sc = tp.sc
	}
	ld, err := c.inner.InverseForward(tp.inner, tp.xc, tp.yc, sc)
	c.spreadTo(x, y, tp.xc, tp.yc, 1)
	if s != nil {
		c.spreadTo(s, s, tp.sc, tp.sin, 1/T(c.b*c.b))
	}
	if err != nil {
		return ld, err
	}
	// P x equals g^-1(P y) up to rounding. The tape is left as Forward(x)
	// leaves it, bit for bit, by a coarse forward pass at P x (1/b^2 of
	// the cost of a pass of the fine lattice).
	c.meanTo(tp.xc, x)
	return c.inner.Forward(tp.inner, tp.yc, tp.xc, nil), nil
}

// InverseBackward writes gy = dL/dy through x(y) = y - U (P y - g^-1(P y))
// and log|det J_g| at g^-1(P y): the coarse layer's on U^T gx, spread
// back; it adds the coarse layer's parameter cotangent to grad.
func (c *BlockCoupling[T]) InverseBackward(t Tape, gy, gx []T, gld float64, grad []T) {
	tp := c.tape("InverseBackward", t)
	c.checkLen("InverseBackward", "gx", gx)
	c.sumTo(tp.sin, gx)
	var gyc []T
	if gy != nil {
		c.checkLen("InverseBackward", "gy", gy)
		gyc = tp.sc
	}
	c.inner.InverseBackward(tp.inner, gyc, tp.sin, gld, grad)
	if gy != nil {
		c.spreadTo(gy, gx, tp.sc, tp.sin, 1/T(c.b*c.b))
	}
}
