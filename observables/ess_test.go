package observables

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestESSUniformWeights(t *testing.T) {
	logw := []float64{3.5, 3.5, 3.5, 3.5}
	if got := ReverseESS(logw); math.Abs(got-1) > 1e-15 {
		t.Errorf("ReverseESS of equal weights: got %g, want 1", got)
	}
	if got := ForwardESS(logw); math.Abs(got-1) > 1e-15 {
		t.Errorf("ForwardESS of equal weights: got %g, want 1", got)
	}
}

// TestESSDirect compares with the defining formulas evaluated directly on
// moderate weights, and checks that huge log weights do not overflow.
func TestESSDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 0))
	logw := make([]float64, 100)
	var s1, s2, sinv float64
	for i := range logw {
		logw[i] = rng.NormFloat64()
		w := math.Exp(logw[i])
		s1, s2, sinv = s1+w, s2+w*w, sinv+1/w
	}
	n := float64(len(logw))
	const tol = 1e-12
	if got, want := ReverseESS(logw), s1*s1/(n*s2); math.Abs(got-want) > tol*want {
		t.Errorf("ReverseESS: got %.15g, want %.15g", got, want)
	}
	if got, want := ForwardESS(logw), n*n/(s1*sinv); math.Abs(got-want) > tol*want {
		t.Errorf("ForwardESS: got %.15g, want %.15g", got, want)
	}
	shifted := make([]float64, len(logw))
	for i, v := range logw {
		shifted[i] = v + 5000 // exp would overflow
	}
	if got, want := ReverseESS(shifted), ReverseESS(logw); math.Abs(got-want) > tol {
		t.Errorf("ReverseESS shifted by 5000: got %g, want %g", got, want)
	}
	if got := ReverseESS(nil); !math.IsNaN(got) {
		t.Errorf("ReverseESS(nil): got %g, want NaN", got)
	}
}
