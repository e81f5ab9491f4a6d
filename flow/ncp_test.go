package flow

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

const (
	// ncpFDStep is the central finite-difference step of the NCP tests.
	ncpFDStep = 1e-6
	// ncpFDTol is the relative tolerance of NCP derivatives against finite
	// differences (scaled by max(1, |value|)).
	ncpFDTol = 1e-6
	// ncpRoundTripTol is the absolute tolerance of x = g^-1(g(x)).
	ncpRoundTripTol = 1e-10
	// ncpInverseResidualTol is the absolute tolerance of the residual
	// g(g^-1(v)) - v for log-scales in [-5, 5] (g' <= e^5, so a few
	// rounding units of x move g by about 1e-13).
	ncpInverseResidualTol = 1e-12
)

// ncpRandomScales returns K log-scales uniform in [-smax, smax] and their
// exponentials.
func ncpRandomScales(rng *rand.Rand, K int, smax float64) (s, es []float64) {
	s = make([]float64, K)
	es = make([]float64, K)
	for k := range s {
		s[k] = smax * (2*rng.Float64() - 1)
		es[k] = math.Exp(s[k])
	}
	return s, es
}

// ncpMean returns the mean of s.
func ncpMean(s []float64) float64 {
	m := 0.0
	for _, v := range s {
		m += v
	}
	return m / float64(len(s))
}

func ncpExp(s []float64) []float64 {
	es := make([]float64, len(s))
	for k, v := range s {
		es[k] = math.Exp(v)
	}
	return es
}

// ncpRelErr is |got - want| / max(1, |want|).
func ncpRelErr(got, want float64) float64 {
	return math.Abs(got-want) / math.Max(1, math.Abs(want))
}

func TestNCPDerivativesFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	h := ncpFDStep
	for _, K := range []int{1, 2, 6} {
		for trial := range 20 {
			s, es := ncpRandomScales(rng, K, 4)
			x := 0.01 + (turn-0.02)*rng.Float64()
			if trial == 0 {
				x = 1e-3
			} else if trial == 1 {
				x = turn - 1e-3
			}
			name := fmt.Sprintf("K=%d/trial=%d", K, trial)
			dgds, ddgds := make([]float64, K), make([]float64, K)
			g, dg, ddg := ncpEval(dgds, ddgds, x, es)
			gv, dgv := ncpValue(x, es)
			if ncpRelErr(gv, g) > 1e-14 || ncpRelErr(dgv, dg) > 1e-14 {
				t.Errorf("%s: ncpValue got (%v, %v), want ncpEval's (%v, %v)", name, gv, dgv, g, dg)
			}
			gp, dgp := ncpValue(x+h, es)
			gm, dgm := ncpValue(x-h, es)
			if e := ncpRelErr(dg, (gp-gm)/(2*h)); e > ncpFDTol {
				t.Errorf("%s: g'(%v) got %v, want FD %v (rel err %.2g)", name, x, dg, (gp-gm)/(2*h), e)
			}
			if e := ncpRelErr(ddg, (dgp-dgm)/(2*h)); e > ncpFDTol {
				t.Errorf("%s: dg'/dx(%v) got %v, want FD %v (rel err %.2g)", name, x, ddg, (dgp-dgm)/(2*h), e)
			}
			for k := range K {
				sp := append([]float64(nil), s...)
				sm := append([]float64(nil), s...)
				sp[k] += h
				sm[k] -= h
				gp, dgp := ncpValue(x, ncpExp(sp))
				gm, dgm := ncpValue(x, ncpExp(sm))
				if e := ncpRelErr(dgds[k], (gp-gm)/(2*h)); e > ncpFDTol {
					t.Errorf("%s: dg/ds_%d got %v, want FD %v (rel err %.2g)", name, k, dgds[k], (gp-gm)/(2*h), e)
				}
				if e := ncpRelErr(ddgds[k], (dgp-dgm)/(2*h)); e > ncpFDTol {
					t.Errorf("%s: dg'/ds_%d got %v, want FD %v (rel err %.2g)", name, k, ddgds[k], (dgp-dgm)/(2*h), e)
				}
			}
		}
	}
}

