package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// netCase is one architecture of the Net tests.
type netCase struct {
	L             int
	channels      []int
	K             int
	hidden, final Activation
}

func (c netCase) String() string {
	ch := strings.Trim(strings.ReplaceAll(fmt.Sprint(c.channels), " ", "-"), "[]")
	return fmt.Sprintf("L=%d/channels=%s/K=%d/%v-%v", c.L, ch, c.K, c.hidden, c.final)
}

func (c netCase) net() *Net[float64] { return NewNet[float64](c.L, c.channels, c.K, c.hidden, c.final) }

func netCases() []netCase {
	return []netCase{
		{4, []int{2, 8, 8, 7}, 3, LeakyReLU, Identity}, // U(1) conditioner shape
		{4, []int{1, 8, 8, 2}, 3, LeakyReLU, Tanh},     // phi^4 conditioner shape
		{6, []int{2, 3, 2}, 5, Tanh, LeakyReLU},
		{5, []int{3, 2}, 3, Identity, Tanh},
	}
}

// randomParams sets every parameter uniform in (-1, 1), well beyond the
// initialisation bounds, so that tanh saturates in places and products of
// layers are not small.
func randomParams(rng *rand.Rand, n *Net[float64]) {
	p := n.Params()
	for i := range p {
		p[i] = 2*rng.Float64() - 1
	}
}

// kinkPattern returns the sign pattern of the hidden activations in t.
func kinkPattern(t *Tape[float64]) string {
	var b strings.Builder
	for _, a := range t.acts[1:] {
		for _, v := range a {
			if v > 0 {
				b.WriteByte('+')
			} else {
				b.WriteByte('-')
			}
		}
	}
	return b.String()
}

func TestNetBackwardFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	log := &fdLog{t: t}
	for _, c := range netCases() {
		n := c.net()
		randomParams(rng, n)
		tape := n.NewTape()
		in, gout := randVec(rng, n.InSize()), randVec(rng, n.OutSize())
		out := make([]float64, n.OutSize())
		f := func() (float64, string) {
			n.Forward(tape, out, in)
			return dot(gout, out), kinkPattern(tape)
		}
		f()
		gin := randVec(rng, n.InSize()) // overwritten
		grad0 := randVec(rng, n.NumParams())
		grad := append([]float64(nil), grad0...) // accumulated into
		n.Backward(tape, gin, grad, gout)
		for i := range grad {
			grad[i] -= grad0[i]
		}
		log.check(c.String()+"/input", in, f, gin)
		log.check(c.String()+"/params", n.Params(), f, grad)

		// The partial backward passes give the same numbers.
		gin2 := make([]float64, n.InSize())
		n.Backward(tape, gin2, nil, gout)
		grad2 := make([]float64, n.NumParams())
		n.Backward(tape, nil, grad2, gout)
		for i := range gin {
			if gin2[i] != gin[i] {
				t.Errorf("%v: input-only Backward element %d: got %g, want %g", c, i, gin2[i], gin[i])
				break
			}
		}
		for i := range grad {
			if math.Abs(grad2[i]-grad[i]) > 1e-12*(1+math.Abs(grad0[i])) {
				t.Errorf("%v: params-only Backward element %d: got %g, want %g", c, i, grad2[i], grad[i])
				break
			}
		}
	}
	log.report()
}

// shift returns the tensor x (C x L x L) translated by one site in
// direction mu: y(x) = x(x - e_mu).
func shift(x []float64, C, L, mu int) []float64 {
	y := make([]float64, len(x))
	for c := 0; c < C; c++ {
		for x0 := 0; x0 < L; x0++ {
			for x1 := 0; x1 < L; x1++ {
				s0, s1 := x0, x1
				if mu == 0 {
					s0 = (x0 + L - 1) % L
				} else {
					s1 = (x1 + L - 1) % L
				}
				y[(c*L+x0)*L+x1] = x[(c*L+s0)*L+s1]
			}
		}
	}
	return y
}

// Every site sums the same terms in the same order; allow for rounding in
// case a compiler fuses boundary and interior expressions differently.
const equivarianceTol = 1e-13

func TestNetTranslationEquivariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 2))
	for _, c := range append(netCases(), netCase{16, []int{2, 8, 8, 7}, 3, LeakyReLU, Identity}) {
		n := c.net()
		randomParams(rng, n)
		tape := n.NewTape()
		cin, cout := c.channels[0], c.channels[len(c.channels)-1]
		in := randVec(rng, n.InSize())
		out := make([]float64, n.OutSize())
		n.Forward(tape, out, in)
		for mu := 0; mu < 2; mu++ {
			got := make([]float64, n.OutSize())
			n.Forward(tape, got, shift(in, cin, c.L, mu))
			want := shift(out, cout, c.L, mu)
			for j := range got {
				if math.Abs(got[j]-want[j]) > equivarianceTol {
					t.Errorf("%v/mu=%d: element %d: got %.15g, want %.15g", c, mu, j, got[j], want[j])
					break
				}
			}
		}
	}
}

