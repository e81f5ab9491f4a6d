package gauge

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/integrate/quad"
)

// The topological sectors give <Q^2> without the cancellation of the
// character expansion. With the plaquettes wrapped into [-pi, pi) as
// coordinates, the Haar-measure partition function splits into sectors,
// Z = sum_Q Z_Q, where Z_Q is proportional to
//
//	int prod_n h(P_n) delta(sum_n P_n - 2pi Q) dP,  h(P) = exp(beta (cos P - 1)),
//
// the density of the sum of V independent plaquettes with density h, at
// 2pi Q, and <Q^2> = sum_Q Q^2 Z_Q / sum_Q Z_Q has terms of one sign. For
// Q != 0 the point 2pi Q lies far in the tail of that density, which is
// what makes the character sums (its Fourier series) cancel. Tilting each
// plaquette by exp(s P) moves the mean of the sum there: for any real s,
//
//	Z_Q ∝ exp(-2pi Q s) M(s)^V d_s(2pi Q),  M(s) = int h(P) exp(s P) dP,
//
// with d_s the density of the sum of V plaquettes of the tilted density
// h(P) exp(s P)/M(s), of mean mu(s) and characteristic function phi_s(t).
// With s chosen so that V mu(s) is (close to) 2pi Q,
//
//	d_s(2pi Q) = (1/pi) int_0^inf Re[psi(t)^V exp(-i t delta)] dt,
//	psi(t) = exp(-i t mu) phi_s(t),  delta = 2pi Q - V mu(s),
//
// an integral dominated by |t| <~ 1/(sigma sqrt(V)) without cancellation.
// Both integrals are done by composite Gauss-Legendre quadrature.

const (
	// sectorPanelWidth is the width of a plaquette panel in units of the
	// width 1/sqrt(beta) of the weight.
	sectorPanelWidth = 0.25
	// sectorMinPanels and sectorMaxPanels bound the plaquette panels on
	// [-pi, pi); beyond the maximum sectorQ2 gives up.
	sectorMinPanels, sectorMaxPanels = 64, 1 << 14
	// sectorTPanels is the largest number of panels, each 1/(sigma sqrt(V))
	// wide, of the t integral before sectorQ2 gives up.
	sectorTPanels = 4000
	// sectorTail ends the t integral once |psi|^V on a whole panel is below
	// it, and the sum over Q once Q^2 Z_Q/Z_0 is.
	sectorTail = 1e-20
	// sectorMinV is the smallest volume for which sectorQ2 is used: for
	// fewer plaquettes psi(t)^V decays too slowly (like t^-V, from the
	// jump of the tilted density at +-pi) for the t integral to be cheap.
	sectorMinV = 16
	// sectorMinQ2 is the smallest <Q^2> returned, the smallest normal
	// float64: below it Z_1/Z_0 has lost its precision to underflow.
	sectorMinQ2 = 0x1p-1022
)

var errSectorFailed = errors.New("gauge: sector sum for <Q^2> did not converge")

// tiltedPlaquette is the quadrature of the tilted single-plaquette density.
type tiltedPlaquette struct {
	beta   float64
	phi, w []float64 // Gauss-Legendre nodes and weights on [-pi, pi)
	// For the current tilt: the nodes whose weight is not negligible and
	// their weights relative to the largest, normalized to sum 1.
	aPhi, aW []float64
}

func newTiltedPlaquette(beta float64) (*tiltedPlaquette, error) {
	panels := max(sectorMinPanels, int(math.Ceil(twoPi*math.Sqrt(beta)/sectorPanelWidth)))
	if panels > sectorMaxPanels {
		return nil, errSectorFailed
	}
	x := make([]float64, exactPanelOrder)
	w := make([]float64, exactPanelOrder)
	quad.Legendre{}.FixedLocations(x, w, -1, 1)
	tp := &tiltedPlaquette{beta: beta}
	h := twoPi / float64(panels)
	for p := range panels {
		a := -math.Pi + float64(p)*h
		for k := range x {
			tp.phi = append(tp.phi, a+(x[k]+1)*h/2)
			tp.w = append(tp.w, w[k]*h/2)
		}
	}
	return tp, nil
}

// tilt sets the tilt s and returns log M(s) (up to a constant common to all
// s), the mean and the variance of the tilted density.
func (tp *tiltedPlaquette) tilt(s float64) (logM, mean, variance float64) {
	lMax := math.Inf(-1)
	for _, phi := range tp.phi {
		lMax = max(lMax, tp.logWeight(phi, s))
	}
	tp.aPhi, tp.aW = tp.aPhi[:0], tp.aW[:0]
	var sum neumaier
	for k, phi := range tp.phi {
		l := tp.logWeight(phi, s) - lMax
		if l < -exactCutoff {
			continue
		}
		w := tp.w[k] * math.Exp(l)
		tp.aPhi = append(tp.aPhi, phi)
		tp.aW = append(tp.aW, w)
		sum.add(w)
	}
	m := sum.sum()
	var s1 neumaier
	for k := range tp.aW {
		tp.aW[k] /= m
		s1.add(tp.aW[k] * tp.aPhi[k])
	}
	mean = s1.sum()
	var s2 neumaier
	for k, phi := range tp.aPhi {
		d := phi - mean
		s2.add(tp.aW[k] * d * d)
	}
	return lMax + math.Log(m), mean, s2.sum()
}

