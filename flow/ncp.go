package flow

import (
	"fmt"
	"math"

	"latflow/internal/vmath"
)

// The mixture of non-compact projections (NCP) of Kanwar et al.
// (arXiv 2003.06413, Albergo et al. arXiv 2101.08176) acts on one angle x in
// [0, 2pi). One component with log-scale s is
//
//	h_s(x) = 2 atan(exp(s) tan(x/2)),
//
// continued to a monotone bijection of [0, 2pi) with h_s(0) = 0 and
// h_s(2pi) = 2pi. It is evaluated in the half-angle form
// h_s(x) = 2 atan2(exp(s) sin(x/2), cos(x/2)): for x/2 in [0, pi) the sine
// is >= 0, so atan2 lies in [0, pi] without a branch, and nothing overflows
// near x = pi where tan(x/2) would. With c = cos(x/2), n = sin(x/2),
// e = exp(s) and D = c^2/e + e n^2:
//
//	h'      = 1/D,
//	dh'/dx  = -(e - 1/e) n c / D^2 = -sinh(s) sin(x) / D^2,
//	dh/ds   = 2 n c / D = sin(x) / D,
//	dh'/ds  = -(e n^2 - c^2/e) / D^2.
//
// The mixture of K components is g(x) = (1/K) sum_k h_{s_k}(x); the coupling
// layer adds a shift t modulo 2pi. The functions below take e_k = exp(s_k),
// which the caller computes once per angle.

const (
	// turn is one full turn, 2pi; angles are wrapped modulo this value.
	turn = 2 * math.Pi
	// ncpInverseTol is the relative tolerance of the NCP inverse on x: it
	// stops when a Newton step or the bracket is smaller than
	// ncpInverseTol*max(1, x), a few rounding units of x, so that both
	// x and g(x) are as accurate as float64 allows (an absolute tolerance
	// of 1e-12 on x would leave an error of 1e-12 g' on g(x), up to 1e-8 at
	// |s| = 10).
	ncpInverseTol = 4 * 0x1p-52
	// ncpResidualTol is the residual |g(x) - v| at which the NCP inverse
	// stops because the residual has reached the rounding level of g;
	// this ends the search where g' is tiny and Newton steps are noise.
	ncpResidualTol = 16 * 0x1p-52 * turn
	// ncpMaxIter bounds the iterations of the NCP inverse.
	ncpMaxIter = 100
)

// ncpValue returns the mixture g(x) and its derivative g'(x) at x in
// [0, 2pi] for the scales es[k] = exp(s_k).
func ncpValue(x float64, es []float64) (g, dg float64) {
	n, c := math.Sincos(0.5 * x)
	c2, n2 := c*c, n*n
	for _, e := range es {
		g += math.Atan2(e*n, c)
		dg += 1 / (c2/e + e*n2)
	}
	k := 1 / float64(len(es))
	return 2 * k * g, k * dg
}

// ncpEval returns g(x), g'(x) and dg'/dx at x in [0, 2pi] for the scales
// es[k] = exp(s_k), and writes dg/ds_k into dgds and dg'/ds_k into ddgds
// (both of len(es)).
func ncpEval(dgds, ddgds []float64, x float64, es []float64) (g, dg, ddg float64) {
	n, c := math.Sincos(0.5 * x)
	for _, e := range es {
		g += math.Atan2(e*n, c)
	}
	dg, ddg = ncpSlopes(dgds, ddgds, n, c, es)
	return 2 * g / float64(len(es)), dg, ddg
}

// ncpSlopes is ncpEval without g(x), from n = sin(x/2) and c = cos(x/2).
func ncpSlopes(dgds, ddgds []float64, n, c float64, es []float64) (dg, ddg float64) {
	c2, n2, sx := c*c, n*n, 2*n*c
	k := 1 / float64(len(es))
	dgds, ddgds = dgds[:len(es)], ddgds[:len(es)]
	for i, e := range es {
		ie := 1 / e
		a, b := c2*ie, e*n2
		d := 1 / (a + b) // h'
		d2 := d * d
		dg += d
		ddg -= (e - ie) * n * c * d2
		dgds[i] = k * sx * d
		ddgds[i] = k * (a - b) * d2
	}
	return k * dg, k * ddg
}

