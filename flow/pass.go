package flow

import (
	"fmt"
	"runtime"

	"latflow/nn"
)

// passChunks is the number of sample chunks of a Pass. Backward sums the
// parameter gradient per chunk and then over chunks in order, so the
// gradient is bit-identical for any number of workers.
const passChunks = 32

// Pass is a pass of a batch through a Flow kept for differentiation: a
// forward pass (Flow.Forward, base to data) for Flow.Backward, or an
// inverse pass (Flow.InverseForward, data to base) for
// Flow.InverseBackward. It holds the base samples, one tape per sample and
// layer, and per-chunk scratch. Make it with Flow.NewPass; it belongs to
// that flow. A Pass is not safe for concurrent use.
type Pass[T nn.Float] struct {
	flow  *Flow[T]
	batch int
	z     []T
	tapes [][]Tape // [sample][layer]
	off   []int    // off[l] is the offset of layer l's parameters
	chunk []passChunk[T]
	state passState
	// inv holds the layers as InverseLayers during an inverse pass.
	inv []InverseLayer[T]

	// Arguments of the call in progress, read by the cached closures.
	x, s, gz, gx, grad []T
	logq, glogq        []float64
	forwardFn          func(w, c int)
	backwardFn         func(w, c int)
	inverseFn          func(w, c int)
	inverseBackwardFn  func(w, c int)
}

// passState is what the tapes of a Pass hold.
type passState int

const (
	passEmpty passState = iota
	passForward
	passInverse
)

type passChunk[T nn.Float] struct {
	a, b, grad []T
	// base is the float64 scratch of the base distribution.
	base []float64
	// err is the first error of an inverse pass in this chunk, at sample
	// errAt.
	err   error
	errAt int
}

// NewPass returns a Pass for batches of batch samples. It holds one tape
// per sample and layer, so its memory grows with batch, and one parameter
// gradient per chunk of samples (at most 32).
func (f *Flow[T]) NewPass(batch int) *Pass[T] {
	if batch < 1 {
		panic(fmt.Sprintf("flow: NewPass: batch=%d, want batch >= 1", batch))
	}
	p := &Pass[T]{
		flow:  f,
		batch: batch,
		z:     make([]T, batch*f.Size),
		tapes: make([][]Tape, batch),
		off:   make([]int, len(f.Layers)+1),
		chunk: make([]passChunk[T], min(batch, passChunks)),
	}
	for i := range p.tapes {
		p.tapes[i] = make([]Tape, len(f.Layers))
		for l, layer := range f.Layers {
			p.tapes[i][l] = layer.NewTape()
		}
	}
	for l, layer := range f.Layers {
		p.off[l+1] = p.off[l] + len(layer.Params())
	}
	for c := range p.chunk {
		p.chunk[c] = passChunk[T]{a: make([]T, f.Size), b: make([]T, f.Size), grad: make([]T, p.off[len(f.Layers)]), base: baseScratch(f.Size)}
	}
	p.inv = make([]InverseLayer[T], len(f.Layers))
	p.forwardFn = func(_, c int) { p.forwardChunk(c) }
	p.backwardFn = func(_, c int) { p.backwardChunk(c) }
	p.inverseFn = func(_, c int) { p.inverseChunk(c) }
	p.inverseBackwardFn = func(_, c int) { p.inverseBackwardChunk(c) }
	return p
}

// Batch returns the number of samples of p.
func (p *Pass[T]) Batch() int { return p.batch }

// chunkRange returns the samples [lo, hi) of chunk c.
func (p *Pass[T]) chunkRange(c int) (lo, hi int) {
	n := len(p.chunk)
	return c * p.batch / n, (c + 1) * p.batch / n
}

// Forward maps the base samples z (Batch() samples back to back) to
// x = T(z) with log q(x) in logq, like Sample, and records the pass in p
// for Backward. If s is not nil it receives the fast-path score
// d log q/dx as in SampleScore. z is copied, so x may be z.
func (f *Flow[T]) Forward(p *Pass[T], x, s []T, logq []float64, z []T, workers int) {
	p.check("Forward", f)
	n := p.batch * f.Size
	if len(x) != n || len(z) != n || len(logq) != p.batch || (s != nil && len(s) != n) {
		panic(fmt.Sprintf("flow: Forward: len(x)=%d, len(z)=%d, len(s)=%d, len(logq)=%d, want %d, %d, %d (or 0), %d",
			len(x), len(z), len(s), len(logq), n, n, n, p.batch))
	}
	copy(p.z, z)
	p.x, p.s, p.logq = x, s, logq
	parallelFor(len(p.chunk), workers, p.forwardFn)
	p.x, p.s, p.logq = nil, nil, nil
	p.state = passForward
}

