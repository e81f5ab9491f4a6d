package nn

import (
	"fmt"
	"unsafe"
)

// Tape holds one sample's activations from Net.Forward and the workspace of
// Net.Backward. Use one Tape per goroutine (or per stored sample); a Tape
// fits every Net with the same L, kernel size and channel counts. Bytes
// tells its size.
type Tape[T Float] struct {
	l, k     int
	channels []int
	// acts[0] is a copy of the input, acts[l+1] the activated output of
	// layer l.
	acts [][]T
	// g0, g1 are cotangent buffers of the largest channel count.
	g0, g1 []T
	// ws holds shifted-row copies of a layer's input planes (Forward, the
	// parameter VJP) or of its output cotangent (the input VJP).
	ws   []T
	done bool
}

// NewTape returns a tape for n.
func (n *Net[T]) NewTape() *Tape[T] {
	V := n.L * n.L
	total, cmax := 0, 0
	for _, c := range n.channels {
		total += c * V
		cmax = max(cmax, c)
	}
	wsLen := 0
	for l := range n.Layers {
		wsLen = max(wsLen, n.Layers[l].workspaceLen(n.L))
	}
	buf := make([]T, total+2*cmax*V+wsLen)
	t := &Tape[T]{l: n.L, k: n.Kernel(), channels: n.Channels(), acts: make([][]T, len(n.channels))}
	off := 0
	for l, c := range n.channels {
		t.acts[l] = buf[off : off+c*V : off+c*V]
		off += c * V
	}
	t.g0 = buf[off : off+cmax*V : off+cmax*V]
	t.g1 = buf[off+cmax*V : off+2*cmax*V : off+2*cmax*V]
	t.ws = buf[off+2*cmax*V:]
	return t
}

// Bytes returns the memory held by the tape, in bytes.
func (t *Tape[T]) Bytes() int {
	var zero T
	n := len(t.g0) + len(t.g1) + len(t.ws)
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
	ok := t.l == n.L && t.k == n.Kernel() && len(t.channels) == len(n.channels)
	for i := 0; ok && i < len(t.channels); i++ {
		ok = t.channels[i] == n.channels[i]
	}
	if !ok {
		panic(fmt.Sprintf("nn: %s: tape for L=%d K=%d channels %v, net has L=%d K=%d channels %v",
			op, t.l, t.k, t.channels, n.L, n.Kernel(), n.channels))
	}
}
