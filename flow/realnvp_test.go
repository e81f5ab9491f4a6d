package flow

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"latflow/lattice"
)

const (
	// rnvpFDTol is the tolerance of hand-written derivatives against
	// central finite differences, relative to the largest reference entry.
	rnvpFDTol = 1e-6
	// rnvpLogDetTol is the absolute tolerance of log|det J| against the
	// log-determinant of the finite-difference Jacobian of one layer.
	rnvpLogDetTol = 1e-6
	// rnvpFlowLogDetTol is the same for a whole 16-layer flow at random
	// weights: its Jacobian has entries of order 100 (FD rounding error
	// ~1e-8 per entry) and condition number ~1e5, so the FD log-determinant
	// is good to ~1e-6 only.
	rnvpFlowLogDetTol = 1e-5
	// rnvpInverseTol is the absolute tolerance of inverse(forward(z)) = z.
	rnvpInverseTol = 1e-10
	// rnvpWeightNoise is the standard deviation of the noise added to the
	// initialized weights, so tests run at random weights.
	rnvpWeightNoise = 0.2
)

// newTestCoupling returns a float64 coupling with random weights.
func newTestCoupling(rng *rand.Rand, L, parity int) *RealNVPCoupling[float64] {
	c := NewRealNVPCoupling[float64](lattice.NewGeometry(L), parity, []int{8, 8}, 3)
	c.Net().InitRandom(rng)
	jacPerturb(rng, c.Params(), rnvpWeightNoise)
	return c
}

// newTestPhi4Flow returns a float64 phi^4 flow with random weights.
func newTestPhi4Flow(t testing.TB, seed uint64, L, layers int) *Flow[float64] {
	t.Helper()
	cfg := DefaultConfig(TheoryPhi4, L)
	cfg.Layers = layers
	rng := rand.New(rand.NewPCG(seed, 1))
	f, err := NewPhi4Flow[float64](cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, f.NumParams())
	f.GetParams(p)
	jacPerturb(rng, p, rnvpWeightNoise)
	f.SetParams(p)
	return f
}

// layerMap returns x -> y of a layer as a function for jacFD.
func layerMap(l Layer[float64]) func(y, x []float64) {
	tp := l.NewTape()
	return func(y, x []float64) { l.Forward(tp, y, x, nil) }
}

// layerLogDet returns x -> log|det dy/dx| of a layer.
func layerLogDet(l Layer[float64]) func(x []float64) float64 {
	tp := l.NewTape()
	y := make([]float64, l.Size())
	return func(x []float64) float64 { return l.Forward(tp, y, x, nil) }
}

var rnvpCases = []struct{ L, parity int }{{4, 0}, {4, 1}, {6, 1}}

func TestRealNVPCouplingVJPFD(t *testing.T) {
	for _, tc := range rnvpCases {
		t.Run(fmt.Sprintf("L=%d/parity=%d", tc.L, tc.parity), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, uint64(tc.L*2+tc.parity)))
			c := newTestCoupling(rng, tc.L, tc.parity)
			V := c.Size()
			x := jacNormal(rng, V, 1)
			gy := jacNormal(rng, V, 1)
			gld := 0.7
			// The loss is L = gy . y + gld log|det|.
			loss := func(x []float64) float64 {
				y := make([]float64, V)
				ld := c.Forward(c.NewTape(), y, x, nil)
				v := gld * ld
				for i := range y {
					v += gy[i] * y[i]
				}
				return v
			}
			// Forward with a score first: Backward must still see the
			// tape of that Forward after the fast-path VJP.
			tp := c.NewTape()
			y := make([]float64, V)
			c.Forward(tp, y, x, jacNormal(rng, V, 1))
			gx := make([]float64, V)
			grad := make([]float64, len(c.Params()))
			for i := range grad {
				grad[i] = 1 // Backward must add to grad.
			}
			c.Backward(tp, gx, gy, gld, grad)
			for i := range grad {
				grad[i]--
			}

			wantGx := jacGradFD(loss, x, nil)
			if e := jacMaxRel(gx, wantGx, nil, 1); e > rnvpFDTol {
				t.Errorf("gx: got max relative error %.3g, want < %g", e, rnvpFDTol)
			}
			t.Logf("gx: max relative error %.3g", e64(gx, wantGx))

			p := c.Params()
			p0 := append([]float64(nil), p...)
			ploss := func(q []float64) float64 {
				copy(p, q)
				v := loss(x)
				copy(p, p0)
				return v
			}
			wantGrad := jacGradFD(ploss, p0, nil)
			if e := jacMaxRel(grad, wantGrad, nil, 1); e > rnvpFDTol {
				t.Errorf("grad: got max relative error %.3g, want < %g", e, rnvpFDTol)
			}
			t.Logf("grad: max relative error %.3g (%d params)", e64(grad, wantGrad), len(p))

			// gx = nil skips the input VJP but still accumulates grad.
			grad2 := make([]float64, len(p))
			c.Backward(tp, nil, gy, gld, grad2)
			if e := jacMaxRel(grad2, wantGrad, nil, 1); e > rnvpFDTol {
				t.Errorf("grad with gx=nil: got max relative error %.3g, want < %g", e, rnvpFDTol)
			}
		})
	}
}