// ncpInverse returns the x in [0, 2pi] with g(x) = v for v in [0, 2pi),
// the scales es[k] = exp(s_k) and their mean log-scale sMean. It runs Newton's method safeguarded by a
// bisection bracket (g is increasing with g(0) = 0 and g(2pi) = 2pi) for at
// most maxIter iterations and returns an error if it has not converged or if
// the residual is not finite.
func ncpInverse(v, sMean float64, es []float64, maxIter int) (float64, error) {
	// Start from the exact inverse of one component with the mean
	// log-scale: h_s^-1 = h_-s.
	n, c := math.Sincos(0.5 * v)
	x := 2 * math.Atan2(math.Exp(-sMean)*n, c)
	lo, hi := 0.0, turn
	r := math.NaN()
	for it := 1; it <= maxIter; it++ {
		g, dg := ncpValue(x, es)
		r = g - v
		switch {
		case math.IsNaN(r) || math.IsInf(r, 0):
			return x, fmt.Errorf("flow: NCP inverse did not converge after %d iterations (residual %g)", it, r)
		case r == 0:
			return x, nil
		case r < 0:
			lo = x
		default:
			hi = x
		}
		step := r / dg
		xn := x - step
		tol := ncpInverseTol * max(1, x)
		if math.Abs(step) <= tol || math.Abs(r) <= ncpResidualTol {
			// Newton has converged, or the residual is at the rounding
			// level of g: the Newton point is the best estimate.
			return min(max(xn, 0), turn), nil
		}
		if !(xn > lo && xn < hi) {
			xn = 0.5 * (lo + hi)
			if hi-lo <= tol {
				return xn, nil
			}
		}
		x = xn
	}
	return x, fmt.Errorf("flow: NCP inverse did not converge after %d iterations (residual %g)", maxIter, math.Abs(r))
}

// The batched forms below evaluate the mixture at m angles at once, with
// the transcendental functions of package vmath on whole slices. The
// scales are k-major: e[k*m+i] = exp(s_k) of angle i, so that every slice
// handed to vmath is contiguous. Given the same half-angle sines and
// cosines and scales they do the arithmetic of ncpEval and ncpSlopes.

// ncpValues writes the mixture g[i] = (2/K) sum_k atan2(e_k n_i, c_i) for
// the half-angle sines sn and cosines cs of m = len(g) angles and the
// scales e (K*m, k-major); h (K*m) is scratch. Components are summed in
// pairs (ncpPairAngles): one atan2 per pair.
func ncpValues(g, h, e, sn, cs []float64, K int) {
	m := len(g)
	ncpPairAngles(h, e, sn, cs, K, m, nil)
	np := (K + 1) / 2
	for i := range g {
		var sum float64
		for k := range np {
			sum += h[k*m+i]
		}
		g[i] = 2 * sum / float64(K)
	}
}

