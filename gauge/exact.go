package gauge

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/integrate/quad"
)

// Exact holds the exact expectation values of the Wilson action on the
// periodic L x L torus at coupling Beta, from the character expansion.
type Exact struct {
	Beta float64
	L    int
	// LogZ is log Z with the Haar measure dtheta/(2pi) on every link:
	// Z = sum_n I_n(beta)^V. The flat measure on [0, 2pi) adds 2V log(2pi).
	LogZ float64
	// MeanCos is <cos P>, the expected mean plaquette.
	MeanCos float64
	// MeanAction is <S> = -Beta V <cos P>.
	MeanAction float64
	// Q2 is <Q^2>, and ChiT = <Q^2>/V the topological susceptibility.
	Q2, ChiT float64
}

const (
	// exactTermTol ends the sum over representations n once a term is
	// smaller than this fraction of each partial sum, twice in a row.
	exactTermTol = 1e-17
	// exactCutoff truncates the single-plaquette integrals where the weight
	// exp(beta (cos phi - 1)) is below exp(-exactCutoff); what is dropped is
	// far below the float64 resolution of every sum.
	exactCutoff = 100.0
	// exactPanelOrder is the number of Gauss-Legendre nodes per panel.
	exactPanelOrder = 20
	// exactMinPanels is the least number of panels on [0, phiMax].
	exactMinPanels = 16
	// exactMaxRep bounds the representation sum; reaching it is an error.
	exactMaxRep = 1 << 14
	// exactNoise is the size below which a single-plaquette integral
	// relative to the n = 0 one is quadrature rounding, not signal.
	exactNoise = 1e-12
	// exactRoundoff is the relative rounding error of the quadrature's
	// f(n)/f(0), f'(n)/f(0) and f''(n)/f(0) (compensated sums: about 1e-16).
	// The n = 0 term of the sum for <Q^2>, V f''(0)/f(0), carries it once;
	// the terms n != 0 raise f(n)/f(0) to the power V-1 or V-2, which
	// multiplies it by V. (Measured against quadratures with 2 and 7 times
	// the panels: about 1e-16 V for the terms n != 0.)
	exactRoundoff = 2e-16
	// exactQ2Tol is the largest estimated relative error of <Q^2> that
	// ExactTorus returns without ErrTopologyFrozen.
	exactQ2Tol = 1e-10
	// MaxExactL is the largest lattice extent ExactTorus accepts, so that
	// V = L*L (2^40) is exact in an int64 and a float64. Far below it the
	// results have reached their infinite-volume limits (times V) at every
	// beta where <Q^2> is resolvable.
	MaxExactL = 1 << 20
)

// ErrTopologyFrozen is returned (wrapped) by ExactTorus when <Q^2> cannot
// be resolved. On small lattices at large beta the topological sectors
// Q != 0 are suppressed roughly like exp(-2 pi^2 beta / V), and the
// representation sum for <Q^2> cancels to that level; ExactTorus then sums
// over the sectors instead (see sectors.go), which has no cancellation.
// What remains unresolved: <Q^2> below the smallest normal float64
// (2.2e-308), lattices with L <= 3, and beta above about 4e5. The Exact returned with it still holds valid LogZ, MeanCos and
// MeanAction; Q2 and ChiT are NaN.
var ErrTopologyFrozen = errors.New("gauge: topology frozen: <Q^2> below the resolution of the character expansion")