// logWeight is beta (cos phi - 1) + s phi, with cos phi - 1 = -2 sin^2(phi/2).
func (tp *tiltedPlaquette) logWeight(phi, s float64) float64 {
	h := math.Sin(phi / 2)
	return -2*tp.beta*h*h + s*phi
}

// psiV returns Re[psi(t)^V exp(-i t delta)] and |psi(t)|^V for the current
// tilt of mean mu.
func (tp *tiltedPlaquette) psiV(t, mu, fv, delta float64) (re, abs float64) {
	var c, s neumaier
	for k, phi := range tp.aPhi {
		sn, cs := math.Sincos(t * (phi - mu))
		c.add(tp.aW[k] * cs)
		s.add(tp.aW[k] * sn)
	}
	x, y := c.sum(), s.sum()
	r := math.Hypot(x, y)
	abs = math.Exp(fv * math.Log(r))
	return abs * math.Cos(fv*math.Atan2(y, x)-t*delta), abs
}

// logSector returns log Z_Q up to a constant common to all Q, for Q >= 0
// and 2pi Q / V < pi.
func (tp *tiltedPlaquette) logSector(Q int, fv float64) (float64, error) {
	target := twoPi * float64(Q) / fv
	// Newton on mu(s) = target, kept inside a bracket; mu increases with s.
	s, lo, hi := tp.beta*math.Sin(math.Min(target, math.Pi/2)), 0.0, math.Inf(1)
	if Q == 0 {
		s = 0
	}
	var logM, mu, v float64
	for range 200 {
		logM, mu, v = tp.tilt(s)
		if Q == 0 || math.Abs(mu-target) <= 1e-10*target {
			break
		}
		if mu < target {
			lo = s
		} else {
			hi = s
		}
		next := s + (target-mu)/v
		if !(next > lo && next < hi) {
			if math.IsInf(hi, 1) {
				next = 2*s + 1
			} else {
				next = (lo + hi) / 2
			}
		}
		s = next
	}
	delta := twoPi*float64(Q) - fv*mu
	if Q == 0 {
		delta, mu = 0, 0 // by symmetry; the quadrature's mean is rounding
	}
	// d_s(2pi Q) by panels of width 1/(sigma sqrt(V)) in t.
	width := 1 / math.Sqrt(v*fv)
	x := make([]float64, exactPanelOrder)
	w := make([]float64, exactPanelOrder)
	quad.Legendre{}.FixedLocations(x, w, -1, 1)
	var d neumaier
	for p := range sectorTPanels {
		a := float64(p) * width
		panelMax := 0.0
		for k := range x {
			re, abs := tp.psiV(a+(x[k]+1)*width/2, mu, fv, delta)
			d.add(w[k] * width / 2 * re)
			panelMax = max(panelMax, abs)
		}
		if p >= 4 && panelMax < sectorTail {
			dens := d.sum() / math.Pi
			if !(dens > 0) {
				return 0, errSectorFailed
			}
			return fv*logM - twoPi*float64(Q)*s + math.Log(dens), nil
		}
	}
	return 0, errSectorFailed
}

// sectorQ2 returns <Q^2> = sum_Q Q^2 Z_Q / sum_Q Z_Q on the torus of fv
// plaquettes at coupling beta, from the tilted sector integrals above.
func sectorQ2(beta, fv float64) (float64, error) {
	if fv < sectorMinV {
		return 0, errSectorFailed
	}
	tp, err := newTiltedPlaquette(beta)
	if err != nil {
		return 0, err
	}
	log0, err := tp.logSector(0, fv)
	if err != nil {
		return 0, err
	}
	// Relative to Z_0; Z_-Q = Z_Q.
	num, den := 0.0, 1.0
	for Q := 1; 2*float64(Q) < fv; Q++ {
		lq, err := tp.logSector(Q, fv)
		if err != nil {
			return 0, err
		}
		r := math.Exp(lq - log0)
		num += 2 * float64(Q*Q) * r
		den += 2 * r
		if float64(Q*Q)*r <= sectorTail*num {
			break
		}
	}
	q2 := num / den
	if !(q2 >= sectorMinQ2) {
		// Z_1/Z_0 underflows: <Q^2> is below the float64 range.
		return 0, errSectorFailed
	}
	return q2, nil
}
