package fermion

import (
	"fmt"
	"math"
)

// CG solves D^dagger D x = b by conjugate gradient, for the links of Op,
// or, made by NewSchurCG, M^dagger M x = b on the even sites with M the
// even-odd Schur complement (Operator.ApplySchurTo). Both matrices are
// hermitian positive definite whenever D is regular. The iteration stops
// when the residual |b - A x| falls below Tol |b|. A CG holds five vectors
// of workspace and is not safe for concurrent use.
type CG struct {
	Op      *Operator
	Tol     float64
	MaxIter int

	schur              bool
	r, p, ap, tmp, odd []complex128
}

// NewCG returns a solver for op with relative tolerance tol and at most
// maxIter iterations. It panics if op is nil, tol is not in (0, 1) or
// maxIter < 1.
func NewCG(op *Operator, tol float64, maxIter int) *CG {
	if op == nil {
		panic("fermion: NewCG: nil operator")
	}
	if !(tol > 0 && tol < 1) {
		panic(fmt.Sprintf("fermion: NewCG: tol=%g, want 0 < tol < 1", tol))
	}
	if maxIter < 1 {
		panic(fmt.Sprintf("fermion: NewCG: maxIter=%d, want >= 1", maxIter))
	}
	n := op.Size()
	return &CG{Op: op, Tol: tol, MaxIter: maxIter,
		r: make([]complex128, n), p: make([]complex128, n),
		ap: make([]complex128, n), tmp: make([]complex128, n), odd: make([]complex128, n)}
}

// NewSchurCG returns a solver of M^dagger M x = b on the even sites: the
// odd sites of b are ignored and those of x are set to 0. Like NewCG, and
// it panics for odd L.
func NewSchurCG(op *Operator, tol float64, maxIter int) *CG {
	c := NewCG(op, tol, maxIter)
	if op.Geom.L%2 != 0 {
		panic(fmt.Sprintf("fermion: NewSchurCG: L=%d, want L even", op.Geom.L))
	}
	c.schur = true
	return c
}

// Schur reports whether c solves with M^dagger M (NewSchurCG).
func (c *CG) Schur() bool { return c.schur }

// applyNormal sets ap = A p for A = D^dagger D or M^dagger M, leaving
// D p or M p in tmp.
func (c *CG) applyNormal() {
	if c.schur {
		c.Op.ApplySchurTo(c.tmp, c.odd, c.p)
		c.Op.ApplySchurDaggerTo(c.ap, c.odd, c.tmp)
		return
	}
	c.Op.ApplyDDTo(c.ap, c.tmp, c.p)
}

// ApplyDDTo writes D^dagger D psi into dst using tmp (length 2V) as
// workspace; dst, tmp and psi must be distinct.
func (d *Operator) ApplyDDTo(dst, tmp, psi []complex128) {
	d.ApplyTo(tmp, psi)
	d.ApplyDaggerTo(dst, tmp)
}

// SolveTo writes the solution of A x = b into x (A = D^dagger D, or
// M^dagger M for NewSchurCG), starting from x = 0, and returns the number
// of iterations. It returns an error naming
// the residual reached if MaxIter iterations do not converge. x and b must
// be distinct; SolveTo does not allocate.
func (c *CG) SolveTo(x, b []complex128) (int, error) {
	op := c.Op
	op.checkVec("CG.SolveTo", "x", x)
	op.checkVec("CG.SolveTo", "b", b)
	if &x[0] == &b[0] {
		panic("fermion: CG.SolveTo: x and b share memory")
	}
	clear(x)
	copy(c.r, b)
	if c.schur {
		for _, n := range op.odd {
			c.r[2*n], c.r[2*n+1] = 0, 0
		}
	}
	copy(c.p, c.r)
	bb := norm2(c.r)
	if bb == 0 {
		return 0, nil
	}
	stop := c.Tol * c.Tol * bb
	rr := bb
	for it := 1; it <= c.MaxIter; it++ {
		c.applyNormal()
		// p^dagger A p is real for hermitian A: |D p|^2 or |M p|^2.
		pap := norm2(c.tmp)
		alpha := complex(rr/pap, 0)
		for i := range x {
			x[i] += alpha * c.p[i]
			c.r[i] -= alpha * c.ap[i]
		}
		rrNew := norm2(c.r)
		if rrNew <= stop {
			return it, nil
		}
		beta := complex(rrNew/rr, 0)
		for i := range c.p {
			c.p[i] = c.r[i] + beta*c.p[i]
		}
		rr = rrNew
	}
	name := "D^dagger D"
	if c.schur {
		name = "M^dagger M"
	}
	return c.MaxIter, fmt.Errorf("fermion: CG on %s did not converge after %d iterations (relative residual %.2g, want %.2g)",
		name, c.MaxIter, math.Sqrt(rr/bb), c.Tol)
}

// norm2 returns sum_i |v_i|^2.
func norm2(v []complex128) float64 {
	var s float64
	for _, z := range v {
		s += real(z)*real(z) + imag(z)*imag(z)
	}
	return s
}
