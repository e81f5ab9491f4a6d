package sampler_test

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"latflow/ensemble"
	"latflow/gauge"
	"latflow/observables"
	"latflow/sampler"
)

// TestTargetSamples: exact U(1) samples have the exact mean plaquette, and
// the phi^4 samples come from a moving HMC chain; both are described.
func TestTargetSamples(t *testing.T) {
	u1 := ensemble.NewU1(4, 2)
	const n = 2000
	data := make([]float64, n*u1.Size())
	desc, err := sampler.TargetSamples(context.Background(), u1, data, rand.NewPCG(1, 1), nil)
	if err != nil || !strings.Contains(desc, "exact") {
		t.Fatalf("u1: %q, %v", desc, err)
	}
	m := observables.NewMeasurer(u1)
	var sum, sq float64
	obs := make([]float64, 2)
	for i := range n {
		m.MeasureTo(obs, data[i*u1.Size():(i+1)*u1.Size()])
		sum, sq = sum+obs[0], sq+obs[0]*obs[0]
	}
	mean := sum / n
	se := math.Sqrt((sq/n - mean*mean) / n)
	ex, err := gauge.ExactTorus(2, 4)
	if err != nil {
		t.Fatal(err)
	}
	if exact := ex.MeanCos; math.Abs(mean-exact) > 4*se {
		t.Errorf("u1: <cos P> %v +- %v, want %v", mean, se, ex.MeanCos)
	}
	phi := ensemble.NewPhi4Standard(4, -1, 0.5)
	pd := make([]float64, 10*phi.Size())
	count := 0
	desc, err = sampler.TargetSamples(context.Background(), phi, pd, rand.NewPCG(1, 1), func() { count++ })
	if err != nil || !strings.Contains(desc, "HMC") || count != 10 {
		t.Fatalf("phi4: %q, %v, %d calls", desc, err, count)
	}
	if pd[0] == pd[phi.Size()] {
		t.Errorf("phi4: consecutive samples are equal")
	}
}