// float32 rounding (6e-8) times the growth through three layers of sums
// of ~100 terms.
const float32Tol = 1e-5

func TestConvertFloat32Forward(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 3))
	for _, c := range []netCase{
		{16, []int{2, 8, 8, 7}, 3, LeakyReLU, Identity},
		{8, []int{1, 8, 8, 2}, 3, LeakyReLU, Tanh},
		{6, []int{2, 3, 2}, 5, Tanh, Identity},
	} {
		n64 := c.net()
		n64.InitRandom(rng)
		n32 := Convert[float32](n64)
		if n32.NumParams() != n64.NumParams() || n32.InSize() != n64.InSize() || n32.OutSize() != n64.OutSize() {
			t.Fatalf("%v: Convert changed the shape", c)
		}
		in64 := randVec(rng, n64.InSize())
		in32 := make([]float32, len(in64))
		for i, v := range in64 {
			in64[i] = float64(float32(v)) // the same input in both precisions
			in32[i] = float32(v)
		}
		out64, out32 := make([]float64, n64.OutSize()), make([]float32, n32.OutSize())
		n64.Forward(n64.NewTape(), out64, in64)
		n32.Forward(n32.NewTape(), out32, in32)
		var num, den float64
		for i := range out64 {
			num = math.Max(num, math.Abs(float64(out32[i])-out64[i]))
			den = math.Max(den, math.Abs(out64[i]))
		}
		if num/den > float32Tol {
			t.Errorf("%v: got float32 relative error %.3g, want <= %.3g", c, num/den, float32Tol)
		}
		t.Logf("%v: float32 relative error %.3g", c, num/den)
	}
}

func TestConvertRoundTrip(t *testing.T) {
	n := NewNet[float64](4, []int{1, 3, 2}, 3, LeakyReLU, Tanh)
	n.InitRandom(rand.New(rand.NewPCG(13, 4)))
	back := Convert[float64](Convert[float32](n))
	if back.Hidden != n.Hidden || back.Final != n.Final || back.L != n.L || back.Kernel() != n.Kernel() {
		t.Fatalf("got architecture L=%d K=%d %v-%v, want L=%d K=%d %v-%v",
			back.L, back.Kernel(), back.Hidden, back.Final, n.L, n.Kernel(), n.Hidden, n.Final)
	}
	for i, v := range n.Params() {
		if want := float64(float32(v)); back.Params()[i] != want {
			t.Fatalf("param %d: got %g, want %g", i, back.Params()[i], want)
		}
	}
}

func TestNetLayout(t *testing.T) {
	n := NewNet[float64](4, []int{2, 8, 8, 7}, 3, LeakyReLU, Identity)
	// torch: Conv2d(2,8,3) + Conv2d(8,8,3) + Conv2d(8,7,3) weights and biases.
	want := (8*2*9 + 8) + (8*8*9 + 8) + (7*8*9 + 7)
	if got := n.NumParams(); got != want {
		t.Errorf("NumParams: got %d, want %d", got, want)
	}
	if got, want := n.InSize(), 2*16; got != want {
		t.Errorf("InSize: got %d, want %d", got, want)
	}
	if got, want := n.OutSize(), 7*16; got != want {
		t.Errorf("OutSize: got %d, want %d", got, want)
	}
	// The layer views are consecutive in Params: W0 B0 W1 B1 W2 B2.
	p := n.Params()
	for i := range p {
		p[i] = float64(i)
	}
	off := 0
	for l, c := range n.Layers {
		if c.W[0] != float64(off) || len(c.W) != c.Cout*c.Cin*9 {
			t.Errorf("layer %d: W starts at %g with length %d, want %d, %d", l, c.W[0], len(c.W), off, c.Cout*c.Cin*9)
		}
		off += len(c.W)
		if c.B[0] != float64(off) || len(c.B) != c.Cout {
			t.Errorf("layer %d: B starts at %g with length %d, want %d, %d", l, c.B[0], len(c.B), off, c.Cout)
		}
		off += len(c.B)
	}
}

