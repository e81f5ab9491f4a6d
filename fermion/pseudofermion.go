package fermion

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"latflow/gauge"
	"latflow/lattice"
)

// PseudofermionAction is the action of the Schwinger model with the two
// flavours represented by one pseudofermion field phi:
//
//	S(theta) = S_g(theta) + phi^dagger (D^dagger D)^-1 phi,
//
// whose integral over phi with the weight exp(-S) gives
// exp(-S_g) det(D^dagger D) up to a constant. phi is held fixed along an
// HMC trajectory and drawn afresh before each by Refresh. With
// X = (D^dagger D)^-1 phi (by CG) and Y = D X, the force is
//
//	dS/dtheta = dS_g/dtheta - 2 Re[Y^dagger (dD/dtheta) X].
//
// The even-odd form (NewEvenOddPseudofermionAction, L even) uses
// det(D^dagger D) = det(M^dagger M), M = 1 - kappa^2 H_eo H_oe, with phi on
// the even sites only and S_pf = phi^dagger (M^dagger M)^-1 phi; with
// X = (M^dagger M)^-1 phi, Y = M X and the odd parts X_o = H_oe X,
// Y_o = (H_eo)^dagger Y, Y^dagger (dM/dtheta) X = kappa Yf^dagger (dD/dtheta) Xf
// for the full vectors Xf = (X, X_o), Yf = (Y, Y_o), so the force is
// dS_g/dtheta - 2 kappa Re[Yf^dagger (dD/dtheta) Xf]. Its CG converges in
// fewer iterations of about the same cost.
//
// It implements lattice.Action and lattice.Wrapper. A CG failure makes
// Action return NaN (an HMC step then rejects) and ForceTo write NaN, and
// is kept for Err. Not safe for concurrent use.
type PseudofermionAction struct {
	Gauge gauge.WilsonAction
	Op    *Operator
	CG    *CG
	// Phi is the pseudofermion field (length 2V), set by Refresh.
	Phi []complex128

	x, y []complex128
	err  error
	// solved reports that x solves for Phi at the links in last.
	solved bool
	last   []float64
	// solves and iters count the CG solves and their iterations.
	solves, iters int

	// Even-odd form: w is the odd workspace of M and then holds Xf (Yf is
	// assembled in y).
	evenOdd bool
	w       []complex128
}

// NewPseudofermionAction returns the action at gauge coupling beta and
// hopping parameter kappa on g, with CG to the relative residual tol in at
// most maxIter iterations, and Phi = 0. It panics on a nil geometry, a
// non-finite kappa or a bad tol or maxIter (see NewCG).
func NewPseudofermionAction(g *lattice.Geometry, beta, kappa, tol float64, maxIter int) *PseudofermionAction {
	op := NewOperator(g, kappa)
	n := op.Size()
	return &PseudofermionAction{
		Gauge: gauge.WilsonAction{Geom: g, Beta: beta},
		Op:    op,
		CG:    NewCG(op, tol, maxIter),
		Phi:   make([]complex128, n),
		x:     make([]complex128, n),
		y:     make([]complex128, n),
		last:  make([]float64, 0, 2*g.V),
	}
}

// NewEvenOddPseudofermionAction returns the even-odd form of the action
// (type doc), with a Schur CG (NewSchurCG). It panics for odd L and as
// NewPseudofermionAction.
func NewEvenOddPseudofermionAction(g *lattice.Geometry, beta, kappa, tol float64, maxIter int) *PseudofermionAction {
	if g != nil && g.L%2 != 0 {
		panic(fmt.Sprintf("fermion: NewEvenOddPseudofermionAction: L=%d, want L even", g.L))
	}
	a := NewPseudofermionAction(g, beta, kappa, tol, maxIter)
	a.CG = NewSchurCG(a.Op, tol, maxIter)
	a.evenOdd = true
	a.w = make([]complex128, a.Op.Size())
	return a
}

// EvenOdd reports whether a is the even-odd form.
func (a *PseudofermionAction) EvenOdd() bool { return a.evenOdd }

// Refresh draws phi = D^dagger chi (even-odd: phi = M^dagger chi on the
// even sites) at the links, chi complex Gaussian with
// density proportional to exp(-chi^dagger chi) (each real and imaginary
// part of variance 1/2), so that phi has the density
// exp(-phi^dagger (D^dagger D)^-1 phi) / det(D^dagger D). It draws 4V
// normal numbers from rng, and clears the error of Err. It does not
// allocate.
func (a *PseudofermionAction) Refresh(links []float64, rng *rand.Rand) {
	a.err, a.solved = nil, false
	a.Op.SetLinks(links)
	s := math.Sqrt(0.5)
	if a.evenOdd {
		clear(a.y)
		for _, n := range a.Op.even {
			for i := 2 * n; i < 2*n+2; i++ {
				a.y[i] = complex(s*rng.NormFloat64(), s*rng.NormFloat64())
			}
		}
		a.Op.ApplySchurDaggerTo(a.Phi, a.w, a.y)
		return
	}
	for i := range a.y {
		a.y[i] = complex(s*rng.NormFloat64(), s*rng.NormFloat64())
	}
	a.Op.ApplyDaggerTo(a.Phi, a.y)
}

