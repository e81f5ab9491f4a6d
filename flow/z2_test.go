package flow

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"latflow/lattice"
)

const (
	// z2LogQTol is the absolute tolerance of log q_s from Sample against
	// logaddexp(log q(x), log q(-x)) - log 2 from LogProb of the
	// unsymmetrized flow (float64, rounding of the inverse pass only).
	z2LogQTol = 1e-9
	// z2Sigmas is the tolerance of the statistical checks in standard
	// errors.
	z2Sigmas = 4.0
)

// newZ2TestFlows returns a float64 phi^4 flow q on L x L (random weights,
// every shift biased by tanh(bias) so that q favours m > 0) and the same
// flow symmetrized (Config.Z2), with the same parameters.
func newZ2TestFlows(t *testing.T, L, layers int, scale, bias float64) (q, qs *Flow[float64]) {
	t.Helper()
	cfg := DefaultConfig(TheoryPhi4, L)
	cfg.Layers, cfg.Hidden = layers, []int{4}
	build := func(z2 bool) *Flow[float64] {
		c := cfg
		c.Z2 = z2
		f, err := New[float64](c, rand.New(rand.NewPCG(5, 1)))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range f.Layers {
			net := l.(*RealNVPCoupling[float64]).Net()
			for k := range net.Params() {
				net.Params()[k] *= scale
			}
			last := net.Layers[len(net.Layers)-1]
			last.B[1] = bias
		}
		return f
	}
	return build(false), build(true)
}

// TestZ2SampleIsSymmetrized checks that a Z2 flow draws the samples of q
// with their signs flipped with probability 1/2 and reports
// log q_s = logaddexp(log q(x), log q(-x)) - log 2, evaluated
// independently with the unsymmetrized flow's LogProb, and that LogProb
// of the Z2 flow agrees.
func TestZ2SampleIsSymmetrized(t *testing.T) {
	const L, B = 4, 4000
	q, qs := newZ2TestFlows(t, L, 4, 0.5, 0.5)
	n := q.Size
	x := make([]float64, B*n)
	xs := make([]float64, B*n)
	lq := make([]float64, B)
	lqs := make([]float64, B)
	q.Sample(rand.New(rand.NewPCG(9, 2)), x, lq, 2)
	qs.Sample(rand.New(rand.NewPCG(9, 2)), xs, lqs, 2)
	neg := make([]float64, B*n)
	for k, v := range x {
		neg[k] = -v
	}
	lneg := make([]float64, B)
	if err := q.LogProb(lneg, neg, 2); err != nil {
		t.Fatal(err)
	}
	lpr := make([]float64, B)
	if err := qs.LogProb(lpr, xs, 2); err != nil {
		t.Fatal(err)
	}
	flips := 0
	var mq, mqs float64
	for i := range B {
		xi, si := x[i*n:(i+1)*n], xs[i*n:(i+1)*n]
		sign := 1.0
		if si[0] != xi[0] {
			sign = -1
			flips++
		}
		for k := range xi {
			if si[k] != sign*xi[k] {
				t.Fatalf("sample %d site %d: got %g, want %g (sign %g of the sample of q)", i, k, si[k], sign*xi[k], sign)
			}
			mq += xi[k] / float64(n*B)
			mqs += si[k] / float64(n*B)
		}
		want := math.Log((math.Exp(lq[i]) + math.Exp(lneg[i])) / 2)
		if d := math.Abs(lqs[i] - want); d > z2LogQTol {
			t.Fatalf("sample %d: Sample log q_s got %.12g, want %.12g", i, lqs[i], want)
		}
		if d := math.Abs(lpr[i] - lqs[i]); d > z2LogQTol {
			t.Fatalf("sample %d: LogProb log q_s got %.12g, want Sample's %.12g", i, lpr[i], lqs[i])
		}
	}
	if d := math.Abs(float64(flips) - B/2.0); d > z2Sigmas*math.Sqrt(B/4.0) {
		t.Errorf("flips: got %d of %d, want %d within %g sigma", flips, B, B/2, z2Sigmas)
	}
	// The test flow favours m > 0 (mean m well away from 0); q_s must not.
	t.Logf("mean m: q %.4f, q_s %.4f", mq, mqs)
	if mq < 0.1 {
		t.Fatalf("test flow: mean m of q %.4f, want a flow biased to m > 0.1", mq)
	}
	if math.Abs(mqs) > mq/4 {
		t.Errorf("mean m of q_s: got %.4f, want about 0 (q has %.4f)", mqs, mq)
	}
}

