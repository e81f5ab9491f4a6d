package flow

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkSplineForwardBackward is one fast-path training step (as
// BenchmarkForwardBackward) of the L=16 critical-point architecture
// (16 layers, hidden [16,16], float32) with affine and with spline
// couplings (8 bins on [-5, 5]), one worker.
func BenchmarkSplineForwardBackward(b *testing.B) {
	for _, coupling := range []string{CouplingAffine, CouplingSpline} {
		b.Run(coupling, func(b *testing.B) {
			cfg := DefaultConfig(TheoryPhi4, 16)
			cfg.Hidden = []int{16, 16}
			if coupling == CouplingSpline {
				cfg.Coupling, cfg.Bins, cfg.SplineBound = CouplingSpline, 8, 5
			}
			f, err := New[float32](cfg, rand.New(rand.NewPCG(1, 1)))
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(2, 1))
			n := benchBatch * f.Size
			x, s, q := make([]float32, n), make([]float32, n), make([]float64, benchBatch)
			p := f.NewPass(benchBatch)
			grad := make([]float32, f.NumParams())
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				f.SampleBase(rng, s)
				f.Forward(p, x, s, q, s, 1)
				f.Backward(p, nil, s, nil, grad, 1)
			}
			b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
