package gauge

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/integrate/quad"
)

// The spread constraint (ConstraintSpread) draws all V plaquettes P(n)
// independently from the von Mises marginal and subtracts the same shift c
// from every one, the defect of their sum spread evenly:
//
//	P'(n) = P(n) - c,  c = s/V,  s = sum_n P(n) wrapped into [-pi, pi),
//
// so that sum_n P'(n) = 0 modulo 2pi, with the smallest shift that does
// it. The map from (P(0) .. P(V-1)) to (P'(0) .. P'(V-2), c) is, away
// from the cut of s, linear with determinant 1/V, and it is a bijection of
// the torus [0, 2pi)^V onto [0, 2pi)^(V-1) x [-pi/V, pi/V): the inverse is
// P(n) = P'(n) + c with P'(V-1) = -sum_(n<V-1) P'(n), whose sum V c
// returns c (TestSpreadJacobian). The density of (P'(n), n < V-1) is
// therefore V times the integral over c of the density of the
// P(n) = P'(n) + c, and with the uniform Polyakov loops and tree links of
// the maximal-tree construction, on the flat measure of the links,
//
//	q(theta) = (2pi)^-(V+1) V int_(-pi/V)^(pi/V) prod_n vM(P(n) + c) dc,
//	vM(x) = exp(beta cos x) / (2pi I0(beta)).
//
// With R exp(i phi) = sum_n exp(i P(n)), sum_n cos(P(n) + c) =
// R cos(c + phi), so log q needs the one integral
//
//	J(kappa, phi) = int_(-pi/V)^(pi/V) exp(kappa cos(c + phi)) dc,  kappa = beta R,
//
// and the score d log J / dP(n) = -beta <sin(P(n) + c)> =
// -beta (sin P(n) <cos c> + cos P(n) <sin c>), the averages over c with
// the weight exp(kappa cos(c + phi)).
//
// The range of c is centred on 0 on purpose. For plaquettes near the
// classical vacuum, sum_n P(n) is near 0 with either sign, and the c that
// maximizes prod_n vM(P(n) + c), about -phi, lies inside the range, so
// that the integral takes the whole peak, for every such configuration.
// With s wrapped into [0, 2pi) instead (c in [0, 2pi/V)) the peak of a
// configuration of negative sum lies at the lower end of the range, its
// density is about half that of its mirror image, and configurations one
// unit of charge away, whose peak lies at the upper end, get as much
// weight as the vacuum: the IMH acceptance was 0.68, 0.83, 0.91 at L = 8,
// 16, 32, beta = 3 and 0.58, 0.75, 0.87 at beta = 6, against 0.96, 0.99,
// 1.00 and 0.91, 0.98, 0.99 with the centred range.

const (
	// spreadNodes is the number of Gauss-Legendre nodes per panel of the
	// spread integral.
	spreadNodes = 14
	// spreadFirstU is the exponent u at the end of the first panel of an
	// arc; each further panel doubles it (see spreadRule.arc).
	spreadFirstU = 2
	// spreadTail is the bound, relative to an arc's integral, on the part
	// of the arc that the panels leave out.
	spreadTail = 1e-17
)

// spreadRule integrates exp(kappa cos(c + phi)) over the range of the
// shift c, [lo, lo + h) with h = 2pi/V and lo = -h/2, for any kappa >= 0
// and phi.
//
// In x = c + phi the range is an arc [a, a + h] of the circle, a in
// [-pi, pi). Split at the maximum (x = 0) or the minimum (x = pi) of
// cos x where the arc contains one (it cannot contain both, as h <= pi/2),
// it becomes at most two arcs on which cos x is monotone; each is
// integrated from its higher end x0, with d the distance from x0 and
//
//	kappa (cos x0 - cos x) = u(d) = 2 kappa sin(alpha + d/2) sin(d/2),
//
// alpha = |x0| in [0, pi], an exponent that is computed without
// cancellation and grows with d. The panels of an arc end where u reaches
// 2, 4, 8, ... (u inverted in closed form, without cancellation), so that
// every panel holds a bounded range of the exponent whatever the width of
// the peak (1/sqrt(kappa) at x0 = 0, 1/(kappa sin alpha) at an end): the
// last panel ends at the arc's end, or earlier where the rest of the arc,
// on which exp(-u) is below exp(-u(d)), is below spreadTail of the
// integral so far. Each panel is an spreadNodes-point Gauss-Legendre rule.
// The integral is returned as a logarithm, kappa times the largest
// cos x plus the log of the integral of exp(-u), so that any kappa up to
// the overflow of kappa itself is safe. TestSpreadIntegral checks it
// against adaptive quadrature for kappa from 0 to 1e300.
type spreadRule struct {
	h, lo float64
	// x and w are the Gauss-Legendre nodes and weights on [0, 1].
	x, w [spreadNodes]float64
}

func newSpreadRule(V int) spreadRule {
	h := twoPi / float64(V)
	r := spreadRule{h: h, lo: -h / 2}
	quad.Legendre{}.FixedLocations(r.x[:], r.w[:], 0, 1)
	return r
}

// spreadSums holds the integrals of f, f cos c and f sin c.
type spreadSums struct{ f, cos, sin float64 }

// spreadArc is an arc of the range of c on which cos x, x = c + phi,
// falls away from its higher end x0: d in [0, length] is the distance
// from x0, alpha = |x0| in [0, pi] with alpha + length <= pi, and the
// shift at d is c = c0 + sign d.
type spreadArc struct{ alpha, length, sign, c0 float64 }