func TestInitRandom(t *testing.T) {
	n := NewNet[float64](4, []int{2, 8, 8, 7}, 3, LeakyReLU, Identity)
	n.InitRandom(rand.New(rand.NewPCG(13, 5)))
	for l, c := range n.Layers {
		bound := 1 / math.Sqrt(float64(c.Cin*c.K*c.K))
		var sum2 float64
		for _, v := range append(append([]float64(nil), c.W...), c.B...) {
			if math.Abs(v) >= bound {
				t.Errorf("layer %d: got |param| = %g, want < %g", l, math.Abs(v), bound)
			}
			sum2 += v * v
		}
		// Variance of U(-b, b) is b^2/3; the mean of m squares has standard
		// deviation b^2 sqrt(4/45/m).
		m := float64(len(c.W) + len(c.B))
		got, want := sum2/m, bound*bound/3
		if sigma := bound * bound * math.Sqrt(4/45.0/m); math.Abs(got-want) > 5*sigma {
			t.Errorf("layer %d: got mean square %g, want %g +- 5*%g", l, got, want, sigma)
		}
	}
	m := NewNet[float64](4, []int{2, 8, 8, 7}, 3, LeakyReLU, Identity)
	m.InitRandom(rand.New(rand.NewPCG(13, 5)))
	for i := range m.Params() {
		if m.Params()[i] != n.Params()[i] {
			t.Fatalf("same seed, param %d: got %g, want %g", i, m.Params()[i], n.Params()[i])
		}
	}
}

func TestForwardBackwardNoAlloc(t *testing.T) {
	n := NewNet[float32](8, []int{2, 8, 8, 7}, 3, LeakyReLU, Identity)
	n.InitRandom(rand.New(rand.NewPCG(13, 6)))
	tape := n.NewTape()
	in, out := make([]float32, n.InSize()), make([]float32, n.OutSize())
	gin, grad := make([]float32, n.InSize()), make([]float32, n.NumParams())
	if a := testing.AllocsPerRun(10, func() {
		n.Forward(tape, out, in)
		n.Backward(tape, gin, grad, out)
	}); a != 0 {
		t.Errorf("got %g allocations per Forward+Backward, want 0", a)
	}
}

func TestTapeSharedAcrossNets(t *testing.T) {
	// A tape fits every net of the same shape; Backward after another
	// net's Forward on the same tape is that other net's backward pass.
	rng := rand.New(rand.NewPCG(13, 7))
	a := NewNet[float64](4, []int{1, 3, 2}, 3, LeakyReLU, Identity)
	b := NewNet[float64](4, []int{1, 3, 2}, 3, LeakyReLU, Identity)
	a.InitRandom(rng)
	b.InitRandom(rng)
	ta, tb := a.NewTape(), b.NewTape()
	in, gout := randVec(rng, a.InSize()), randVec(rng, a.OutSize())
	out := make([]float64, a.OutSize())
	b.Forward(ta, out, in)
	b.Forward(tb, out, in)
	g1, g2 := make([]float64, a.InSize()), make([]float64, a.InSize())
	b.Backward(ta, g1, nil, gout)
	b.Backward(tb, g2, nil, gout)
	for i := range g1 {
		if g1[i] != g2[i] {
			t.Fatalf("element %d: got %g, want %g", i, g1[i], g2[i])
		}
	}
}

func TestNetPanics(t *testing.T) {
	n := NewNet[float64](4, []int{1, 3, 2}, 3, LeakyReLU, Identity)
	other := NewNet[float64](4, []int{1, 4, 2}, 3, LeakyReLU, Identity)
	tape := n.NewTape()
	in, out := make([]float64, n.InSize()), make([]float64, n.OutSize())
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"NewNet even kernel", func() { NewNet[float64](4, []int{1, 2}, 2, Identity, Identity) }},
		{"NewNet one channel count", func() { NewNet[float64](4, []int{1}, 3, Identity, Identity) }},
		{"NewNet bad activation", func() { NewNet[float64](4, []int{1, 2}, 3, Activation(7), Identity) }},
		{"Forward nil tape", func() { n.Forward(nil, out, in) }},
		{"Forward foreign tape", func() { other.Forward(tape, out, in) }},
		{"Forward short input", func() { n.Forward(tape, out, in[1:]) }},
		{"Forward tape of other kernel size", func() {
			NewNet[float64](4, []int{1, 3, 2}, 5, LeakyReLU, Identity).Forward(tape, out, in)
		}},
		{"Backward before Forward", func() { n.Backward(n.NewTape(), in, nil, out) }},
		{"Backward short grad", func() { n.Forward(tape, out, in); n.Backward(tape, nil, make([]float64, 3), out) }},
		{"Conv2D short W", func() {
			c := Conv2D[float64]{Cin: 1, Cout: 1, K: 3, W: make([]float64, 8), B: make([]float64, 1)}
			c.Forward(make([]float64, 16), make([]float64, 16), 4)
		}},
		{"activation length", func() { ActivationForwardTo(make([]float64, 2), make([]float64, 3), Tanh) }},
	} {
		func() {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.HasPrefix(s, "nn: ") {
					t.Errorf("%s: got panic %v, want a message starting with %q", c.name, r, "nn: ")
				}
			}()
			c.f()
		}()
	}
}