// Err returns the first CG failure since the last Refresh, or nil.
func (a *PseudofermionAction) Err() error { return a.err }

// solve sets X = (D^dagger D)^-1 phi at links and reports success. At the
// links of the last successful solve, and the same phi, it keeps X: the
// action and the force at one configuration (the ends of a trajectory)
// cost one CG. A caller that changes Phi by hand must call Refresh or
// Invalidate.
func (a *PseudofermionAction) solve(links []float64) bool {
	a.Op.SetLinks(links)
	if a.solved && slices.Equal(links, a.last) {
		return true
	}
	a.solved = false
	it, err := a.CG.SolveTo(a.x, a.Phi)
	a.solves++
	a.iters += it
	if err != nil {
		if a.err == nil {
			a.err = fmt.Errorf("fermion: pseudofermion action: %w", err)
		}
		return false
	}
	a.solved = true
	a.last = append(a.last[:0], links...)
	return true
}

// CGCounts returns the number of CG solves and their total iterations
// since the action was made: the cost of a trajectory in applications of
// D^dagger D.
func (a *PseudofermionAction) CGCounts() (solves, iterations int) { return a.solves, a.iters }

// Invalidate forgets the last solve, after Phi or the CG settings were
// changed by hand.
func (a *PseudofermionAction) Invalidate() { a.solved = false }

// Action returns S_g + phi^dagger X (real: D^dagger D is hermitian).
func (a *PseudofermionAction) Action(links []float64) float64 {
	sg := a.Gauge.Action(links)
	if !a.solve(links) {
		return math.NaN()
	}
	var s float64
	for i, p := range a.Phi {
		s += real(p)*real(a.x[i]) + imag(p)*imag(a.x[i])
	}
	return sg + s
}

// ForceTo writes dS/dtheta into dst (length 2V; not sharing memory with
// links). It does not allocate.
func (a *PseudofermionAction) ForceTo(dst, links []float64) {
	a.Gauge.ForceTo(dst, links)
	if !a.solve(links) {
		for i := range dst {
			dst[i] = math.NaN()
		}
		return
	}
	if !a.evenOdd {
		a.Op.ApplyTo(a.y, a.x)
		a.Op.linkDerivativeAdd(dst, -2, a.y, a.x)
		return
	}
	// Y = M X (even), X_o = H_oe X left in w (odd). Xf = (X, X_o) is
	// assembled in w, Yf = (Y, Y_o) in y.
	a.Op.ApplySchurTo(a.y, a.w, a.x)
	for _, n := range a.Op.even {
		a.w[2*n], a.w[2*n+1] = a.x[2*n], a.x[2*n+1]
	}
	for _, n := range a.Op.odd {
		a.y[2*n], a.y[2*n+1] = a.Op.hopSite(int(n), a.y, true)
	}
	a.Op.linkDerivativeAdd(dst, -2*a.Op.Kappa, a.y, a.w)
}

// linkDerivativeAdd adds c Re[Y^dagger (dD/dtheta_mu(x)) X] to dst for
// every link: theta_mu(x) enters D(x, x+mu) = -kappa (1 - gamma_mu) U and
// D(x+mu, x) = -kappa (1 + gamma_mu) conj(U), whose derivatives are i and
// -i times themselves.
func (d *Operator) linkDerivativeAdd(dst []float64, c float64, y, x []complex128) {
	g := d.Geom
	V := g.V
	k := complex(d.Kappa, 0)
	for mu := range lattice.Dim {
		pm, pp := projector(mu, -1), projector(mu, +1)
		up := g.UpTable(mu)[:V]
		for n := range V {
			f := int(up[n])
			u := d.u[mu*V+n]
			yn0, yn1 := conj(y[2*n]), conj(y[2*n+1])
			yf0, yf1 := conj(y[2*f]), conj(y[2*f+1])
			// Y(n)^dagger (1 - gamma) X(n+mu) and Y(n+mu)^dagger (1 + gamma) X(n).
			fw := yn0*(pm[0][0]*x[2*f]+pm[0][1]*x[2*f+1]) + yn1*(pm[1][0]*x[2*f]+pm[1][1]*x[2*f+1])
			bw := yf0*(pp[0][0]*x[2*n]+pp[0][1]*x[2*n+1]) + yf1*(pp[1][0]*x[2*n]+pp[1][1]*x[2*n+1])
			v := -1i*k*u*fw + 1i*k*conj(u)*bw
			dst[mu*V+n] += c * real(v)
		}
	}
}

// Wrap brings the link angles into [0, 2pi) (lattice.Wrapper).
func (a *PseudofermionAction) Wrap(links []float64) { gauge.WrapLinks(links) }

var (
	_ lattice.Action  = (*PseudofermionAction)(nil)
	_ lattice.Wrapper = (*PseudofermionAction)(nil)
)