// ExactTorus returns the exact <cos P>, <Q^2>, chi_t, <S> and log Z of the
// Wilson action at coupling beta on the periodic L x L torus
// (physics.md section 1). With the single-plaquette Fourier integral
//
//	f(nu) = (1/2pi) int_{-pi}^{pi} exp(beta cos phi) cos(nu phi) dphi,
//
// f(n) = I_n(beta) for integer n, Z = sum_n f(n)^V,
// <cos P> = (1/V) d log Z / d beta = sum_n f(n)^(V-1) I_n'(beta) / Z with
// I_n' = (I_(n-1) + I_(n+1))/2, and <Q^2> = -(d^2 Z/d theta^2)/Z at
// theta = 0 for the theta vacuum Z(theta) = sum_n f(n + theta/2pi)^V. The integrals are evaluated
// by composite Gauss-Legendre quadrature with the weight scaled by
// exp(-beta). The sums are taken in log space relative to their dominant
// n = 0 term: each term is exp(V log(f(n)/f(0))) times a factor of order
// one, and log Z = V (beta + log(exp(-beta) f(0))) + log(1 + ...), so that
// large beta and V neither overflow nor lose precision; the sum over n is
// truncated adaptively when its terms drop below 1e-17 of the partial sums.
//
// For L = 1 the only plaquette is identically zero (every link enters it
// twice with opposite signs), so <cos P> = 1 and Q = 0.
//
// The sums for log Z and <cos P> have positive terms and are accurate to
// about 1e-14 relative. The sum for <Q^2> has terms of both signs; its
// rounding error is estimated term by term (the n = 0 term carries the
// quadrature's rounding once, the others V times). When the estimate
// exceeds 1e-10 of <Q^2>, which happens on small lattices at large beta
// where <Q^2> is tiny (L = 5 at beta = 20, L = 16 at beta = 200), ExactTorus
// computes <Q^2> from the topological sectors instead: each Z_Q as a
// saddle-point-tilted Fourier integral whose terms do not cancel (agreeing
// with the character sum to about 1e-13 where both resolve it). If that is
// not possible either (see ErrTopologyFrozen), it returns an error that
// wraps ErrTopologyFrozen, together with the valid LogZ, MeanCos and
// MeanAction. Large lattices at moderate beta are accurate from the
// character sum alone (L = 708 or 10^4 at beta = 3).
//
// ExactTorus returns an error for beta <= 0 or not finite, for L < 1 or
// L > MaxExactL, and when a result is not finite.
func ExactTorus(beta float64, L int) (Exact, error) {
	return exactTorus(beta, L, 1)
}

// ExactInfiniteVolume returns the infinite-volume limits of <cos P>,
// I_1(beta)/I_0(beta), and of the topological susceptibility,
// chi_t = <phi^2>/(4pi^2) in the single-plaquette density
// exp(beta cos phi) on [-pi, pi). It returns an error for beta <= 0 or not
// finite, and when a result is not finite.
func ExactInfiniteVolume(beta float64) (meanCos, chiT float64, err error) {
	if err := checkBeta(beta); err != nil {
		return 0, 0, err
	}
	q := newThetaQuad(beta, 1, 1)
	f0, _, d2f0 := q.eval(0)
	f1, _, _ := q.eval(1)
	meanCos = f1 / f0
	chiT = -d2f0 / f0 / (4 * math.Pi * math.Pi)
	if !isFinite(meanCos) || !isFinite(chiT) {
		return 0, 0, fmt.Errorf("gauge: infinite volume at beta=%g: result not finite (<cos P>=%g, chi_t=%g)", beta, meanCos, chiT)
	}
	return meanCos, chiT, nil
}