// TestZ2Normalized checks by importance sampling that q_s is normalized:
// for the free field S = phi^T M phi / 2 (hopping parametrization,
// lambda = 0), Z = int exp(-S) = prod_k sqrt(2pi / M(k)) exactly, and
// E_{q_s}[exp(-S(x)) / q_s(x)] = Z for a normalized q_s. Dropping the
// log 2 of log q_s doubles the estimate; using log q(x) for log q_s(x)
// gives E_{q_s}[p/q], not Z.
func TestZ2Normalized(t *testing.T) {
	for _, L := range []int{4} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			const B = 20000
			_, qs := newZ2TestFlows(t, L, 4, 0.2, 0.2)
			g := lattice.NewGeometry(L)
			// A free action near the flow's N(0, 1) base, so that the
			// weights have a small variance:
			// M(k) = 2A - 4J sum_mu cos k_mu = 1 - 0.08 sum_mu cos k_mu.
			act := lattice.Phi4Action{Geom: g, J: 0.02, A: 0.5}
			logZ := 0.0
			for n0 := range L {
				for n1 := range L {
					m := freeKernelTest(L, 2*act.A, 4*act.J, n0, n1)
					logZ += 0.5 * math.Log(2*math.Pi/m)
				}
			}
			x := make([]float64, B*qs.Size)
			lq := make([]float64, B)
			qs.Sample(rand.New(rand.NewPCG(3, 3)), x, lq, 2)
			var sum, sum2 float64
			for i := range B {
				w := math.Exp(-act.Action(x[i*qs.Size:(i+1)*qs.Size]) - lq[i] - logZ)
				sum += w
				sum2 += w * w
			}
			mean := sum / B
			se := math.Sqrt((sum2/B - mean*mean) / B)
			t.Logf("E[w]/Z = %.4f +- %.4f", mean, se)
			if math.Abs(mean-1) > z2Sigmas*se || se > 0.05 {
				t.Errorf("E_{q_s}[exp(-S)/q_s]/Z: got %.4f +- %.4f, want 1 within %g sigma (and an error < 0.05)", mean, se, z2Sigmas)
			}
		})
	}
}

// freeKernelTest is M(k) = a - b sum_mu cos k_mu of a free action.
func freeKernelTest(L int, a, b float64, n0, n1 int) float64 {
	k0 := 2 * math.Pi * float64(n0) / float64(L)
	k1 := 2 * math.Pi * float64(n1) / float64(L)
	return a - b*(math.Cos(k0)+math.Cos(k1))
}

// TestZ2ScoreFD checks the score of q_s from SampleScore against finite
// differences of the Z2 flow's LogProb, and that the samples and log q_s
// are those of Sample.
func TestZ2ScoreFD(t *testing.T) {
	const L, B = 4, 6
	_, qs := newZ2TestFlows(t, L, 4, 0.5, 0.5)
	n := qs.Size
	x := make([]float64, B*n)
	s := make([]float64, B*n)
	lq := make([]float64, B)
	qs.SampleScore(rand.New(rand.NewPCG(4, 4)), x, s, lq, 2)
	x2 := make([]float64, B*n)
	lq2 := make([]float64, B)
	qs.Sample(rand.New(rand.NewPCG(4, 4)), x2, lq2, 1)
	one := make([]float64, 1)
	logProb := func(xi []float64) float64 {
		if err := qs.LogProb(one, xi, 1); err != nil {
			t.Fatal(err)
		}
		return one[0]
	}
	for i := range B {
		if lq[i] != lq2[i] || x[i*n] != x2[i*n] {
			t.Fatalf("sample %d: SampleScore gave x[0]=%g, log q_s=%g, Sample %g, %g", i, x[i*n], lq[i], x2[i*n], lq2[i])
		}
		xi, si := x[i*n:(i+1)*n], s[i*n:(i+1)*n]
		want := jacGradFD(logProb, xi, nil)
		e := jacMaxRel(si, want, nil, 1)
		if e > flowFDTol {
			t.Errorf("sample %d: d log q_s/dx: got max relative error %.3g, want < %g", i, e, flowFDTol)
		}
	}
}

func TestZ2Config(t *testing.T) {
	c := DefaultConfig(TheoryU1, 8)
	c.Z2 = true
	if err := c.Validate(); err == nil {
		t.Errorf("u1 with z2: got no error, want one")
	}
	_, qs := newZ2TestFlows(t, 4, 2, 1, 0)
	m := NewModel(qs)
	m.Target.Theory, m.Target.L = TheoryPhi4, 4
	m.Target.Parametrization = "hopping"
	m.Target.Couplings = map[string]float64{"kappa": 0.27, "lambda": 0.022}
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode("z2", b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Config.Z2 {
		t.Errorf("decoded model: z2 false, want true")
	}
	f, err := Build[float32](got)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Config.Z2 {
		t.Errorf("built flow: z2 false, want true")
	}
}
