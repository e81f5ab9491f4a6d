package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

func TestParallelFor(t *testing.T) {
	for _, n := range []int{0, 1, 2, 5, 100, 101} {
		for _, workers := range []int{-1, 0, 1, 2, 3, 7, 200} {
			t.Run(fmt.Sprintf("n=%d/workers=%d", n, workers), func(t *testing.T) {
				counts := make([]atomic.Int32, n)
				owner := make([]int, n)
				ParallelFor(n, workers, func(w, i int) {
					counts[i].Add(1)
					owner[i] = w // each i is written by one goroutine only
				})
				for i := range counts {
					if c := counts[i].Load(); c != 1 {
						t.Errorf("index %d: got %d calls, want 1", i, c)
					}
				}
				// Contiguous chunks in worker order: owner is nondecreasing
				// from 0 with steps of one.
				for i := 1; i < n; i++ {
					if d := owner[i] - owner[i-1]; d != 0 && d != 1 {
						t.Errorf("index %d: got worker %d after %d, want contiguous chunks", i, owner[i], owner[i-1])
					}
				}
				if n > 0 && owner[0] != 0 {
					t.Errorf("index 0: got worker %d, want 0", owner[0])
				}
				if workers > 0 && n > 0 && owner[n-1] != min(workers, n)-1 {
					t.Errorf("index %d: got worker %d, want %d", n-1, owner[n-1], min(workers, n)-1)
				}
			})
		}
	}
}

func TestParallelForPanic(t *testing.T) {
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("got panic %v, want %q", r, "boom")
		}
	}()
	ParallelFor(10, 3, func(w, i int) {
		if i == 7 {
			panic("boom")
		}
	})
}

// TestParallelNetBackward runs the batched backward pass the flows use: one
// shared Net, one Tape and one gradient slice per worker, summed at the
// end. The result equals the serial sum up to the order of the final
// reduction. Run with -race to check that Forward and Backward only read
// the Net.
func TestParallelNetBackward(t *testing.T) {
	const batch, workers = 12, 3
	n := NewNet[float64](4, []int{2, 4, 3}, 3, LeakyReLU, Tanh)
	rng := rand.New(rand.NewPCG(15, 1))
	n.InitRandom(rng)
	ins, gouts := make([][]float64, batch), make([][]float64, batch)
	for b := range ins {
		ins[b], gouts[b] = randVec(rng, n.InSize()), randVec(rng, n.OutSize())
	}
	serial := make([]float64, n.NumParams())
	tape := n.NewTape()
	out := make([]float64, n.OutSize())
	for b := range ins {
		n.Forward(tape, out, ins[b])
		n.Backward(tape, nil, serial, gouts[b])
	}
	tapes, grads, outs := make([]*Tape[float64], workers), make([][]float64, workers), make([][]float64, workers)
	for w := range tapes {
		tapes[w], grads[w], outs[w] = n.NewTape(), make([]float64, n.NumParams()), make([]float64, n.OutSize())
	}
	ParallelFor(batch, workers, func(w, b int) {
		n.Forward(tapes[w], outs[w], ins[b])
		n.Backward(tapes[w], nil, grads[w], gouts[b])
	})
	for i := range serial {
		var sum float64
		for w := range grads {
			sum += grads[w][i]
		}
		if math.Abs(sum-serial[i]) > 1e-12*(1+math.Abs(serial[i])) {
			t.Fatalf("param %d: got %.15g, want %.15g", i, sum, serial[i])
		}
	}
}
