package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"latflow/internal/kernels"
)

// Net is a stack of Conv2D layers on an L x L lattice, with the Hidden
// activation after every layer but the last and the Final activation after
// the last. Its parameters live in one flat slice (see Params).
type Net[T Float] struct {
	L      int
	Layers []Conv2D[T]
	Hidden Activation
	Final  Activation

	params []T
	// woff[l], boff[l] are the offsets of layer l's W and B in params.
	woff, boff []int
	channels   []int
	// rows selects the row kernels (kernels.HasRowKernels), which do a
	// layer four output channels at a time with the activation fused, over
	// the per-plane axpy kernels; plans[l] holds layer l's row offsets.
	rows  bool
	plans []rowPlan
	// scratch pools the workspace of Forward and Backward.
	scratch *scratchPool[T]
}

// NewNet returns a network on an L x L lattice whose layer l maps
// channels[l] to channels[l+1] channels with a kernel x kernel convolution;
// channels = [in, 8, 8, out] gives three layers. The parameters are zero;
// call InitRandom or fill Params.
func NewNet[T Float](L int, channels []int, kernel int, hidden, final Activation) *Net[T] {
	if L < 1 {
		panic(fmt.Sprintf("nn: NewNet: L=%d, want L >= 1", L))
	}
	if len(channels) < 2 {
		panic(fmt.Sprintf("nn: NewNet: %d channel counts, want at least 2 (input and output)", len(channels)))
	}
	for i, c := range channels {
		if c < 1 {
			panic(fmt.Sprintf("nn: NewNet: channels[%d]=%d, want >= 1", i, c))
		}
	}
	if kernel < 1 || kernel%2 == 0 {
		panic(fmt.Sprintf("nn: NewNet: kernel=%d, want odd kernel >= 1", kernel))
	}
	hidden.valid()
	final.valid()
	nl := len(channels) - 1
	n := &Net[T]{
		L:        L,
		Layers:   make([]Conv2D[T], nl),
		Hidden:   hidden,
		Final:    final,
		woff:     make([]int, nl),
		boff:     make([]int, nl),
		channels: append([]int(nil), channels...),
		rows:     kernels.HasRowKernels(),
		plans:    make([]rowPlan, nl),
	}
	KK := kernel * kernel
	off := 0
	for l := 0; l < nl; l++ {
		cin, cout := channels[l], channels[l+1]
		n.woff[l] = off
		off += cout * cin * KK
		n.boff[l] = off
		off += cout
	}
	n.params = make([]T, off)
	for l := 0; l < nl; l++ {
		cin, cout := channels[l], channels[l+1]
		n.Layers[l] = Conv2D[T]{
			Cin: cin, Cout: cout, K: kernel,
			W: n.params[n.woff[l] : n.woff[l]+cout*cin*KK : n.woff[l]+cout*cin*KK],
			B: n.params[n.boff[l] : n.boff[l]+cout : n.boff[l]+cout],
		}
		n.plans[l] = n.Layers[l].newRowPlan(L)
	}
	n.scratch = n.newScratchPool()
	return n
}

// Params returns the flat slice holding all weights and biases, layer by
// layer, W then B; the layers' W and B are views into it.
func (n *Net[T]) Params() []T { return n.params }

// NumParams returns the number of parameters.
func (n *Net[T]) NumParams() int { return len(n.params) }

// Channels returns the channel counts the net was built with (a copy).
func (n *Net[T]) Channels() []int { return append([]int(nil), n.channels...) }

// Kernel returns the kernel size K of the layers.
func (n *Net[T]) Kernel() int { return n.Layers[0].K }

// InSize returns the length of an input, channels[0]*L*L.
func (n *Net[T]) InSize() int { return n.channels[0] * n.L * n.L }

// OutSize returns the length of an output, channels[len-1]*L*L.
func (n *Net[T]) OutSize() int { return n.channels[len(n.channels)-1] * n.L * n.L }

// InitRandom draws every weight and bias of layer l uniformly from
// (-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = Cin*K*K, the PyTorch default
// for Conv2d. Values are drawn in the order of Params.
func (n *Net[T]) InitRandom(rng *rand.Rand) {
	for l := range n.Layers {
		c := &n.Layers[l]
		bound := 1 / math.Sqrt(float64(c.Cin*c.K*c.K))
		for i := range c.W {
			c.W[i] = T(bound * (2*rng.Float64() - 1))
		}
		for i := range c.B {
			c.B[i] = T(bound * (2*rng.Float64() - 1))
		}
	}
}