// integral returns log J(kappa, phi) = top + logRest, top = kappa times
// the largest cos(c + phi) on the range, and, if moments, the averages
// <cos c> and <sin c> over c in [lo, lo + h) with the weight
// exp(kappa cos(c + phi)) (else zeros). kappa must be >= 0.
func (r *spreadRule) integral(kappa, phi float64, moments bool) (top, logRest, meanCos, meanSin float64) {
	h, lo := r.h, r.lo
	a := wrapPi(phi + lo) // the range is x in [a, b], c = x - a + lo
	b := a + h
	// The arc of the highest end first; off = kappa (cos x0 - cos x1) >= 0
	// between the higher ends of the first and the second arc.
	var arcs [2]spreadArc
	n, off := 1, 0.0
	switch {
	case a < 0 && b > 0: // the maximum x = 0 inside: two arcs from 0
		top = kappa
		arcs[0] = spreadArc{0, -a, -1, lo - a}
		arcs[1] = spreadArc{0, b, 1, lo - a}
		n = 2
	case b > math.Pi: // the minimum x = pi inside: arcs from a and from b
		fromA := spreadArc{a, math.Pi - a, 1, lo}
		fromB := spreadArc{twoPi - b, b - math.Pi, -1, lo + h}
		// kappa (cos a - cos b) = 2 kappa sin((a+b)/2) sin(h/2).
		off = 2 * kappa * math.Sin((a+b)/2) * math.Sin(h/2)
		if off >= 0 {
			top, arcs[0], arcs[1] = kappa*math.Cos(a), fromA, fromB
		} else {
			top, arcs[0], arcs[1], off = kappa*math.Cos(b), fromB, fromA, -off
		}
		n = 2
	case a >= 0: // cos decreasing on [a, b]
		top = kappa * math.Cos(a)
		arcs[0] = spreadArc{a, h, 1, lo}
	default: // b <= 0: cos increasing on [a, b]
		top = kappa * math.Cos(b)
		arcs[0] = spreadArc{-b, h, -1, lo + h}
	}
	s := r.arc(kappa, arcs[0], moments)
	if e := math.Exp(-off); n == 2 && arcs[1].length*e > spreadTail*s.f {
		t := r.arc(kappa, arcs[1], moments)
		s.f += e * t.f
		s.cos += e * t.cos
		s.sin += e * t.sin
	}
	if moments {
		meanCos, meanSin = s.cos/s.f, s.sin/s.f
	}
	return top, math.Log(s.f), meanCos, meanSin
}

// arc returns the integrals over d in [0, arc.length] of f = exp(-u(d)),
// u(d) = 2 kappa sin(alpha + d/2) sin(d/2) = kappa (cos x0 - cos x), and,
// if moments, of f cos c and f sin c.
func (r *spreadRule) arc(kappa float64, arc spreadArc, moments bool) spreadSums {
	alpha, length := arc.alpha, arc.length
	uEnd := 2 * kappa * math.Sin(alpha+length/2) * math.Sin(length/2)
	// u(d) = 2 kappa (sin^2((alpha+d)/2) - sin^2(alpha/2)); with
	// S = sin^2(alpha/2), C = cos^2(alpha/2) and delta = u/(2 kappa),
	// sin(d/2) = delta / (sqrt((S+delta) C) + sqrt(S (C-delta))).
	sh, ch := math.Sincos(alpha / 2)
	S, C := sh*sh, ch*ch
	var s spreadSums
	d0, t := 0.0, float64(spreadFirstU)
	for {
		// The panel [d0, d1] ends where u reaches t, or at the end.
		d1, last := length, true
		if t < uEnd {
			delta := t / (2 * kappa)
			y := delta / (math.Sqrt((S+delta)*C) + math.Sqrt(S*max(C-delta, 0)))
			d1 = min(max(2*math.Asin(min(y, 1)), d0), length)
			last = false
		}
		w := d1 - d0
		for k, xk := range r.x {
			d := d0 + w*xk
			f := r.w[k] * w * math.Exp(-2*kappa*math.Sin(alpha+d/2)*math.Sin(d/2))
			s.f += f
			if moments {
				sn, cs := math.Sincos(arc.c0 + arc.sign*d)
				s.cos += f * cs
				s.sin += f * sn
			}
		}
		// Beyond d1, u > t: the rest is below (length - d1) exp(-t).
		if last || (length-d1)*math.Exp(-t) <= spreadTail*s.f {
			return s
		}
		d0, t = d1, 2*t
	}
}

// spreadShift returns the shift c = s/V of ConstraintSpread for the sum
// of the V drawn plaquettes, s = sum wrapped into [-pi, pi).
func spreadShift(sum float64, V int) float64 { return wrapPi(sum) / float64(V) }

// spreadPlaquettesTo draws the V plaquettes of ConstraintSpread into plaq
// (step 2 of PlaquetteProposal.SampleTo), shifts them by c and returns
// log q of the result.
func (p *PlaquetteProposal) spreadPlaquettesTo(plaq []float64, rng *rand.Rand) float64 {
	sum, sumCos, sumSin := 0.0, 0.0, 0.0
	for n := range plaq {
		x, c, s := p.vm.draw(rng)
		plaq[n] = x
		sum += x
		sumCos += c
		sumSin += s
	}
	c := spreadShift(sum, len(plaq))
	for n := range plaq {
		plaq[n] -= c
	}
	// sum_n exp(i (P(n) - c)) = exp(-i c) sum_n exp(i P(n)).
	return p.spreadLogDensity(sumCos, sumSin, -c)
}

// spreadLogDensity returns log q of ConstraintSpread for plaquettes with
// sum_n exp(i P(n)) = exp(i rot) (sumCos + i sumSin).
func (p *PlaquetteProposal) spreadLogDensity(sumCos, sumSin, rot float64) float64 {
	top, rest, _, _ := p.spread.integral(p.beta*math.Hypot(sumCos, sumSin), math.Atan2(sumSin, sumCos)+rot, false)
	return p.logNorm + top + rest
}
