package flow

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// invTestLogP is the test target of the pullback, log p(x) =
// -sum_k (x_k^2/2 + a x_k^4) with a = 0.1, and its gradient.
func invTestLogP(x []float64) float64 {
	var v float64
	for _, xk := range x {
		v -= 0.5*xk*xk + 0.1*xk*xk*xk*xk
	}
	return v
}

func invTestScore(s, x []float64) {
	for k, xk := range x {
		s[k] = -xk - 0.4*xk*xk*xk
	}
}

func TestFlowInverseForward(t *testing.T) {
	for _, L := range []int{4, 6} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			f := newTestPhi4Flow(t, 31, L, 6)
			const B = 3
			n := B * f.Size
			x := make([]float64, n)
			logq := make([]float64, B)
			f.Sample(rand.New(rand.NewPCG(31, 1)), x, logq, 2)
			z0 := make([]float64, n)
			f.SampleBase(rand.New(rand.NewPCG(31, 1)), z0)

			p := f.NewPass(B)
			z, s, lq := make([]float64, n), make([]float64, n), make([]float64, B)
			invTestScore(s, x)
			if err := f.InverseForward(p, z, x, s, lq, 2); err != nil {
				t.Fatal(err)
			}
			if e := jacMaxRel(z, z0, nil, 1); e > rnvpInverseTol {
				t.Errorf("z: got max error %.3g from the base samples, want < %g", e, rnvpInverseTol)
			}
			if e := jacMaxRel(lq, logq, nil, 1); e > rnvpInverseTol {
				t.Errorf("log q: got max error %.3g from Sample, want < %g", e, rnvpInverseTol)
			}

			// s = d/dz [log p(T(z)) + sum_l log|det J_l|(z)], with
			// sum_l log|det J_l| = log q0(z) - log q(T(z)), by finite
			// differences through a forward pass.
			fp := f.NewPass(1)
			xi, one := make([]float64, f.Size), make([]float64, 1)
			logPull := func(zi []float64) float64 {
				f.Forward(fp, xi, nil, one, zi, 1)
				return invTestLogP(xi) + f.Base.LogDensity(zi) - one[0]
			}
			for i := 0; i < B; i++ {
				zi, si := z[i*f.Size:(i+1)*f.Size], s[i*f.Size:(i+1)*f.Size]
				want := jacGradFD(logPull, zi, nil)
				e := jacMaxRel(si, want, nil, 1)
				if e > flowFDTol {
					t.Errorf("sample %d: d/dz log p_theta,0: got max relative error %.3g, want < %g", i, e, flowFDTol)
				}
				t.Logf("sample %d: pullback score max relative error %.3g", i, e)
			}
		})
	}
}

func TestFlowInverseBackwardFD(t *testing.T) {
	const L, layers, B = 4, 4, 3
	f := newTestPhi4Flow(t, 32, L, layers)
	rng := rand.New(rand.NewPCG(32, 1))
	n := B * f.Size
	x := jacNormal(rng, n, 1)
	gz := jacNormal(rng, n, 1)
	glogq := jacNormal(rng, B, 1)
	p := f.NewPass(B)
	z, logq := make([]float64, n), make([]float64, B)
	// loss = sum_i gz_i . z_i + glogq_i log q_i as a function of x.
	loss := func(x []float64) float64 {
		if err := f.InverseForward(p, z, x, nil, logq, 1); err != nil {
			t.Fatal(err)
		}
		var v float64
		for k := range z {
			v += gz[k] * z[k]
		}
		for i := range logq {
			v += glogq[i] * logq[i]
		}
		return v
	}
	loss(x)
	gx := make([]float64, n)
	grad := make([]float64, f.NumParams())
	for i := range grad {
		grad[i] = 1 // InverseBackward must add to grad.
	}
	f.InverseBackward(p, gx, gz, glogq, grad, 2)
	for i := range grad {
		grad[i]--
	}

	wantGx := jacGradFD(loss, x, nil)
	if e := jacMaxRel(gx, wantGx, nil, 1); e > flowFDTol {
		t.Errorf("gx: got max relative error %.3g, want < %g", e, flowFDTol)
	} else {
		t.Logf("gx: max relative error %.3g", e)
	}

	theta := make([]float64, f.NumParams())
	f.GetParams(theta)
	ploss := func(q []float64) float64 {
		f.SetParams(q)
		v := loss(x)
		f.SetParams(theta)
		return v
	}
	idx := jacSubset(rng, len(theta), 300)
	wantGrad := jacGradFD(ploss, theta, idx)
	if e := jacMaxRel(grad, wantGrad, idx, 1); e > flowFDTol {
		t.Errorf("grad: got max relative error %.3g, want < %g", e, flowFDTol)
	} else {
		t.Logf("grad: max relative error %.3g over %d of %d params", e, len(idx), len(theta))
	}

	// gz = nil, glogq = 1 gives d log q/dx, the score of SampleScore.
	loss(x)
	ones := []float64{1, 1, 1}
	f.InverseBackward(p, gx, nil, ones, nil, 1)
	xs, s, lq := make([]float64, n), make([]float64, n), make([]float64, B)
	fp := f.NewPass(B)
	f.Forward(fp, xs, s, lq, z, 1)
	if e := jacMaxRel(gx, s, nil, 1); e > rnvpInverseTol {
		t.Errorf("d log q/dx: got max relative difference %.3g from the fast-path score, want < %g", e, rnvpInverseTol)
	}
}

