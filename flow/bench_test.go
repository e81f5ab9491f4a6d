package flow

import (
	"math/rand/v2"
	"testing"

	"latflow/nn"
)

// benchBatch is the batch size of the benchmarks (the phi^4 tutorial's).
const benchBatch = 64

// benchFlow runs op on the default phi^4 flow of extent L (16 layers) with
// element type T and reports samples/s; workers = GOMAXPROCS.
func benchFlow[T nn.Float](b *testing.B, L int, op string) {
	f, err := New[T](DefaultConfig(TheoryPhi4, L), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 1))
	n := benchBatch * f.Size
	x, s, q := make([]T, n), make([]T, n), make([]float64, benchBatch)
	f.Sample(rng, x, q, 0)
	var p *Pass[T]
	var grad []T
	if op == "ForwardBackward" {
		p = f.NewPass(benchBatch)
		grad = make([]T, f.NumParams())
		f.Forward(p, x, s, q, x, 0)
		f.Backward(p, nil, s, nil, grad, 0) // warm-up
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		switch op {
		case "Sample":
			f.Sample(rng, x, q, 0)
		case "SampleScore":
			f.SampleScore(rng, x, s, q, 0)
		case "LogProb":
			if err := f.LogProb(q, x, 0); err != nil {
				b.Fatal(err)
			}
		case "ForwardBackward":
			f.SampleBase(rng, s)
			f.Forward(p, x, s, q, s, 0)
			f.Backward(p, nil, s, nil, grad, 0)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "samples/s")
}

func benchTypes(b *testing.B, op string) {
	b.Run("phi4/L=8/T=float32", func(b *testing.B) { benchFlow[float32](b, 8, op) })
	b.Run("phi4/L=8/T=float64", func(b *testing.B) { benchFlow[float64](b, 8, op) })
}

func BenchmarkSample(b *testing.B)      { benchTypes(b, "Sample") }
func BenchmarkSampleScore(b *testing.B) { benchTypes(b, "SampleScore") }
func BenchmarkLogProb(b *testing.B)     { benchTypes(b, "LogProb") }

// BenchmarkForwardBackward is one fast-path training step: a recorded
// forward pass with the score and a backward pass of the score to the
// parameters.
func BenchmarkForwardBackward(b *testing.B) { benchTypes(b, "ForwardBackward") }
