package observables_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"latflow/observables"
)

// TestLogZGaussian: q = N(0, 1), p~(x) = exp(-x^2/(2 s^2)) with s = 0.8, so
// Z = sqrt(2 pi) s exactly; the estimate must agree within 3 sigma, and its
// jackknife error must match the delta-method error sqrt(Var(w)/n)/E[w],
// E[w^2] = sqrt(2 pi) sqrt(pi / (1/s^2 - 1/2)).
func TestLogZGaussian(t *testing.T) {
	const (
		s = 0.8
		// errTol is the allowed relative deviation of the jackknife error
		// (from 40 blocks) from the exact asymptotic one.
		errTol = 0.35
	)
	exact := math.Log(math.Sqrt(2*math.Pi) * s)
	ew2 := math.Sqrt(2*math.Pi) * math.Sqrt(math.Pi/(1/(s*s)-0.5))
	relVar := ew2/math.Exp(2*exact) - 1
	rng := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{4000, 16000} {
		logw := make([]float64, n)
		for i := range logw {
			x := rng.NormFloat64()
			logq := -x*x/2 - 0.5*math.Log(2*math.Pi)
			logw[i] = -x*x/(2*s*s) - logq
		}
		v, e, err := observables.LogZ(logw, 40)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(v-exact) > 3*e {
			t.Errorf("n=%d: got log Z %.5f +- %.5f, want %.5f", n, v, e, exact)
		}
		if want := math.Sqrt(relVar / float64(n)); math.Abs(e/want-1) > errTol {
			t.Errorf("n=%d: got error %.4g, want %.4g within %g%%", n, e, want, 100*errTol)
		}
	}
	if _, _, err := observables.LogZ([]float64{1}, 20); err == nil {
		t.Errorf("one sample: got no error, want one")
	}
	if _, _, err := observables.LogZ([]float64{1, math.NaN(), 2}, 2); err == nil {
		t.Errorf("NaN weight: got no error, want one")
	}
}

func TestLongestRun(t *testing.T) {
	for _, c := range []struct {
		acc  []bool
		want int
	}{
		{nil, 0},
		{[]bool{true, true}, 0},
		{[]bool{false}, 1},
		{[]bool{true, false, false, true, false, false, false, true, false}, 3},
	} {
		if got := observables.LongestRun(c.acc); got != c.want {
			t.Errorf("LongestRun(%v): got %d, want %d", c.acc, got, c.want)
		}
	}
}

// TestLogZHeavyTail: one weight dominates all others by e^1000; the error
// is finite (leaving its block out must not underflow to log 0).
func TestLogZHeavyTail(t *testing.T) {
	logw := make([]float64, 1000)
	for i := range logw {
		logw[i] = -1000
	}
	logw[17] = 0
	v, e, err := observables.LogZ(logw, 50)
	if err != nil {
		t.Fatal(err)
	}
	if want := -math.Log(1000); math.Abs(v-want) > 1e-12 || math.IsNaN(e) || math.IsInf(e, 0) || e < 100 {
		t.Errorf("got %v +- %v, want %v with a large finite error", v, e, want)
	}
}

// TestIMHSummaryNotes: weights dominated by a few proposals get a note that
// the log Z error is not reliable; equal-ish weights get none.
func TestIMHSummaryNotes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	n := 2000
	for _, c := range []struct {
		sd   float64 // of the log weights
		note bool
	}{{0.1, false}, {12, true}} {
		lw := make([]float64, n)
		acc := make([]bool, n)
		for i := range lw {
			lw[i] = c.sd * rng.NormFloat64()
			acc[i] = i%2 == 0
		}
		s, err := observables.SummarizeIMH([][]float64{lw}, [][]bool{acc}, math.NaN())
		if err != nil {
			t.Fatal(err)
		}
		eff := s.ESS * float64(s.Proposals)
		if got := len(s.Notes()) == 1; got != c.note || (c.note != (eff < observables.MinEffectiveSamples)) {
			t.Errorf("log weights of sd %v (%.3g effective samples): notes %q, want a note: %v", c.sd, eff, s.Notes(), c.note)
		}
	}
}