// Convert returns a network of the same architecture as src with its
// parameters converted to D, e.g. a float32 copy of a float64 master.
func Convert[D, S Float](src *Net[S]) *Net[D] {
	dst := NewNet[D](src.L, src.channels, src.Kernel(), src.Hidden, src.Final)
	for i, v := range src.params {
		dst.params[i] = D(v)
	}
	return dst
}

// Forward sets out (OutSize) to the network applied to in (InSize) and
// records in t what Backward needs. out and in may be the same slice (the
// input is copied into the tape first).
func (n *Net[T]) Forward(t *Tape[T], out, in []T) {
	t.check(n, "Forward")
	if len(in) != n.InSize() || len(out) != n.OutSize() {
		panic(fmt.Sprintf("nn: Forward: input length %d, output length %d, want %d, %d",
			len(in), len(out), n.InSize(), n.OutSize()))
	}
	s := n.scratch.get(t.last)
	defer n.scratch.put(s)
	t.last = s
	copy(t.acts[0], in)
	last := len(n.Layers) - 1
	for l := range n.Layers {
		y := t.acts[l+1]
		a := n.Hidden
		if l == last {
			a = n.Final
			if a == Identity {
				y = out // not kept: Backward does not need it
			}
		}
		if !n.rows {
			n.Layers[l].forwardWS(y, t.acts[l], s.ws, n.L)
			ActivationForwardTo(y, y, a)
			continue
		}
		epi := kernels.EpiNone
		if a == LeakyReLU {
			epi = kernels.EpiLeakyReLU
		}
		n.Layers[l].forwardRows(y, t.acts[l], s.ws, &n.plans[l], n.L, epi)
		if a == Tanh {
			ActivationForwardTo(y, y, a)
		}
	}
	if n.Final != Identity {
		copy(out, t.acts[last+1])
	}
	t.done = true
}

// Backward computes, for the sample of the last Forward on t and a
// cotangent gout of the output, gin = (d out/d in)^T gout (overwriting gin;
// skipped if gin is nil) and grad += (d out/d params)^T gout (grad shaped
// like Params; skipped if grad is nil). gout is not modified and must not
// overlap gin. Backward may be called several times after one Forward.
func (n *Net[T]) Backward(t *Tape[T], gin, grad, gout []T) {
	t.check(n, "Backward")
	if !t.done {
		panic("nn: Backward: tape holds no forward pass")
	}
	if len(gout) != n.OutSize() {
		panic(fmt.Sprintf("nn: Backward: len(gout)=%d, want %d", len(gout), n.OutSize()))
	}
	if gin != nil && len(gin) != n.InSize() {
		panic(fmt.Sprintf("nn: Backward: len(gin)=%d, want %d", len(gin), n.InSize()))
	}
	if grad != nil && len(grad) != len(n.params) {
		panic(fmt.Sprintf("nn: Backward: len(grad)=%d, want %d", len(grad), len(n.params)))
	}
	if gin == nil && grad == nil {
		return
	}
	s := n.scratch.get(t.last)
	defer n.scratch.put(s)
	t.last = s
	V := n.L * n.L
	last := len(n.Layers) - 1
	bufs := [2][]T{s.g0, s.g1}
	// g holds the cotangent of the current layer's pre-activation output:
	// gout itself after an Identity (it is only read), else in bufs[1].
	g := gout
	if n.Final != Identity {
		g = bufs[1][:len(gout)]
		ActivationVJP(g, gout, t.acts[last+1], n.Final)
	}
	next := 0
	for l := last; l >= 0; l-- {
		c := &n.Layers[l]
		var gW, gB []T
		if grad != nil {
			gW, gB = grad[n.woff[l]:n.boff[l]], grad[n.boff[l]:n.boff[l]+c.Cout]
		}
		// gs receives the cotangent of the layer's input: gin for the
		// first layer, else that of the previous layer's pre-activation.
		gs := gin
		if l > 0 {
			gs = bufs[next][:c.Cin*V]
		}
		if n.rows {
			epi := kernels.EpiNone
			if l > 0 && n.Hidden == LeakyReLU {
				epi = kernels.EpiLeakyReLUVJP
			}
			c.backwardRows(gs, gW, gB, g, t.acts[l], s.ws, &n.plans[l], n.L, epi)
			if l > 0 && epi == kernels.EpiNone {
				ActivationVJP(gs, gs, t.acts[l], n.Hidden)
			}
		} else {
			if gW != nil {
				c.vjpParamsWS(gW, gB, g, t.acts[l], s.ws, n.L)
			}
			if gs != nil {
				c.vjpInputWS(gs, g, s.ws, n.L)
				if l > 0 {
					ActivationVJP(gs, gs, t.acts[l], n.Hidden)
				}
			}
		}
		g, next = gs, 1-next
	}
}
