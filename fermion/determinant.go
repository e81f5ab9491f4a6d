package fermion

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"latflow/lattice"
)

// Method is how Determinant factorizes: the full operator D or its
// even-odd Schur complement M = 1 - kappa^2 H_eo H_oe, each with the
// complex LU of this package or gonum's real LU of the real form
// [[Re A, -Im A], [Im A, Re A]] (whose determinant is |det A|^2).
type Method int

const (
	// EvenOdd factorizes the V x V Schur complement with the complex LU of
	// this package. It needs L even; it is the fastest (package doc).
	EvenOdd Method = iota
	// EvenOddReal factorizes the 2V x 2V real form of the Schur complement
	// with gonum. It needs L even.
	EvenOddReal
	// Full factorizes the 2V x 2V operator D with the complex LU.
	Full
	// FullReal factorizes the 4V x 4V real form of D with gonum.
	FullReal
)

// String returns the method's name.
func (m Method) String() string {
	switch m {
	case EvenOdd:
		return "evenodd"
	case EvenOddReal:
		return "evenodd-real"
	case Full:
		return "full"
	case FullReal:
		return "full-real"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

func (m Method) evenOdd() bool { return m == EvenOdd || m == EvenOddReal }
func (m Method) real() bool    { return m == EvenOddReal || m == FullReal }

// Determinant computes log det(D^dagger D) = log det(D)^2 of the Wilson
// operator by a dense LU factorization, and from the inverse the gradient
// with respect to the links, the chiral condensate and the pion
// correlator. Call Factorize with the links first. A Determinant holds
// O(V^2) workspace and is not safe for concurrent use.
type Determinant struct {
	op     *Operator
	method Method
	// size is the dimension of the factorized matrix A: V (even-odd) or
	// 2V (full).
	size int

	// Even-odd: the sites of each parity in site order, and the rank of a
	// site within its parity.
	even, odd []int
	rank      []int

	a   []complex128 // A, then its complex LU
	piv []int
	inv []complex128 // A^-1

	// Real forms for gonum.
	re, id, rinv *mat.Dense
	lu           mat.LU

	logDetDD           float64
	factored, inverted bool
	// last holds the links of the last successful Factorize.
	last []float64
}

// NewDeterminant returns a Determinant for the Wilson operator on g at
// hopping parameter kappa. It returns an error if L > MaxDenseL, if kappa
// is not finite, or if method is even-odd and L is odd (the lattice is
// then not bipartite).
func NewDeterminant(g *lattice.Geometry, kappa float64, method Method) (*Determinant, error) {
	if g == nil {
		panic("fermion: NewDeterminant: nil geometry")
	}
	var errs []error
	if g.L > MaxDenseL {
		errs = append(errs, fmt.Errorf("fermion: dense determinant at L=%d, want L <= %d", g.L, MaxDenseL))
	}
	if math.IsNaN(kappa) || math.IsInf(kappa, 0) {
		errs = append(errs, fmt.Errorf("fermion: kappa=%g, want a finite value", kappa))
	}
	if method < EvenOdd || method > FullReal {
		errs = append(errs, fmt.Errorf("fermion: unknown determinant method %d", int(method)))
	}
	if method.evenOdd() && g.L%2 != 0 {
		errs = append(errs, fmt.Errorf("fermion: method %v at odd L=%d, want L even (use %v)", method, g.L, Full))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	d := &Determinant{op: NewOperator(g, kappa), method: method, last: make([]float64, 0, 2*g.V)}
	V := g.V
	d.size = Spin * V
	if method.evenOdd() {
		d.size = V
		d.rank = make([]int, V)
		for n := range V {
			x0, x1 := g.Coords(n)
			if (x0+x1)%2 == 0 {
				d.rank[n] = len(d.even)
				d.even = append(d.even, n)
			} else {
				d.rank[n] = len(d.odd)
				d.odd = append(d.odd, n)
			}
		}
	}
	m := d.size
	d.a = make([]complex128, m*m)
	d.piv = make([]int, m)
	d.inv = make([]complex128, m*m)
	if method.real() {
		d.re = mat.NewDense(2*m, 2*m, nil)
		d.id = mat.NewDense(2*m, 2*m, nil)
		for i := range 2 * m {
			d.id.Set(i, i, 1)
		}
		d.rinv = mat.NewDense(2*m, 2*m, nil)
	}
	return d, nil
}

// DefaultMethod returns EvenOdd for even L and Full for odd L.
func DefaultMethod(L int) Method {
	if L%2 == 0 {
		return EvenOdd
	}
	return Full
}

// Operator returns the operator, whose links are those of the last
// Factorize.
func (d *Determinant) Operator() *Operator { return d.op }

// Method returns the factorization method.
func (d *Determinant) Method() Method { return d.method }

// Factorize sets the links (2V angles) and factorizes. It returns an error
// if D is singular (a zero pivot, or log det = -Inf). Called again with
// the same links, it keeps the factorization (and the inverse, if
// computed), so that an action's value and force at one configuration cost
// one factorization.
func (d *Determinant) Factorize(links []float64) error {
	if d.factored && slices.Equal(links, d.last) {
		return nil
	}
	d.factored, d.inverted = false, false
	d.op.SetLinks(links)
	if d.method.evenOdd() {
		d.schurTo(d.a)
	} else {
		d.op.DenseTo(d.a)
	}
	m := d.size
	if !d.method.real() {
		logAbs, _, err := luFactorize(d.a, m, d.piv)
		if err != nil {
			return fmt.Errorf("fermion: Wilson operator at kappa=%g: %w", d.op.Kappa, err)
		}
		d.logDetDD = 2 * logAbs
	} else {
		realFormTo(d.re, d.a, m)
		d.lu.Factorize(d.re)
		logDet, _ := d.lu.LogDet()
		if math.IsInf(logDet, -1) || math.IsNaN(logDet) {
			return fmt.Errorf("fermion: Wilson operator at kappa=%g: matrix singular (log det %v)", d.op.Kappa, logDet)
		}
		d.logDetDD = logDet
	}
	d.factored = true
	d.last = append(d.last[:0], links...)
	return nil
}

// realFormTo writes [[Re A, -Im A], [Im A, Re A]] of the m x m matrix a.
func realFormTo(dst *mat.Dense, a []complex128, m int) {
	raw := dst.RawMatrix()
	s := raw.Stride
	for i := range m {
		for j := range m {
			v := a[i*m+j]
			raw.Data[i*s+j] = real(v)
			raw.Data[i*s+m+j] = -imag(v)
			raw.Data[(m+i)*s+j] = imag(v)
			raw.Data[(m+i)*s+m+j] = real(v)
		}
	}
}

// schurTo writes M = 1 - kappa^2 H_eo H_oe, V x V row-major over (even
// rank, spin), into dst.
func (d *Determinant) schurTo(dst []complex128) {
	m := d.size
	clear(dst)
	k2 := complex(d.op.Kappa*d.op.Kappa, 0)
	var h1, h2 [4]hop
	for i, e := range d.even {
		dst[2*i*m+2*i] = 1
		dst[(2*i+1)*m+2*i+1] = 1
		d.op.hopsTo(&h1, e)
		for _, a := range h1 {
			d.op.hopsTo(&h2, a.y)
			for _, b := range h2 {
				p := mul(a.m, b.m)
				j := d.rank[b.y]
				for s := range Spin {
					for t := range Spin {
						dst[(2*i+s)*m+2*j+t] -= k2 * p[s][t]
					}
				}
			}
		}
	}
}

// mul returns the 2x2 product a b.
func mul(a, b [2][2]complex128) [2][2]complex128 {
	return [2][2]complex128{
		{a[0][0]*b[0][0] + a[0][1]*b[1][0], a[0][0]*b[0][1] + a[0][1]*b[1][1]},
		{a[1][0]*b[0][0] + a[1][1]*b[1][0], a[1][0]*b[0][1] + a[1][1]*b[1][1]},
	}
}

// add returns a + b.
func add(a, b [2][2]complex128) [2][2]complex128 {
	return [2][2]complex128{{a[0][0] + b[0][0], a[0][1] + b[0][1]}, {a[1][0] + b[1][0], a[1][1] + b[1][1]}}
}

// trMul returns tr(a b).
func trMul(a, b [2][2]complex128) complex128 {
	return a[0][0]*b[0][0] + a[0][1]*b[1][0] + a[1][0]*b[0][1] + a[1][1]*b[1][1]
}

// LogDetDD returns log det(D^dagger D) = log det(D)^2 of the last
// Factorize. It panics if Factorize has not succeeded.
func (d *Determinant) LogDetDD() float64 {
	d.mustFactored("LogDetDD")
	return d.logDetDD
}

func (d *Determinant) mustFactored(fn string) {
	if !d.factored {
		panic(fmt.Sprintf("fermion: Determinant.%s: no successful Factorize", fn))
	}
}

// invert computes A^-1 once per Factorize.
func (d *Determinant) invert() {
	if d.inverted {
		return
	}
	m := d.size
	if !d.method.real() {
		luInverse(d.inv, d.a, m, d.piv)
	} else {
		if err := d.lu.SolveTo(d.rinv, false, d.id); err != nil {
			// The condition number is large; the solution is still
			// computed (gonum returns mat.Condition), as for the complex LU.
			var c mat.Condition
			if !errors.As(err, &c) {
				panic(fmt.Sprintf("fermion: Determinant: gonum solve: %v", err))
			}
		}
		raw := d.rinv.RawMatrix()
		s := raw.Stride
		for i := range m {
			for j := range m {
				d.inv[i*m+j] = complex(raw.Data[i*s+j], raw.Data[(m+i)*s+j])
			}
		}
	}
	d.inverted = true
}

// ainv returns the 2x2 block of A^-1 between site ranks i and j.
func (d *Determinant) ainv(i, j int) [2][2]complex128 {
	m := d.size
	r0, r1 := d.inv[2*i*m+2*j:], d.inv[(2*i+1)*m+2*j:]
	return [2][2]complex128{{r0[0], r0[1]}, {r1[0], r1[1]}}
}

// block returns the 2x2 spin block D^-1(x, y) (after invert). In the
// even-odd form, with M^-1 on the even sites,
//
//	D^-1_ee = M^-1,  D^-1_eo = kappa M^-1 H_eo,  D^-1_oe = kappa H_oe M^-1,
//	D^-1_oo = 1 + kappa^2 H_oe M^-1 H_eo.
func (d *Determinant) block(x, y int) [2][2]complex128 {
	if !d.method.evenOdd() {
		return d.ainv(x, y)
	}
	k := complex(d.op.Kappa, 0)
	ex, ey := d.isEven(x), d.isEven(y)
	var hx, hy [4]hop
	var s [2][2]complex128
	switch {
	case ex && ey:
		return d.ainv(d.rank[x], d.rank[y])
	case !ex && ey:
		d.op.hopsTo(&hx, x)
		for _, h := range hx {
			s = add(s, mul(h.m, d.ainv(d.rank[h.y], d.rank[y])))
		}
		return scale(k, s)
	case ex && !ey:
		d.op.hopsInto(&hy, y)
		for _, h := range hy {
			s = add(s, mul(d.ainv(d.rank[x], d.rank[h.y]), h.m))
		}
		return scale(k, s)
	}
	d.op.hopsTo(&hx, x)
	d.op.hopsInto(&hy, y)
	for _, a := range hx {
		for _, b := range hy {
			s = add(s, mul(mul(a.m, d.ainv(d.rank[a.y], d.rank[b.y])), b.m))
		}
	}
	s = scale(k*k, s)
	if x == y {
		s[0][0]++
		s[1][1]++
	}
	return s
}

func (d *Determinant) isEven(n int) bool {
	x0, x1 := d.op.Geom.Coords(n)
	return (x0+x1)%2 == 0
}

// GradTo writes d log det(D^dagger D) / d theta_mu(n) into dst (length 2V,
// gauge order): 2 Re Tr(D^-1 dD/dtheta). The link theta_mu(x) enters D(x,
// x+mu) = -kappa (1 - gamma_mu) U and D(x+mu, x) = -kappa (1 + gamma_mu)
// conj(U), so with y = x + mu
//
//	d/dtheta = 2 Re{ -i kappa U tr[D^-1(y,x) (1 - gamma_mu)]
//	                 + i kappa conj(U) tr[D^-1(x,y) (1 + gamma_mu)] },
//
// O(V) once D^-1 is known (GradTo computes it on first use after
// Factorize).
func (d *Determinant) GradTo(dst []float64) {
	d.mustFactored("GradTo")
	g := d.op.Geom
	if len(dst) != 2*g.V {
		panic(fmt.Sprintf("fermion: Determinant.GradTo: len(dst)=%d, want 2V=%d", len(dst), 2*g.V))
	}
	d.invert()
	k := d.op.Kappa
	for mu := range lattice.Dim {
		pm, pp := projector(mu, -1), projector(mu, +1)
		for x := range g.V {
			y := g.Up(mu, x)
			u := d.op.Phase(mu, x)
			v := -1i*complex(k, 0)*u*trMul(d.block(y, x), pm) + 1i*complex(k, 0)*conj(u)*trMul(d.block(x, y), pp)
			dst[mu*g.V+x] = 2 * real(v)
		}
	}
}

// Condensate returns the chiral condensate -(1/V) Tr D^-1 (trace over
// sites and spins; real by gamma_5-hermiticity) of the last Factorize.
func (d *Determinant) Condensate() float64 {
	d.mustFactored("Condensate")
	d.invert()
	var tr complex128
	for x := range d.op.Geom.V {
		b := d.block(x, x)
		tr += b[0][0] + b[1][1]
	}
	return -real(tr) / float64(d.op.Geom.V)
}

// PionCorrelatorTo writes C(t) = sum_x1 sum_(a,b) |D^-1((t, x1), a; 0, b)|^2
// for t = 0 .. L-1 into dst (length L): the source at site 0, time along
// direction 0.
func (d *Determinant) PionCorrelatorTo(dst []float64) {
	d.mustFactored("PionCorrelatorTo")
	g := d.op.Geom
	if len(dst) != g.L {
		panic(fmt.Sprintf("fermion: Determinant.PionCorrelatorTo: len(dst)=%d, want L=%d", len(dst), g.L))
	}
	d.invert()
	clear(dst)
	for x := range g.V {
		t, _ := g.Coords(x)
		b := d.block(x, 0)
		for _, r := range b {
			for _, v := range r {
				dst[t] += real(v)*real(v) + imag(v)*imag(v)
			}
		}
	}
}