func TestFlowInverseReproducible(t *testing.T) {
	f := newTestPhi4Flow(t, 33, 8, 4)
	const B = 40 // more samples than chunks
	n := B * f.Size
	rng := rand.New(rand.NewPCG(33, 1))
	x := jacNormal(rng, n, 1.5)
	gz := jacNormal(rng, n, 1)
	glogq := jacNormal(rng, B, 1)
	var want [][]float64
	for _, workers := range []int{1, 2, 3, 0} {
		p := f.NewPass(B)
		z, s, logq := make([]float64, n), make([]float64, n), make([]float64, B)
		invTestScore(s, x)
		if err := f.InverseForward(p, z, x, s, logq, workers); err != nil {
			t.Fatal(err)
		}
		gx, grad := make([]float64, n), make([]float64, f.NumParams())
		f.InverseBackward(p, gx, gz, glogq, grad, workers)
		got := [][]float64{z, s, logq, gx, grad}
		if want == nil {
			want = got
			continue
		}
		for j, name := range []string{"z", "s", "logq", "gx", "grad"} {
			for k := range want[j] {
				if math.Float64bits(got[j][k]) != math.Float64bits(want[j][k]) {
					t.Errorf("%s[%d] with %d workers: got %v, want %v (bit-identical to 1 worker)", name, k, workers, got[j][k], want[j][k])
					break
				}
			}
		}
	}
}

func TestFlowInverseNoAlloc(t *testing.T) {
	t.Run("affine", func(t *testing.T) { checkFlowInverseNoAlloc(t, newTestPhi4Flow(t, 34, 8, 4)) })
	t.Run("zero-mode", func(t *testing.T) { checkFlowInverseNoAlloc(t, newTestZeroModeFlow(t, 34, 8, 4, 0.5)) })
	t.Run("blocks", func(t *testing.T) { checkFlowInverseNoAlloc(t, newTestBlockFlow(t, 35, 8, 2, []int{2, 2}, 0.5)) })
	t.Run("spectral", func(t *testing.T) { checkFlowInverseNoAlloc(t, newTestSpectralFlow(t, 36, 8, 2, 4, 0.5)) })
}

// checkFlowInverseNoAlloc checks that the inverse pass of f and its
// backward pass allocate nothing.
func checkFlowInverseNoAlloc(t *testing.T, f *Flow[float64]) {
	const B = 8
	n := B * f.Size
	rng := rand.New(rand.NewPCG(34, 1))
	x, s, q := jacNormal(rng, n, 1), make([]float64, n), make([]float64, B)
	z, gx, grad := make([]float64, n), make([]float64, n), make([]float64, f.NumParams())
	p := f.NewPass(B)
	cases := []struct {
		name string
		fn   func()
	}{
		{"InverseForward", func() {
			if err := f.InverseForward(p, z, x, s, q, 1); err != nil {
				t.Fatal(err)
			}
		}},
		{"InverseBackward", func() { f.InverseBackward(p, gx, z, q, grad, 1) }},
	}
	for _, c := range cases {
		if a := testing.AllocsPerRun(5, c.fn); a != 0 {
			t.Errorf("%s with 1 worker: got %v allocations per call, want 0", c.name, a)
		}
	}
}

// invTestFailLayer is flowTestFailLayer with the InverseLayer methods: the
// identity, whose inverse fails on samples with y[0] < 0.
type invTestFailLayer struct{ flowTestFailLayer }

func (l invTestFailLayer) InverseForward(tp Tape, x, y, _ []float64) (float64, error) {
	return l.Inverse(tp, x, y)
}

func (l invTestFailLayer) InverseBackward(_ Tape, gy, gx []float64, _ float64, _ []float64) {
	if gy != nil {
		copy(gy, gx)
	}
}

func TestFlowInverseForwardErrors(t *testing.T) {
	t.Run("not-inverse-layer", func(t *testing.T) {
		f := NewFlow(Config{}, NormalBase{}, 2, []Layer[float64]{invTestFailLayer{flowTestFailLayer{2}}, flowTestFailLayer{2}})
		p := f.NewPass(1)
		err := f.InverseForward(p, nil, []float64{1, 0}, nil, make([]float64, 1), 1)
		if err == nil {
			t.Fatal("got nil error, want one for a layer without InverseLayer")
		}
		if want := "layer 1 (flow.flowTestFailLayer)"; !strings.Contains(err.Error(), want) {
			t.Errorf("got error %q, want it to contain %q", err, want)
		}
	})
	t.Run("inverse-fails", func(t *testing.T) {
		l := invTestFailLayer{flowTestFailLayer{2}}
		f := NewFlow(Config{}, NormalBase{}, 2, []Layer[float64]{l, l})
		p := f.NewPass(4)
		x := []float64{1, 0, 2, 0, -1, 0, -2, 0}
		q := make([]float64, 4)
		err := f.InverseForward(p, nil, x, nil, q, 2)
		if !errors.Is(err, errFlowTest) {
			t.Fatalf("got error %v, want one wrapping %v", err, errFlowTest)
		}
		if want := "sample 2: layer 1"; !strings.Contains(err.Error(), want) {
			t.Errorf("got error %q, want it to contain %q", err, want)
		}
		for i, ok := range []bool{true, true, false, false} {
			if math.IsNaN(q[i]) == ok {
				t.Errorf("logq[%d]: got %v, want NaN only for failed samples", i, q[i])
			}
		}
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Error("InverseBackward after a failed InverseForward: got no panic, want one")
				}
			}()
			f.InverseBackward(p, nil, nil, nil, nil, 1)
		}()
	})
}