// ncpPairAngles writes into h[j*m+i], j < (K+1)/2, the sum of the angles
// atan2(e_k n, c) of components k = 2j and 2j+1 of lane i (the last one
// alone for odd K), for m lanes with half-angle sines sn and cosines cs
// and scales e (K*m, k-major, lane idx[i] of M = len(e)/K lanes if idx is
// not nil). Each angle lies in [0, pi] because e_k n >= 0, so the sum of
// a pair is the argument of (c + i a)(c + i b) = (c^2 - ab) + i (a + b) c,
// a = e_k n, b = e_{k+1} n, taken in [0, 2pi): atan2, plus 2pi where its
// sign bit is set. h needs K*m elements: the real parts go to its upper
// half before the atan2 overwrites them.
func ncpPairAngles(h, e, sn, cs []float64, K, m int, idx []int32) {
	sn, cs = sn[:m], cs[:m]
	M := len(e) / K
	pairs := K / 2
	for j := range pairs {
		im, re := h[j*m:(j+1)*m], h[(pairs+j)*m:(pairs+j+1)*m]
		ea, eb := e[2*j*M:(2*j+1)*M], e[(2*j+1)*M:(2*j+2)*M]
		if idx == nil {
			ea, eb = ea[:m], eb[:m]
			for i := range im {
				n, c := sn[i], cs[i]
				a, b := ea[i]*n, eb[i]*n
				im[i] = (a + b) * c
				re[i] = c*c - a*b
			}
		} else {
			for i, l := range idx[:m] {
				n, c := sn[i], cs[i]
				a, b := ea[l]*n, eb[l]*n
				im[i] = (a + b) * c
				re[i] = c*c - a*b
			}
		}
		vmath.Atan2(im, im, re)
		for i, v := range im {
			if math.Signbit(v) {
				im[i] = v + turn
			}
		}
	}
	if K%2 == 1 {
		last, el := h[pairs*m:(pairs+1)*m], e[(K-1)*M:K*M]
		for i := range last {
			l := i
			if idx != nil {
				l = int(idx[i])
			}
			last[i] = el[l] * sn[i]
		}
		vmath.Atan2(last, last, cs)
	}
}

// ncpSlopesBatch writes, for m = len(dg) angles with half-angle sines sn
// and cosines cs and scales e (K*m, k-major), dg[i] = g', dlg[i] =
// (dg'/dx)/g', dgds[k*m+i] = dg/ds_k and dlgds[k*m+i] = (dg'/ds_k)/g'
// (ncpSlopes, with the last two divided by g' as the coupling layer keeps
// them). dgds may be e.
//
// With q = 1/(c^2 + (e n)^2), so that h' = 1/(c^2/e + e n^2) = e q, one
// division per component gives
//
//	dh'/dx  = -(e - 1/e) n c h'^2 = -(e^2 - 1) n c h' q,
//	dh'/ds  = (c^2/e - e n^2) h'^2 = (c^2 - (e n)^2) h' q;
//
// for scales beyond ncpScaleLimit, where (e n)^2 could overflow, the
// forms of ncpSlopes are used.
func ncpSlopesBatch(dg, dlg, dgds, dlgds, e, sn, cs []float64, K int) {
	m := len(dg)
	kk := 1 / float64(K)
	dlg, sn, cs = dlg[:m], sn[:m], cs[:m]
	e, dgds, dlgds = e[:K*m], dgds[:K*m], dlgds[:K*m]
	for i := range dg {
		n, c := sn[i], cs[i]
		c2, nc, sx := c*c, n*c, 2*n*c
		var g1, g2 float64
		for k := range K {
			j := k*m + i
			ek := e[j]
			var d, ddg, dds float64
			if ek < ncpScaleLimit && ek > 1/ncpScaleLimit {
				en := ek * n
				en2 := en * en
				q := 1 / (c2 + en2)
				d = ek * q // h'
				dq := d * q
				ddg = (ek*ek - 1) * nc * dq
				dds = (c2 - en2) * dq
			} else {
				ie := 1 / ek
				a, b := c2*ie, ek*n*n
				d = 1 / (a + b)
				d2 := d * d
				ddg = (ek - ie) * nc * d2
				dds = (a - b) * d2
			}
			g1 += d
			g2 -= ddg
			dgds[j] = kk * sx * d
			dlgds[j] = kk * dds
		}
		g1, g2 = kk*g1, kk*g2
		inv := 1 / g1
		for k := range K {
			dlgds[k*m+i] *= inv
		}
		dg[i], dlg[i] = g1, g2*inv
	}
}