func checkBeta(beta float64) error {
	if !(beta > 0) || math.IsInf(beta, 1) {
		return fmt.Errorf("gauge: beta=%g, want a finite beta > 0", beta)
	}
	return nil
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// exactTorus is ExactTorus with the quadrature panels multiplied by refine,
// so that tests can check the quadrature against a finer one.
func exactTorus(beta float64, L, refine int) (Exact, error) {
	if err := checkBeta(beta); err != nil {
		return Exact{}, err
	}
	if L < 1 || L > MaxExactL {
		return Exact{}, fmt.Errorf("gauge: exact torus: L=%d, want 1 <= L <= %d", L, MaxExactL)
	}
	e := Exact{Beta: beta, L: L}
	V := float64(L) * float64(L) // exact: L <= 2^20
	if L == 1 {
		e.LogZ, e.MeanCos = beta, 1
	} else {
		var err error
		for nmax := 32; ; nmax *= 2 {
			if nmax > exactMaxRep {
				return Exact{}, fmt.Errorf("gauge: exact torus at beta=%g, L=%d: representation sum did not converge by |n|=%d", beta, L, exactMaxRep)
			}
			var ok bool
			ok, err = e.sum(newThetaQuad(beta, nmax+1, refine), V, nmax)
			if err != nil {
				return Exact{}, err
			}
			if ok {
				break
			}
		}
	}
	e.MeanAction = -beta * V * e.MeanCos
	for _, x := range []float64{e.LogZ, e.MeanCos, e.MeanAction} {
		if !isFinite(x) {
			return Exact{}, fmt.Errorf("gauge: exact torus at beta=%g, L=%d: result not finite (%+v)", beta, L, e)
		}
	}
	if math.IsNaN(e.Q2) {
		// The character sum cancels too much: sum over the sectors.
		if q2, err := sectorQ2(beta, V); err == nil {
			e.Q2 = q2
		}
	}
	if math.IsNaN(e.Q2) {
		e.ChiT = math.NaN()
		return e, fmt.Errorf("%w (exact torus at beta=%g, L=%d)", ErrTopologyFrozen, beta, L)
	}
	e.ChiT = e.Q2 / V
	if !isFinite(e.Q2) || !isFinite(e.ChiT) {
		return Exact{}, fmt.Errorf("gauge: exact torus at beta=%g, L=%d: result not finite (%+v)", beta, L, e)
	}
	return e, nil
}

// sum evaluates the representation sums for V >= 4 sites with |n| <= nmax
// and fills LogZ, MeanCos and Q2 (NaN if the cancellation in its sum leaves
// a relative error above exactQ2Tol). It reports false if the terms had not
// become negligible by nmax.
//
// Relative to the n = 0 term, with r = f(n)/f(0), a = f'(n)/f(0),
// b = f2(n)/f(0) (f2 the second derivative) and c = I_n'(beta)/f(0):
//
//	Z       / f(0)^V = sum_n r^V
//	Z <cos P> / f(0)^V = sum_n r^(V-1) c
//	Z''(0) / f(0)^V = (1/4pi^2) sum_n [V(V-1) r^(V-2) a^2 + V r^(V-1) b]
//
// and the terms for -n equal those for n (f and f2 are even in nu, f' odd).
func (e *Exact) sum(q thetaQuad, fv float64, nmax int) (bool, error) {
	f0, _, d2f0 := q.eval(0)
	fNext, dfNext, d2fNext := q.eval(1)
	// The n = 0 terms; f(-1) = f(1) and f'(0) = 0 by symmetry.
	z, c, q2 := 1.0, fNext/f0, fv*d2f0/f0
	fPrev := f0
	// The rounding of the <Q^2> sum: the n = 0 term's, and the sum of the
	// absolute values of the others, whose rounding is V times larger.
	q2err0, q2absN := exactRoundoff*math.Abs(q2), 0.0
	small := 0
	for n := 1; n <= nmax; n++ {
		fn, df, d2f := fNext, dfNext, d2fNext
		fNext, dfNext, d2fNext = q.eval(float64(n + 1))
		r := fn / f0
		if r <= exactNoise {
			if r < -exactNoise {
				return false, fmt.Errorf("gauge: exact torus at beta=%g: f(%d)/f(0)=%g < 0, quadrature failed", e.Beta, n, r)
			}
			// Every term carries at least r^(V-2) (V >= 4 here), far below
			// exactTermTol: the sums are complete.
			return e.finish(f0, fv, z, c, q2, q2err0, q2absN), nil
		}
		lr := math.Log(r)
		rV := math.Exp(fv * lr)
		rV1 := math.Exp((fv - 1) * lr)
		rV2 := math.Exp((fv - 2) * lr)
		tz := 2 * rV
		tc := 2 * rV1 * (fPrev + fNext) / (2 * f0)
		tq := 2 * (fv*(fv-1)*rV2*(df/f0)*(df/f0) + fv*rV1*d2f/f0)
		z += tz
		c += tc
		q2 += tq
		q2absN += 2 * (fv*(fv-1)*rV2*(df/f0)*(df/f0) + fv*rV1*math.Abs(d2f/f0))
		fPrev = fn
		if tz <= exactTermTol*z && math.Abs(tc) <= exactTermTol*math.Abs(c) && math.Abs(tq) <= exactTermTol*math.Abs(q2) {
			small++
			if small == 2 {
				return e.finish(f0, fv, z, c, q2, q2err0, q2absN), nil
			}
		} else {
			small = 0
		}
	}
	return false, nil
}

// finish turns the relative sums into LogZ, MeanCos and Q2; f0 is the
// scaled f(0) exp(-beta), q2err0 the rounding error of the n = 0 term of
// q2 and q2absN the sum of the absolute values of its other terms.
func (e *Exact) finish(f0, fv, z, c, q2, q2err0, q2absN float64) bool {
	e.LogZ = fv*(e.Beta+math.Log(f0)) + math.Log(z)
	e.MeanCos = c / z
	e.Q2 = -q2 / z / (4 * math.Pi * math.Pi)
	if !(q2 < 0) || q2err0+exactRoundoff*fv*q2absN > exactQ2Tol*-q2 {
		e.Q2 = math.NaN()
	}
	return true
}

// thetaQuad is a composite Gauss-Legendre rule on [0, phiMax] for the
// single-plaquette integrals, with the scaled Boltzmann weight
// exp(beta (cos phi - 1)) and the factor 2/(2pi) of the even integrands
// folded into the weights.
type thetaQuad struct {
	phi, w []float64
}

// newThetaQuad returns the rule for beta that resolves cos(nu phi) for
// |nu| <= nuMax; refine multiplies the number of panels.
func newThetaQuad(beta float64, nuMax, refine int) thetaQuad {
	if refine < 1 {
		panic(errors.New("gauge: newThetaQuad: refine < 1"))
	}
	phiMax := math.Pi
	if c := 1 - exactCutoff/beta; c > -1 {
		phiMax = math.Acos(c)
	}
	// A panel spans at most two radians of the fastest oscillation
	// cos(nuMax phi); the weight's width 1/sqrt(beta) is at least
	// phiMax/sqrt(2 exactCutoff), resolved by exactMinPanels panels.
	panels := max(exactMinPanels, int(math.Ceil(float64(nuMax)*phiMax/2))) * refine
	x := make([]float64, exactPanelOrder)
	w := make([]float64, exactPanelOrder)
	quad.Legendre{}.FixedLocations(x, w, -1, 1)
	q := thetaQuad{
		phi: make([]float64, 0, panels*exactPanelOrder),
		w:   make([]float64, 0, panels*exactPanelOrder),
	}
	h := phiMax / float64(panels)
	for p := range panels {
		a := float64(p) * h
		for k := range x {
			phi := a + (x[k]+1)*h/2
			q.phi = append(q.phi, phi)
			// cos phi - 1 = -2 sin^2(phi/2) without cancellation, so that
			// the exponent is accurate where the weight is large.
			s := math.Sin(phi / 2)
			q.w = append(q.w, w[k]*h/2/math.Pi*math.Exp(-2*beta*s*s))
		}
	}
	return q
}

// eval returns exp(-beta) times f(nu) and its first two derivatives in nu:
//
//	f(nu)   =  (1/2pi) int exp(beta cos phi) cos(nu phi)
//	f'(nu)  = -(1/2pi) int exp(beta cos phi) phi sin(nu phi)
//	f''(nu) = -(1/2pi) int exp(beta cos phi) phi^2 cos(nu phi)
//
// all over [-pi, pi). The sums over the nodes are compensated (Neumaier),
// so that their rounding does not grow with the number of nodes: the
// representation sums raise f(n)/f(0) to the power V.
func (q thetaQuad) eval(nu float64) (f, df, d2f float64) {
	var sf, sdf, sd2f neumaier
	for k, phi := range q.phi {
		s, c := math.Sincos(nu * phi)
		w := q.w[k]
		sf.add(w * c)
		sdf.add(-w * phi * s)
		sd2f.add(-w * phi * phi * c)
	}
	return sf.sum(), sdf.sum(), sd2f.sum()
}

// neumaier is a compensated sum.
type neumaier struct{ s, c float64 }

func (n *neumaier) add(x float64) {
	t := n.s + x
	if math.Abs(n.s) >= math.Abs(x) {
		n.c += (n.s - t) + x
	} else {
		n.c += (x - t) + n.s
	}
	n.s = t
}

func (n *neumaier) sum() float64 { return n.s + n.c }