// e64 is jacMaxRel over all entries with floor 1, for logging.
func e64(got, want []float64) float64 { return jacMaxRel(got, want, nil, 1) }

func TestRealNVPLogDetFD(t *testing.T) {
	for _, tc := range rnvpCases {
		t.Run(fmt.Sprintf("L=%d/parity=%d", tc.L, tc.parity), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(12, uint64(tc.L*2+tc.parity)))
			c := newTestCoupling(rng, tc.L, tc.parity)
			x := jacNormal(rng, c.Size(), 1)
			got := layerLogDet(c)(x)
			want := jacLogDet(jacFD(layerMap(c), c.Size(), x))
			if math.Abs(got-want) > rnvpLogDetTol {
				t.Errorf("log|det J|: got %.12g, want %.12g (finite differences)", got, want)
			}
			t.Logf("log|det J|: %.10g, error %.3g", got, got-want)
		})
	}
	t.Run("flow/L=4", func(t *testing.T) {
		f := newTestPhi4Flow(t, 13, 4, 16)
		rng := rand.New(rand.NewPCG(13, 2))
		z := jacNormal(rng, f.Size, 1)
		x := make([]float64, f.Size)
		logq := make([]float64, 1)
		p := f.NewPass(1)
		f.Forward(p, x, nil, logq, z, 1)
		got := f.Base.LogDensity(z) - logq[0]
		fn := func(x, z []float64) { f.Forward(p, x, nil, logq, z, 1) }
		want := jacLogDet(jacFD(fn, f.Size, z))
		if math.Abs(got-want) > rnvpFlowLogDetTol {
			t.Errorf("sum of log|det J_l|: got %.12g, want %.12g (finite differences)", got, want)
		}
		t.Logf("sum of log|det J_l|: %.10g, error %.3g", got, got-want)
	})
}

func TestRealNVPFastPathStep(t *testing.T) {
	for _, tc := range rnvpCases {
		t.Run(fmt.Sprintf("L=%d/parity=%d", tc.L, tc.parity), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(14, uint64(tc.L*2+tc.parity)))
			c := newTestCoupling(rng, tc.L, tc.parity)
			V := c.Size()
			x := jacNormal(rng, V, 1)
			s := jacNormal(rng, V, 1)

			// want = J^-T (s - grad_x log|det J|), all from finite differences.
			J := jacFD(layerMap(c), V, x)
			gld := jacGradFD(layerLogDet(c), x, nil)
			rhs := make([]float64, V)
			for i := range rhs {
				rhs[i] = s[i] - gld[i]
			}
			var sol mat.VecDense
			if err := sol.SolveVec(J.T(), mat.NewVecDense(V, rhs)); err != nil {
				t.Fatal(err)
			}
			want := sol.RawVector().Data

			got := append([]float64(nil), s...)
			y := make([]float64, V)
			c.Forward(c.NewTape(), y, x, got)
			if e := jacMaxRel(got, want, nil, 1); e > rnvpFDTol {
				t.Errorf("s': got max relative error %.3g, want < %g", e, rnvpFDTol)
			}
			t.Logf("s': max relative error %.3g", e64(got, want))
		})
	}
}

func TestRealNVPInverse(t *testing.T) {
	for _, L := range []int{4, 8} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			f := newTestPhi4Flow(t, 15, L, 16)
			const B = 4
			x := make([]float64, B*f.Size)
			logq := make([]float64, B)
			f.Sample(rand.New(rand.NewPCG(15, 3)), x, logq, 2)
			z := make([]float64, len(x))
			f.SampleBase(rand.New(rand.NewPCG(15, 3)), z)

			// Invert layer by layer and compare with the base samples.
			var maxErr, maxLd float64
			a, b := make([]float64, f.Size), make([]float64, f.Size)
			tapes := make([]Tape, len(f.Layers))
			for l, layer := range f.Layers {
				tapes[l] = layer.NewTape()
			}
			for i := 0; i < B; i++ {
				copy(a, x[i*f.Size:(i+1)*f.Size])
				var ld float64
				for l := len(f.Layers) - 1; l >= 0; l-- {
					d, err := f.Layers[l].Inverse(tapes[l], b, a)
					if err != nil {
						t.Fatal(err)
					}
					ld += d
					a, b = b, a
				}
				for k, v := range a {
					maxErr = math.Max(maxErr, math.Abs(v-z[i*f.Size+k]))
				}
				maxLd = math.Max(maxLd, math.Abs(f.Base.LogDensity(a)-ld-logq[i]))
			}
			t.Logf("inverse error %.3g, log q error %.3g", maxErr, maxLd)
			if maxErr > rnvpInverseTol {
				t.Errorf("inverse(forward(z)) - z: got max %.3g, want < %g", maxErr, rnvpInverseTol)
			}
			if maxLd > rnvpInverseTol {
				t.Errorf("log q from the inverse minus log q from sampling: got max %.3g, want < %g", maxLd, rnvpInverseTol)
			}
		})
	}
}