// TestNCPRange checks that the mixture is an increasing bijection of
// [0, 2pi) with g(0) = 0 and g(2pi) = 2pi, also for large log-scales.
func TestNCPRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 2000
	for _, smax := range []float64{1, 5, 10} {
		_, es := ncpRandomScales(rng, 4, smax)
		prev := -1.0
		for i := 0; i <= n; i++ {
			x := turn * float64(i) / n
			g, dg := ncpValue(x, es)
			if !(g > prev) || dg <= 0 || math.IsInf(dg, 0) {
				t.Fatalf("smax=%v: g(%v) = %v, g' = %v after g = %v: want increasing and finite", smax, x, g, dg, prev)
			}
			prev = g
		}
		if g, _ := ncpValue(0, es); g != 0 {
			t.Errorf("smax=%v: g(0) got %v, want 0", smax, g)
		}
		// turn is 2pi rounded down by about 2.4e-16; g moves that by g'.
		if g, dg := ncpValue(turn, es); math.Abs(g-turn) > 1e-15*(1+dg) {
			t.Errorf("smax=%v: g(2pi) got %v, want 2pi to within 1e-15 (1 + g') = %.2g", smax, g, 1e-15*(1+dg))
		}
	}
}

func TestNCPInverse(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 3))
	edges := []float64{0, 1e-12, 1e-10, 5e-10, 1e-9, math.Pi, turn - 1e-9, turn - 5e-10, turn - 1e-10}
	worst, worstR := 0.0, 0.0
	for _, K := range []int{1, 2, 6} {
		for trial := range 200 {
			s, es := ncpRandomScales(rng, K, 5)
			x := turn * rng.Float64()
			if trial < len(edges) {
				x = edges[trial]
			}
			v, _ := ncpValue(x, es)
			got, err := ncpInverse(v, ncpMean(s), es, ncpMaxIter)
			if err != nil {
				t.Fatalf("K=%d/trial=%d: x=%v: %v", K, trial, x, err)
			}
			e := math.Abs(got - x)
			worst = math.Max(worst, e)
			if e > ncpRoundTripTol {
				t.Errorf("K=%d/trial=%d: inverse(g(%v)) got %v, want %v (error %.2g)", K, trial, x, got, x, e)
			}
			gi, _ := ncpValue(got, es)
			r := math.Abs(gi - v)
			worstR = math.Max(worstR, r)
			if r > ncpInverseResidualTol {
				t.Errorf("K=%d/trial=%d: g(inverse(%v)) got %v, want %v (residual %.2g)", K, trial, v, gi, v, r)
			}
		}
	}
	t.Logf("largest round-trip error %.2g, largest residual %.2g", worst, worstR)

	t.Run("NaN", func(t *testing.T) {
		s, es := ncpRandomScales(rng, 3, 2)
		_, err := ncpInverse(math.NaN(), ncpMean(s), es, ncpMaxIter)
		if err == nil || !strings.Contains(err.Error(), "did not converge") {
			t.Errorf("got error %v, want a convergence error", err)
		}
	})
	t.Run("maxIter=1", func(t *testing.T) {
		s := []float64{-4, 0.5, 4}
		es := ncpExp(s)
		v, _ := ncpValue(2, es)
		_, err := ncpInverse(v, ncpMean(s), es, 1)
		if err == nil || !strings.Contains(err.Error(), "after 1 iterations") {
			t.Errorf("got error %v, want a convergence error after 1 iteration", err)
		}
	})
}

// ncpBatchTol is the relative tolerance of the batched NCP functions
// against the scalar ones: both do the same arithmetic, apart from the
// vectorized transcendental functions (vmath, within 2 ULP of package
// math), which move the results by a few rounding units.
const ncpBatchTol = 1e-13