// Backward takes, for the pass recorded in p, cotangents gx = dL/dx and
// glogq = dL/d(log q) (either may be nil, meaning zero) and writes
// gz = dL/dz (unless gz is nil; it includes the base term
// glogq * d log q0/dz) and adds dL/dtheta, summed over the batch, to grad
// (unless grad is nil; len(grad) == NumParams(), parameters in GetParams
// order). The gradient is bit-identical for any workers. Backward may be
// called several times after one Forward.
func (f *Flow[T]) Backward(p *Pass[T], gz, gx []T, glogq []float64, grad []T, workers int) {
	p.check("Backward", f)
	if p.state != passForward {
		panic("flow: Backward: pass holds no forward pass")
	}
	n := p.batch * f.Size
	if (gz != nil && len(gz) != n) || (gx != nil && len(gx) != n) ||
		(glogq != nil && len(glogq) != p.batch) || (grad != nil && len(grad) != p.off[len(f.Layers)]) {
		panic(fmt.Sprintf("flow: Backward: len(gz)=%d, len(gx)=%d, len(glogq)=%d, len(grad)=%d, want %d, %d, %d, %d (or 0)",
			len(gz), len(gx), len(glogq), len(grad), n, n, p.batch, p.off[len(f.Layers)]))
	}
	p.runBackward(p.backwardFn, gz, gx, glogq, grad, workers)
}

// runBackward runs a backward chunk function over all chunks with the
// given cotangents, then adds the per-chunk parameter gradients to grad in
// chunk order, so the sum is bit-identical for any number of workers.
func (p *Pass[T]) runBackward(fn func(w, c int), gz, gx []T, glogq []float64, grad []T, workers int) {
	p.gz, p.gx, p.glogq, p.grad = gz, gx, glogq, grad
	parallelFor(len(p.chunk), workers, fn)
	if grad != nil {
		for c := range p.chunk {
			for k, v := range p.chunk[c].grad {
				grad[k] += v
			}
		}
	}
	p.gz, p.gx, p.glogq, p.grad = nil, nil, nil, nil
}

func (p *Pass[T]) check(op string, f *Flow[T]) {
	if p == nil {
		panic(fmt.Sprintf("flow: %s: nil Pass", op))
	}
	if p.flow != f {
		panic(fmt.Sprintf("flow: %s: Pass belongs to another flow", op))
	}
	if len(p.off) != len(f.Layers)+1 {
		panic(fmt.Sprintf("flow: %s: Pass made for %d layers, flow has %d", op, len(p.off)-1, len(f.Layers)))
	}
}

// parallelFor is nn.ParallelFor (workers <= 0: GOMAXPROCS) that runs the
// loop inline, without allocating, when there is a single worker.
func parallelFor(n, workers int, fn func(w, i int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers == 1 || n == 1 {
		for i := 0; i < n; i++ {
			fn(0, i)
		}
		return
	}
	nn.ParallelFor(n, workers, fn)
}

func (p *Pass[T]) forwardChunk(c int) {
	f := p.flow
	n := f.Size
	ch := &p.chunk[c]
	lo, hi := p.chunkRange(c)
	for i := lo; i < hi; i++ {
		var si []T
		if p.s != nil {
			si = p.s[i*n : (i+1)*n]
		}
		p.logq[i] = f.forwardSample(p.tapes[i], p.x[i*n:(i+1)*n], p.z[i*n:(i+1)*n], si, ch.a, ch.b, ch.base)
	}
}

func (p *Pass[T]) backwardChunk(c int) {
	f := p.flow
	n := f.Size
	ch := &p.chunk[c]
	grad := p.grad
	if grad != nil {
		clear(ch.grad)
	}
	lo, hi := p.chunkRange(c)
	for i := lo; i < hi; i++ {
		a, b := ch.a, ch.b
		if p.gx != nil {
			copy(a, p.gx[i*n:(i+1)*n])
		} else {
			clear(a)
		}
		var gl float64
		if p.glogq != nil {
			gl = p.glogq[i]
		}
		for l := len(f.Layers) - 1; l >= 0; l-- {
			var g []T
			if grad != nil {
				g = ch.grad[p.off[l]:p.off[l+1]]
			}
			out := b
			if l == 0 && p.gz == nil {
				out = nil
			}
			// log q = log q0 - sum_l log|det J_l|, so dL/d(log|det J_l|) = -glogq.
			f.Layers[l].Backward(p.tapes[i][l], out, a, -gl, g)
			a, b = b, a
		}
		if p.gz != nil {
			gzi := p.gz[i*n : (i+1)*n]
			scoreBase(f.Base, gzi, p.z[i*n:(i+1)*n], ch.base)
			for k := range gzi {
				gzi[k] = a[k] + T(gl)*gzi[k]
			}
		}
	}
}
