package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Finite-difference checks: central differences with step fdStep on every
// coordinate; the error is max_j |fd_j - ad_j| / max_j |ad_j| (relative to
// the largest gradient component, so that near-zero components are not
// divided by themselves). For the linear convolution the FD error is pure
// rounding, ~1e-16 * |f| / fdStep ~ 1e-9; for tanh the truncation error is
// ~fdStep^2 ~ 1e-12.
const (
	fdStep = 1e-6
	fdTol  = 1e-6
)

// fdFunc evaluates a scalar function of the (perturbed in place) input. The
// pattern identifies the branch of every piecewise-linear activation; a
// coordinate whose perturbation changes it straddles a kink of LeakyReLU and
// is skipped.
type fdFunc func() (value float64, pattern string)

// fdRelErr compares grad with central differences of f along each
// coordinate of x, which f reads. It returns the relative error and the
// number of skipped coordinates. It leaves x, and f evaluated, at the
// unperturbed point.
func fdRelErr(x []float64, f fdFunc, grad []float64) (relErr float64, skipped int) {
	_, p0 := f()
	var num, den float64
	for j := range x {
		old := x[j]
		x[j] = old + fdStep
		fp, pp := f()
		x[j] = old - fdStep
		fm, pm := f()
		x[j] = old
		den = math.Max(den, math.Abs(grad[j]))
		if pp != p0 || pm != p0 {
			skipped++
			continue
		}
		fd := (fp - fm) / (2 * fdStep)
		num = math.Max(num, math.Abs(fd-grad[j]))
	}
	f() // leave f's outputs at the unperturbed point
	if den == 0 {
		return num, skipped
	}
	return num / den, skipped
}

// fdLog records the largest FD error of the test run, for the log.
type fdLog struct {
	t       *testing.T
	max     float64
	skipped int
}

func (l *fdLog) check(name string, x []float64, f fdFunc, grad []float64) {
	l.t.Helper()
	err, skipped := fdRelErr(x, f, grad)
	l.max = math.Max(l.max, err)
	l.skipped += skipped
	if err > fdTol {
		l.t.Errorf("%s: got FD relative error %.3g, want <= %.3g", name, err, fdTol)
	}
	if skipped > len(x)/10 {
		l.t.Errorf("%s: got %d of %d coordinates at a kink, want <= %d", name, skipped, len(x), len(x)/10)
	}
}

func (l *fdLog) report() {
	l.t.Logf("largest FD relative error %.3g (%d coordinates skipped at kinks)", l.max, l.skipped)
}

func randVec(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	return x
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