// TestNCPBatchMatchesScalar checks ncpValues and ncpSlopesBatch against
// ncpEval and ncpInverseBatch against ncpInverse, angle by angle, for
// m = 13 angles (not a multiple of the vector width) and K = 1, 2, 6.
func TestNCPBatchMatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 1))
	const m = 13
	for _, K := range []int{1, 2, 6} {
		t.Run(fmt.Sprintf("K=%d", K), func(t *testing.T) {
			s := make([][]float64, m) // s[i][k]
			e := make([]float64, K*m)
			x, half, sn, cs := make([]float64, m), make([]float64, m), make([]float64, m), make([]float64, m)
			for i := range m {
				s[i], _ = ncpRandomScales(rng, K, 4)
				for k, v := range s[i] {
					e[k*m+i] = math.Exp(v)
				}
				x[i] = turn * rng.Float64()
				half[i] = 0.5 * x[i]
				sn[i], cs[i] = math.Sincos(half[i])
			}
			g, h := make([]float64, m), make([]float64, K*m)
			dg, dlg, dgds, dlgds := make([]float64, m), make([]float64, m), make([]float64, K*m), make([]float64, K*m)
			ncpValues(g, h, e, sn, cs, K)
			ncpSlopesBatch(dg, dlg, dgds, dlgds, e, sn, cs, K)
			for i := range m {
				es := ncpExp(s[i])
				wdgds, wddgds := make([]float64, K), make([]float64, K)
				wg, wdg, wddg := ncpEval(wdgds, wddgds, x[i], es)
				check := func(name string, got, want float64) {
					if e := ncpRelErr(got, want); e > ncpBatchTol {
						t.Errorf("angle %d: %s: got %v, want %v (rel err %.2g)", i, name, got, want, e)
					}
				}
				check("g", g[i], wg)
				check("g'", dg[i], wdg)
				check("d log g'/dx", dlg[i], wddg/wdg)
				for k := range K {
					check(fmt.Sprintf("dg/ds_%d", k), dgds[k*m+i], wdgds[k])
					check(fmt.Sprintf("d log g'/ds_%d", k), dlgds[k*m+i], wddgds[k]/wdg)
				}
			}
			// Inverse: the targets g(x), solved together.
			v, sMean, root := make([]float64, m), make([]float64, m), make([]float64, m)
			for i := range m {
				v[i], _ = ncpValue(x[i], ncpExp(s[i]))
				if v[i] >= turn {
					v[i] = 0
				}
				sMean[i] = ncpMean(s[i])
			}
			lo, hi, idx := make([]float64, m), make([]float64, m), make([]int32, m)
			if i, err := ncpInverseBatch(root, v, sMean, e, K, ncpMaxIter, lo, hi, sn, cs, h, idx); err != nil {
				t.Fatalf("angle %d: %v", i, err)
			}
			for i := range m {
				want, err := ncpInverse(v[i], sMean[i], ncpExp(s[i]), ncpMaxIter)
				if err != nil {
					t.Fatalf("angle %d: ncpInverse: %v", i, err)
				}
				if d := math.Abs(root[i] - want); d > ncpRoundTripTol {
					t.Errorf("angle %d: root got %v, want ncpInverse's %v", i, root[i], want)
				}
				if d := math.Abs(root[i] - x[i]); d > ncpRoundTripTol && math.Abs(d-turn) > ncpRoundTripTol {
					t.Errorf("angle %d: root got %v, want x = %v", i, root[i], x[i])
				}
			}
		})
	}
}

// TestNCPInverseBatchErrors checks that a NaN target and too few
// iterations fail with ncpInverse's errors, naming the first failing lane.
func TestNCPInverseBatchErrors(t *testing.T) {
	const m, K = 5, 3
	rng := rand.New(rand.NewPCG(8, 1))
	s, _ := ncpRandomScales(rng, K, 2)
	e := make([]float64, K*m)
	for k, v := range s {
		for i := range m {
			e[k*m+i] = math.Exp(v)
		}
	}
	sMean := []float64{ncpMean(s), ncpMean(s), ncpMean(s), ncpMean(s), ncpMean(s)}
	scratch := func() (x, lo, hi, sn, cs, h []float64, idx []int32) {
		return make([]float64, m), make([]float64, m), make([]float64, m), make([]float64, m), make([]float64, m), make([]float64, K*m), make([]int32, m)
	}
	x, lo, hi, sn, cs, h, idx := scratch()
	v := []float64{1, 2, math.NaN(), 3, math.NaN()}
	i, err := ncpInverseBatch(x, v, sMean, e, K, ncpMaxIter, lo, hi, sn, cs, h, idx)
	if err == nil || i != 2 || !strings.Contains(err.Error(), "did not converge") {
		t.Errorf("NaN target: got lane %d, error %v, want lane 2 and a convergence error", i, err)
	}
	x, lo, hi, sn, cs, h, idx = scratch()
	v = []float64{1, 2, 2.5, 3, 4}
	i, err = ncpInverseBatch(x, v, sMean, e, K, 1, lo, hi, sn, cs, h, idx)
	_, want := ncpInverse(v[0], sMean[0], ncpExp(s), 1)
	if err == nil || i != 0 || want == nil {
		t.Errorf("one iteration: got lane %d, error %v, want lane 0 and an error as ncpInverse's %v", i, err, want)
	}
}
