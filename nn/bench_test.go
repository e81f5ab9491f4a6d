package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchCases are the conditioners of the two flows (physics.md section 3).
var benchCases = []struct {
	name          string
	L             int
	channels      []int
	hidden, final Activation
}{
	{"L=16/channels=2-8-8-7", 16, []int{2, 8, 8, 7}, LeakyReLU, Identity}, // U(1): cos, sin -> 6 scales + shift
	{"L=8/channels=1-8-8-2", 8, []int{1, 8, 8, 2}, LeakyReLU, Tanh},       // phi^4 RealNVP: s, t
}

// benchNet times Forward, or Forward followed by Backward with mode "full"
// (gin and grad) or "input" (gin only).
func benchNet[T Float](b *testing.B, L int, channels []int, hidden, final Activation, mode string, rows bool) {
	n := NewNet[T](L, channels, 3, hidden, final)
	n.rows = rows
	n.InitRandom(rand.New(rand.NewPCG(14, 1)))
	tape := n.NewTape()
	rng := rand.New(rand.NewPCG(14, 2))
	in, out := make([]T, n.InSize()), make([]T, n.OutSize())
	for i := range in {
		in[i] = T(2*rng.Float64() - 1)
	}
	gout := make([]T, n.OutSize())
	for i := range gout {
		gout[i] = T(2*rng.Float64() - 1)
	}
	gin, grad := make([]T, n.InSize()), make([]T, n.NumParams())
	n.Forward(tape, out, in)
	b.ReportAllocs()
	for b.Loop() {
		switch mode {
		case "forward":
			n.Forward(tape, out, in)
		case "full":
			n.Backward(tape, gin, grad, gout)
		case "input":
			n.Backward(tape, gin, nil, gout)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// benchAll runs mode on every case in float32 and float64, on the row
// kernels (the default where kernels.HasRowKernels) and on the per-plane
// axpy kernels (the fallback).
func benchAll(b *testing.B, mode string) {
	for _, c := range benchCases {
		for _, path := range []string{"rows", "axpy"} {
			rows := path == "rows"
			b.Run(fmt.Sprintf("%s/float32/%s", c.name, path), func(b *testing.B) {
				benchNet[float32](b, c.L, c.channels, c.hidden, c.final, mode, rows)
			})
			b.Run(fmt.Sprintf("%s/float64/%s", c.name, path), func(b *testing.B) {
				benchNet[float64](b, c.L, c.channels, c.hidden, c.final, mode, rows)
			})
		}
	}
}

func BenchmarkNetForward(b *testing.B) { benchAll(b, "forward") }

// BenchmarkNetBackward is the backward pass alone (input and parameter
// VJPs), after one Forward.
func BenchmarkNetBackward(b *testing.B) { benchAll(b, "full") }

// BenchmarkNetVJPInput is the backward pass for the input only, the VJP of
// the fast path gradient.
func BenchmarkNetVJPInput(b *testing.B) { benchAll(b, "input") }
