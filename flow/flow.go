package flow

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"latflow/nn"
)

// Flow is a normalizing flow x = T(z) = T_{n-1}(...T_0(z)) on samples of
// Size real numbers, with base distribution Base and architecture Config.
//
// Sample, SampleScore, SampleBase, BaseScore and LogProb keep per-worker
// tapes and scratch inside the Flow, built on first use; concurrent calls
// on one Flow are safe and are serialized on an internal lock (each call
// is already parallel over its batch). Base, Layers and Size must not
// change after the first call. A Flow must not be copied after first use.
type Flow[T nn.Float] struct {
	Config Config
	Base   Base
	Size   int
	Layers []Layer[T]

	mu sync.Mutex
	ws *workspace[T]
	// z64 is the float64 scratch of SampleBase.
	z64 []float64
	// flip holds the sign flips of the samples of the Sample call in
	// progress of a Z2-symmetrized flow (Config.Z2).
	flip []bool
}

// NewFlow returns the flow of the given layers on samples of size real
// numbers with base distribution base. It panics if base is nil, if a
// layer's Size differs from size, or if base is a PlaquetteBase on
// another number of links.
func NewFlow[T nn.Float](cfg Config, base Base, size int, layers []Layer[T]) *Flow[T] {
	if base == nil {
		panic("flow: NewFlow: nil base")
	}
	if pb, ok := base.(PlaquetteBase); ok {
		if pb.Proposal == nil {
			panic("flow: NewFlow: PlaquetteBase with a nil proposal")
		}
		if n := 2 * pb.Proposal.Geometry().V; n != size {
			panic(fmt.Sprintf("flow: NewFlow: plaquette base on %d links, want size %d", n, size))
		}
	}
	if gb, ok := base.(GaussKBase); ok && gb.l*gb.l != size {
		panic(fmt.Sprintf("flow: NewFlow: gauss-k base on %d sites, want size %d", gb.l*gb.l, size))
	}
	for l, layer := range layers {
		if layer.Size() != size {
			panic(fmt.Sprintf("flow: NewFlow: layer %d has size %d, want %d", l, layer.Size(), size))
		}
	}
	return &Flow[T]{Config: cfg, Base: base, Size: size, Layers: layers}
}

// NumParams returns the number of parameters, summed over the layers.
func (f *Flow[T]) NumParams() int {
	n := 0
	for _, l := range f.Layers {
		n += len(l.Params())
	}
	return n
}

// GetParams copies the parameters of all layers, concatenated in layer
// order, into dst. It panics unless len(dst) == NumParams().
func (f *Flow[T]) GetParams(dst []T) {
	if len(dst) != f.NumParams() {
		panic(fmt.Sprintf("flow: GetParams: len(dst)=%d, want NumParams()=%d", len(dst), f.NumParams()))
	}
	off := 0
	for _, l := range f.Layers {
		off += copy(dst[off:], l.Params())
	}
}

// SetParams sets the parameters of all layers from src, concatenated in
// layer order. It panics unless len(src) == NumParams().
func (f *Flow[T]) SetParams(src []T) {
	if len(src) != f.NumParams() {
		panic(fmt.Sprintf("flow: SetParams: len(src)=%d, want NumParams()=%d", len(src), f.NumParams()))
	}
	off := 0
	for _, l := range f.Layers {
		off += copy(l.Params(), src[off:])
	}
}

