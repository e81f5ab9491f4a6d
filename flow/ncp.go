package flow

import (
	"fmt"
	"math"
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
