package nn

import (
	"fmt"
	"sync"
	"unsafe"
)

// Tape holds one sample's activations from Net.Forward, all that
// Net.Backward needs. Use one Tape per goroutine (or per stored sample); a
// Tape fits every Net with the same L, kernel size, channel counts and
// final activation. Bytes tells its size. The scratch space of a call
// (shifted copies, cotangent buffers) is not in the Tape but in the Net's
// pool, shared by all tapes, so it stays in cache from one call to the
// next.
type Tape[T Float] struct {
	l, k     int
	channels []int
	final    Activation
	// acts[0] is a copy of the input, acts[l+1] the activated output of
	// layer l. The output of the last layer is kept only if the final
	// activation is not Identity: Backward needs it for the activation's
	// VJP, and otherwise not at all, so Forward writes it to out alone.
	acts [][]T
	done bool
	// last is the scratch of the tape's last call, asked for again first:
	// a goroutine's tapes keep to its scratch, warm in its core's cache.
	last *scratch[T]
}

// NewTape returns a tape for n.
func (n *Net[T]) NewTape() *Tape[T] {
	V := n.L * n.L
	kept := n.channels
	if n.Final == Identity {
		kept = kept[:len(kept)-1]
	}
	total := 0
	for _, c := range kept {
		total += c * V
	}
	buf := make([]T, total)
	t := &Tape[T]{l: n.L, k: n.Kernel(), channels: n.Channels(), final: n.Final, acts: make([][]T, len(n.channels))}
	off := 0
	for l, c := range kept {
		t.acts[l] = buf[off : off+c*V : off+c*V]
		off += c * V
	}
	return t
}

// Bytes returns the memory held by the tape, in bytes.
func (t *Tape[T]) Bytes() int {
	var zero T
	n := 0
	for _, a := range t.acts {
		n += len(a)
	}
	return n * int(unsafe.Sizeof(zero))
}

// check panics unless t fits n.
func (t *Tape[T]) check(n *Net[T], op string) {
	if t == nil {
		panic(fmt.Sprintf("nn: %s: nil tape", op))
	}
	ok := t.l == n.L && t.k == n.Kernel() && len(t.channels) == len(n.channels) && t.final == n.Final
	for i := 0; ok && i < len(t.channels); i++ {
		ok = t.channels[i] == n.channels[i]
	}
	if !ok {
		panic(fmt.Sprintf("nn: %s: tape for L=%d K=%d channels %v final %v, net has L=%d K=%d channels %v final %v",
			op, t.l, t.k, t.channels, t.final, n.L, n.Kernel(), n.channels, n.Final))
	}
}

// scratch is the workspace of one Forward or Backward call, taken from the
// Net's scratchPool for the call and given back at its end. Its contents do
// not carry over between calls.
type scratch[T Float] struct {
	// g0, g1 are cotangent buffers of the largest channel count.
	g0, g1 []T
	// ws holds shifted-row copies of a layer's input planes (Forward, a
	// weight gradient) or of its output cotangent (Backward).
	ws []T
}

// scratchPool keeps the scratch space of a Net for reuse: a stack, so that
// a single goroutine gets the same, cache-warm buffers on every call, and
// concurrent calls get one each. It grows to the largest number of
// concurrent calls and never shrinks; unlike a sync.Pool it does not drop
// buffers (at garbage collections, or at random under the race detector),
// so calls allocate only while it grows.
type scratchPool[T Float] struct {
	mu   sync.Mutex
	free []*scratch[T]
	// g and ws are the lengths of a scratch's buffers.
	g, ws int
}

// newScratchPool returns the pool of scratch space for n.
func (n *Net[T]) newScratchPool() *scratchPool[T] {
	p := &scratchPool[T]{free: make([]*scratch[T], 0, 8)}
	for _, c := range n.channels {
		p.g = max(p.g, c*n.L*n.L)
	}
	for l := range n.Layers {
		p.ws = max(p.ws, n.Layers[l].workspaceLen(n.L))
	}
	return p
}

// get returns a scratch for the caller's exclusive use until put: pref if
// it is free, else the one given back last.
func (p *scratchPool[T]) get(pref *scratch[T]) *scratch[T] {
	p.mu.Lock()
	if k := len(p.free); k > 0 {
		i := k - 1
		for j, s := range p.free {
			if s == pref {
				i = j
				break
			}
		}
		s := p.free[i]
		p.free[i] = p.free[k-1]
		p.free = p.free[:k-1]
		p.mu.Unlock()
		return s
	}
	p.mu.Unlock()
	buf := make([]T, 2*p.g+p.ws)
	s := &scratch[T]{}
	s.g0, buf = buf[:p.g:p.g], buf[p.g:]
	s.g1, buf = buf[:p.g:p.g], buf[p.g:]
	s.ws = buf[:p.ws:p.ws]
	return s
}

// put gives s back to the pool.
func (p *scratchPool[T]) put(s *scratch[T]) {
	p.mu.Lock()
	p.free = append(p.free, s)
	p.mu.Unlock()
}