// SampleBase fills z (B samples back to back) with draws from the base
// distribution, serially from rng in sample order (Base.SampleTo per
// sample): the z of Sample. It does not allocate after its first call.
func (f *Flow[T]) SampleBase(rng *rand.Rand, z []T) {
	n := f.Size
	if n <= 0 || len(z)%n != 0 {
		panic(fmt.Sprintf("flow: SampleBase: len(z)=%d, want a multiple of Size=%d", len(z), n))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sampleBase(rng, z)
}

// sampleBase is SampleBase with f.mu held.
func (f *Flow[T]) sampleBase(rng *rand.Rand, z []T) {
	n := f.Size
	if len(f.z64) != 2*n {
		f.z64 = baseScratch(n)
	}
	for i := 0; i < len(z); i += n {
		drawBase(f.Base, rng, z[i:i+n], f.z64)
	}
}

// Sample draws len(logq) samples x = T(z) into x (len(logq)*Size numbers)
// with their log-densities log q(x) in logq. All z are drawn first,
// serially from rng in sample order, so the result does not depend on
// workers; the layers then run in parallel over samples on workers
// goroutines (workers <= 0: GOMAXPROCS). Sample does not allocate after
// the first call with a given number of workers, except what
// nn.ParallelFor needs to start its goroutines (nothing with 1 worker).
//
// For a Z2-symmetrized flow (Config.Z2, see z2.go) the samples are those
// of q_s(x) = (q(x) + q(-x))/2: after all z, one sign flip per sample is
// drawn from rng, in sample order, each with probability 1/2, and logq
// holds log q_s(x).
func (f *Flow[T]) Sample(rng *rand.Rand, x []T, logq []float64, workers int) {
	f.checkBatch("Sample", x, logq)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sampleBase(rng, x)
	f.drawFlips(rng, len(logq))
	f.runLocked(workers, x, nil, logq, len(logq), runForward)
}

// SampleScore is Sample that also writes s = d log q(x)/dx for each sample
// into s (same layout as x), carried through the layers by the fast-path
// recursion s' = J^-T (s - d/dx log|det J|) from s0 = d log q0/dz.
// For a Z2-symmetrized flow, samples and log-densities are those of
// Sample and s is the score of q_s (z2.go).
func (f *Flow[T]) SampleScore(rng *rand.Rand, x, s []T, logq []float64, workers int) {
	f.checkBatch("SampleScore", x, logq)
	if len(s) != len(x) {
		panic(fmt.Sprintf("flow: SampleScore: len(s)=%d, want len(x)=%d", len(s), len(x)))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sampleBase(rng, x)
	f.drawFlips(rng, len(logq))
	f.runLocked(workers, x, s, logq, len(logq), runForward)
}

// LogProb writes log q(x) for the len(logq) samples in x, through the
// inverse layers in reverse order: log q(x) = log q0(z) - sum_l log|det J_l|
// (for a Z2-symmetrized flow log q_s(x), from log q(x) and log q(-x)).
// x is not modified. If a layer's inverse fails, LogProb sets that
// sample's logq to NaN, finishes the batch and returns the error of the
// first failing sample.
func (f *Flow[T]) LogProb(logq []float64, x []T, workers int) error {
	f.checkBatch("LogProb", x, logq)
	return f.run(workers, x, nil, logq, len(logq), runInverse)
}

func (f *Flow[T]) checkBatch(op string, x []T, logq []float64) {
	if f.Size <= 0 {
		panic(fmt.Sprintf("flow: %s: Size=%d, want Size > 0", op, f.Size))
	}
	if len(x) != len(logq)*f.Size {
		panic(fmt.Sprintf("flow: %s: len(x)=%d, want len(logq)*Size=%d*%d", op, len(x), len(logq), f.Size))
	}
}

// workspace is the per-worker state of Sample, SampleScore, BaseScore and
// LogProb and the arguments of the call in progress (read by the cached
// closures, so that a call allocates nothing).
type workspace[T nn.Float] struct {
	workers []workerState[T]

	x, s        []T
	logq        []float64
	forwardFn   func(w, i int)
	inverseFn   func(w, i int)
	baseScoreFn func(w, i int)
}

type workerState[T nn.Float] struct {
	tapes []Tape
	a, b  []T
	// c and s2 are the scratch of a Z2-symmetrized flow (z2.go): the
	// reflected sample -x and the score of q at it.
	c, s2 []T
	// base is the float64 scratch of the base distribution.
	base  []float64
	err   error
	errAt int
}

// runMode is what run does per sample.
type runMode int

const (
	runForward   runMode = iota // Sample, SampleScore
	runInverse                  // LogProb
	runBaseScore                // BaseScore
)

// run is the body of Sample, SampleScore, LogProb and BaseScore on B
// samples.
func (f *Flow[T]) run(workers int, x, s []T, logq []float64, B int, mode runMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.runLocked(workers, x, s, logq, B, mode)
}

// runLocked is run with f.mu held.
func (f *Flow[T]) runLocked(workers int, x, s []T, logq []float64, B int, mode runMode) error {
	if B == 0 {
		return nil
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, B)
	ws := f.workspaceFor(workers)
	ws.x, ws.s, ws.logq = x, s, logq
	switch mode {
	case runForward:
		parallelFor(B, workers, ws.forwardFn)
	case runInverse:
		parallelFor(B, workers, ws.inverseFn)
	case runBaseScore:
		parallelFor(B, workers, ws.baseScoreFn)
	}
	ws.x, ws.s, ws.logq = nil, nil, nil
	if mode != runInverse {
		return nil
	}
	var err error
	at := B
	for w := range ws.workers {
		st := &ws.workers[w]
		if st.err != nil && st.errAt < at {
			err, at = st.err, st.errAt
		}
		st.err = nil
	}
	if err != nil {
		return fmt.Errorf("flow: LogProb: sample %d: %w", at, err)
	}
	return nil
}

// workspaceFor returns the workspace with at least workers worker states,
// growing it if needed. f.mu must be held.
func (f *Flow[T]) workspaceFor(workers int) *workspace[T] {
	ws := f.ws
	if ws == nil || (len(ws.workers) > 0 && len(ws.workers[0].tapes) != len(f.Layers)) {
		ws = &workspace[T]{}
		ws.forwardFn = func(w, i int) { f.forwardOne(ws, w, i) }
		ws.inverseFn = func(w, i int) { f.inverseOne(ws, w, i) }
		ws.baseScoreFn = func(w, i int) { f.baseScoreOne(ws, w, i) }
		f.ws = ws
	}
	for len(ws.workers) < workers {
		st := workerState[T]{
			tapes: make([]Tape, len(f.Layers)),
			a:     make([]T, f.Size),
			b:     make([]T, f.Size),
			base:  baseScratch(f.Size),
		}
		if f.Config.Z2 {
			st.c, st.s2 = make([]T, f.Size), make([]T, f.Size)
		}
		for l, layer := range f.Layers {
			st.tapes[l] = layer.NewTape()
		}
		ws.workers = append(ws.workers, st)
	}
	return ws
}

// forwardOne maps sample i of ws.x from z to x in place, with its score if
// ws.s is not nil.
func (f *Flow[T]) forwardOne(ws *workspace[T], w, i int) {
	st := &ws.workers[w]
	n := f.Size
	xi := ws.x[i*n : (i+1)*n]
	var si []T
	if ws.s != nil {
		si = ws.s[i*n : (i+1)*n]
	}
	ws.logq[i] = f.forwardSample(st.tapes, xi, xi, si, st.a, st.b, st.base)
	if f.Config.Z2 {
		ws.logq[i] = f.symmetrize(st, xi, si, ws.logq[i], f.flip[i])
	}
}

// baseScoreOne writes the base score of sample i of ws.x into ws.s.
func (f *Flow[T]) baseScoreOne(ws *workspace[T], w, i int) {
	n := f.Size
	scoreBase(f.Base, ws.s[i*n:(i+1)*n], ws.x[i*n:(i+1)*n], ws.workers[w].base)
}

// forwardSample maps one base sample z through the layers, recording on
// tapes (one per layer), writes x = T(z) (x may be z) and, if s is not nil,
// the fast-path score d log q/dx into s, and returns log q(x). a and b are
// scratch of length Size, base the scratch of the base distribution
// (baseScratch).
func (f *Flow[T]) forwardSample(tapes []Tape, x, z, s, a, b []T, base []float64) float64 {
	if s != nil {
		scoreBase(f.Base, s, z, base)
	}
	lq := logBase(f.Base, z, base)
	copy(a, z)
	for l, layer := range f.Layers {
		lq -= layer.Forward(tapes[l], b, a, s)
		a, b = b, a
	}
	copy(x, a)
	return lq
}

// inverseOne writes log q of sample i of ws.x.
func (f *Flow[T]) inverseOne(ws *workspace[T], w, i int) {
	st := &ws.workers[w]
	n := f.Size
	xi := ws.x[i*n : (i+1)*n]
	lq, err := f.inverseLogQ(st, xi, false)
	if err == nil && f.Config.Z2 {
		var lm float64
		lm, err = f.inverseLogQ(st, xi, true)
		lq = logMeanExp2(lq, lm)
	}
	if err != nil {
		if st.err == nil {
			st.err, st.errAt = err, i
		}
		lq = math.NaN()
	}
	ws.logq[i] = lq
}

// inverseLogQ returns log q of the sample x (of -x if negate) of the
// unsymmetrized flow, through the inverse layers on st's scratch a and b;
// on return st.a holds z = T^-1(x). x is not modified.
func (f *Flow[T]) inverseLogQ(st *workerState[T], x []T, negate bool) (float64, error) {
	a, b := st.a, st.b
	copy(a, x)
	if negate {
		for k, v := range a {
			a[k] = -v
		}
	}
	var ld float64
	for l := len(f.Layers) - 1; l >= 0; l-- {
		d, err := f.Layers[l].Inverse(st.tapes[l], b, a)
		if err != nil {
			return math.NaN(), fmt.Errorf("layer %d: %w", l, err)
		}
		ld += d
		a, b = b, a
	}
	if &a[0] != &st.a[0] {
		copy(st.a, a)
	}
	return logBase(f.Base, st.a, st.base) - ld, nil
}