// ncpScaleLimit bounds the scales e = exp(s) for which ncpSlopesBatch uses
// one division: (e n)^2 stays finite for e < 2^500.
const ncpScaleLimit = 0x1p500

// ncpInverseBatch solves g_i(x[i]) = v[i] for m = len(x) angles with
// v[i] in [0, 2pi), the scales e (K*m, k-major) and the mean log-scales
// sMean, by the iteration of ncpInverse lane by lane: the same start,
// safeguarded Newton steps, bracket and stopping rules, with the mixture of
// the lanes still iterating evaluated together. lo, hi, sn and cs (m) and
// h (K*m) are scratch, active (m) holds the indices of those lanes; v and
// sMean are not modified and may not alias x. On failure it returns the
// smallest index of a failing lane and the error of ncpInverse for it; x is
// then only partly solved.
func ncpInverseBatch(x, v, sMean, e []float64, K, maxIter int, lo, hi, sn, cs, h []float64, active []int32) (int, error) {
	m := len(x)
	v, sMean, lo, hi, sn, cs = v[:m], sMean[:m], lo[:m], hi[:m], sn[:m], cs[:m]
	e, h, active = e[:K*m], h[:K*m], active[:m]
	// Start from the exact inverse of one component with the mean
	// log-scale: h_s^-1 = h_-s, x = 2 atan2(exp(-sMean) sin(v/2), cos(v/2)).
	t := h[:m]
	for i, s := range sMean {
		t[i] = -s
		sn[i] = 0.5 * v[i]
	}
	vmath.Exp(t, t)
	vmath.Sincos(sn, cs, sn)
	for i := range t {
		t[i] *= sn[i]
	}
	vmath.Atan2(x, t, cs)
	for i := range x {
		x[i] *= 2
		lo[i], hi[i] = 0, turn
		active[i] = int32(i)
	}
	fail, failIt, failR := m, 0, 0.0
	kk := float64(K)
	for it := 1; it <= maxIter && len(active) > 0; it++ {
		mu := len(active)
		sn, cs := sn[:mu], cs[:mu]
		for j, i := range active {
			sn[j] = 0.5 * x[i]
		}
		vmath.Sincos(sn, cs, sn)
		ncpPairAngles(h, e, sn, cs, K, mu, active)
		kept := 0
		for j, i := range active {
			n, c := sn[j], cs[j]
			c2, n2 := c*c, n*n
			var sum, dsum float64
			for k := range (K + 1) / 2 {
				sum += h[k*mu+j]
			}
			for k := range K {
				ek := e[k*m+int(i)]
				dsum += 1 / (c2/ek + ek*n2)
			}
			xi := x[i]
			r := 2*sum/kk - v[i]
			dg := dsum / kk
			switch {
			case math.IsNaN(r) || math.IsInf(r, 0):
				if int(i) < fail {
					fail, failIt, failR = int(i), it, r
				}
				continue
			case r == 0:
				continue
			case r < 0:
				lo[i] = xi
			default:
				hi[i] = xi
			}
			step := r / dg
			xn := xi - step
			tol := ncpInverseTol * max(1, xi)
			if math.Abs(step) <= tol || math.Abs(r) <= ncpResidualTol {
				x[i] = min(max(xn, 0), turn)
				continue
			}
			if !(xn > lo[i] && xn < hi[i]) {
				xn = 0.5 * (lo[i] + hi[i])
				if hi[i]-lo[i] <= tol {
					x[i] = xn
					continue
				}
			}
			x[i] = xn
			// Still iterating: if this was the last iteration, ncpInverse
			// reports the residual of this step.
			if it == maxIter && int(i) < fail {
				fail, failIt, failR = int(i), maxIter, math.Abs(r)
			}
			active[kept] = i
			kept++
		}
		active = active[:kept]
	}
	if fail < m {
		return fail, fmt.Errorf("flow: NCP inverse did not converge after %d iterations (residual %g)", failIt, failR)
	}
	return 0, nil
}