func TestRealNVPInverseBackwardFD(t *testing.T) {
	for _, tc := range rnvpCases {
		t.Run(fmt.Sprintf("L=%d/parity=%d", tc.L, tc.parity), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(16, uint64(tc.L*2+tc.parity)))
			c := newTestCoupling(rng, tc.L, tc.parity)
			V := c.Size()
			y := jacNormal(rng, V, 1)
			gx := jacNormal(rng, V, 1)
			gld := -0.8
			// The loss is L = gx . x(y) + gld log|det dy/dx|(y).
			loss := func(y []float64) float64 {
				x := make([]float64, V)
				ld, err := c.InverseForward(c.NewTape(), x, y, nil)
				if err != nil {
					t.Fatal(err)
				}
				v := gld * ld
				for i := range x {
					v += gx[i] * x[i]
				}
				return v
			}
			// InverseForward with a score first: InverseBackward must still
			// see the tape of that pass after the pullback VJP.
			tp := c.NewTape()
			x := make([]float64, V)
			if _, err := c.InverseForward(tp, x, y, jacNormal(rng, V, 1)); err != nil {
				t.Fatal(err)
			}
			xInv := make([]float64, V)
			if _, err := c.Inverse(c.NewTape(), xInv, y); err != nil {
				t.Fatal(err)
			}
			for i := range x {
				if x[i] != xInv[i] {
					t.Fatalf("x[%d]: got %v from InverseForward, want %v (Inverse, bit-identical)", i, x[i], xInv[i])
				}
			}
			gy := make([]float64, V)
			grad := make([]float64, len(c.Params()))
			for i := range grad {
				grad[i] = 1 // InverseBackward must add to grad.
			}
			c.InverseBackward(tp, gy, gx, gld, grad)
			for i := range grad {
				grad[i]--
			}

			wantGy := jacGradFD(loss, y, nil)
			if e := jacMaxRel(gy, wantGy, nil, 1); e > rnvpFDTol {
				t.Errorf("gy: got max relative error %.3g, want < %g", e, rnvpFDTol)
			}
			t.Logf("gy: max relative error %.3g", e64(gy, wantGy))

			p := c.Params()
			p0 := append([]float64(nil), p...)
			ploss := func(q []float64) float64 {
				copy(p, q)
				v := loss(y)
				copy(p, p0)
				return v
			}
			wantGrad := jacGradFD(ploss, p0, nil)
			if e := jacMaxRel(grad, wantGrad, nil, 1); e > rnvpFDTol {
				t.Errorf("grad: got max relative error %.3g, want < %g", e, rnvpFDTol)
			}
			t.Logf("grad: max relative error %.3g (%d params)", e64(grad, wantGrad), len(p))

			// gy = nil skips the input VJP but still accumulates grad.
			grad2 := make([]float64, len(p))
			c.InverseBackward(tp, nil, gx, gld, grad2)
			if e := jacMaxRel(grad2, wantGrad, nil, 1); e > rnvpFDTol {
				t.Errorf("grad with gy=nil: got max relative error %.3g, want < %g", e, rnvpFDTol)
			}
			// The tape of InverseForward is that of a Forward at x, so
			// Backward at x must match the forward VJP.
			gx2 := make([]float64, V)
			c.Backward(tp, gx2, gx, gld, nil)
			wantGx := make([]float64, V)
			tf := c.NewTape()
			c.Forward(tf, make([]float64, V), x, nil)
			c.Backward(tf, wantGx, gx, gld, nil)
			if e := jacMaxRel(gx2, wantGx, nil, 1); e != 0 {
				t.Errorf("Backward after InverseForward: got max relative difference %.3g from Backward after Forward, want 0", e)
			}
		})
	}
}

func TestRealNVPPullbackStep(t *testing.T) {
	for _, tc := range rnvpCases {
		t.Run(fmt.Sprintf("L=%d/parity=%d", tc.L, tc.parity), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(17, uint64(tc.L*2+tc.parity)))
			c := newTestCoupling(rng, tc.L, tc.parity)
			V := c.Size()
			y := jacNormal(rng, V, 1)
			sy := jacNormal(rng, V, 1)
			got := append([]float64(nil), sy...)
			x := make([]float64, V)
			ld, err := c.InverseForward(c.NewTape(), x, y, got)
			if err != nil {
				t.Fatal(err)
			}

			// want = J^T s_y + grad_x log|det J| at x, from finite differences.
			J := jacFD(layerMap(c), V, x)
			want := jacGradFD(layerLogDet(c), x, nil)
			var jts mat.VecDense
			jts.MulVec(J.T(), mat.NewVecDense(V, sy))
			for i := range want {
				want[i] += jts.AtVec(i)
			}
			if e := jacMaxRel(got, want, nil, 1); e > rnvpFDTol {
				t.Errorf("s_x: got max relative error %.3g, want < %g", e, rnvpFDTol)
			}
			t.Logf("s_x: max relative error %.3g", e64(got, want))
			if wantLd := jacLogDet(J); math.Abs(ld-wantLd) > rnvpLogDetTol {
				t.Errorf("log|det J|: got %.12g, want %.12g (finite differences at x)", ld, wantLd)
			}
		})
	}
}
