package flow

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"latflow/ensemble"
	"latflow/lattice"
)

const (
	// splineTestBins, splineTestBound are the spline of the layer tests:
	// the bound is small enough that N(0, 1.5^2) inputs fall in both the
	// spline and the identity tails.
	splineTestBins  = 5
	splineTestBound = 2.5
)

// splineTheta returns random spline parameters of one site (3K-1 values,
// laid out as a conditioner output with V = 1).
func splineTheta(rng *rand.Rand, k int, sigma float64) []float64 {
	return jacNormal(rng, 3*k-1, sigma)
}

// splineSetupTest loads the spline of the parameters theta (one site) into r.
func splineSetupTest(r *rqs, theta []float64) {
	pre, sig := make([]float64, 3*r.k-1), make([]float64, r.k-1)
	splinePrepare(pre, sig, make([]float64, 1), theta, 1, r.k)
	r.load(pre, sig, 1, 0)
}

// TestSplineSiteFD checks the spline of one site against finite
// differences: dy/dx of y, d log(dy/dx)/dx of log(dy/dx), and the VJP in x
// and in the 3K-1 parameters of cy y + cl log(dy/dx), at points in every
// bin and in the tails; and that the map is monotone and continuous with
// slope 1 at the ends of [-B, B].
func TestSplineSiteFD(t *testing.T) {
	for _, k := range []int{2, 5, 8} {
		t.Run(fmt.Sprintf("K=%d", k), func(t *testing.T) {
			const b = 2.0
			rng := rand.New(rand.NewPCG(21, uint64(k)))
			r := newRQS(k, b)
			theta := splineTheta(rng, k, 1.5)
			eval := func(th []float64, x float64) (y, dy, dl float64) {
				splineSetupTest(r, th)
				y, dy, dl, _ = r.site(x, 0, 0, false)
				return
			}
			const cy, cl = 0.8, -1.3
			var maxErr float64
			for i := range 60 {
				x := -b - 0.5 + (2*b+1)*(float64(i)+rng.Float64())/60
				y, dy, dl := eval(theta, x)
				yp, dyp, _ := eval(theta, x+jacStep)
				ym, dym, _ := eval(theta, x-jacStep)
				fdDy := jacStencil(yp, ym)
				fdDl := jacStencil(math.Log(dyp), math.Log(dym))
				if e := math.Abs(dy-fdDy) / math.Max(1, math.Abs(fdDy)); e > rnvpFDTol {
					t.Errorf("x=%.4f: dy/dx %.10g, want %.10g (FD)", x, dy, fdDy)
				}
				if e := math.Abs(dl-fdDl) / math.Max(1, math.Abs(fdDl)); e > rnvpFDTol {
					t.Errorf("x=%.4f: d log(dy/dx)/dx %.10g, want %.10g (FD)", x, dl, fdDl)
				}
				if !(dy > 0) {
					t.Errorf("x=%.4f: dy/dx = %g, want > 0", x, dy)
				}
				if math.Abs(x) >= b && (y != x || dy != 1) {
					t.Errorf("x=%.4f outside [-B, B]: y=%g, dy/dx=%g, want the identity", x, y, dy)
				}
				// The VJP in x and in theta.
				splineSetupTest(r, theta)
				_, _, _, gx := r.site(x, cy, cl, true)
				gth := append([]float64(nil), r.gtheta...)
				f := func(th []float64, x float64) float64 {
					y, dy, _ := eval(th, x)
					return cy*y + cl*math.Log(dy)
				}
				wantGx := jacStencil(f(theta, x+jacStep), f(theta, x-jacStep))
				if e := math.Abs(gx-wantGx) / math.Max(1, math.Abs(wantGx)); e > rnvpFDTol {
					t.Errorf("x=%.4f: gx %.10g, want %.10g (FD)", x, gx, wantGx)
				}
				wantGth := jacGradFD(func(th []float64) float64 { return f(th, x) }, theta, nil)
				e := jacMaxRel(gth, wantGth, nil, 1)
				maxErr = math.Max(maxErr, e)
				if e > rnvpFDTol {
					t.Errorf("x=%.4f: gtheta max relative error %.3g, want < %g\ngot  %v\nwant %v", x, e, rnvpFDTol, gth, wantGth)
				}
			}
			t.Logf("gtheta: max relative error %.3g", maxErr)
			// Continuity and slope 1 at the ends.
			for _, e := range []float64{-b, b} {
				yIn, dyIn, _ := eval(theta, e-math.Copysign(1e-12, e))
				if math.Abs(yIn-e) > 1e-9 || math.Abs(dyIn-1) > 1e-6 {
					t.Errorf("at %g from inside: y=%.12g, dy/dx=%.9g, want %g and 1", e, yIn, dyIn, e)
				}
			}
		})
	}
}

// TestSplineSiteInverse checks inverse(y(x)) = x on a grid through every
// bin and the tails, and that theta = 0 is the identity.
func TestSplineSiteInverse(t *testing.T) {
	const k, b = 6, 3.0
	rng := rand.New(rand.NewPCG(22, 1))
	r := newRQS(k, b)
	for trial := range 3 {
		theta := splineTheta(rng, k, 2)
		if trial == 0 {
			clear(theta)
		}
		splineSetupTest(r, theta)
		var maxErr float64
		for i := range 400 {
			x := -b - 1 + (2*b+2)*float64(i)/399
			y, _, _, _ := r.site(x, 0, 0, false)
			if trial == 0 && math.Abs(y-x) > 1e-12 {
				t.Fatalf("theta = 0: y(%g) = %.15g, want the identity", x, y)
			}
			maxErr = math.Max(maxErr, math.Abs(r.inverse(y)-x))
		}
		if maxErr > 1e-12 {
			t.Errorf("trial %d: max |inverse(y(x)) - x| = %.3g, want < 1e-12", trial, maxErr)
		}
	}
}

// newTestSplineCoupling returns a float64 spline coupling with random
// weights.
func newTestSplineCoupling(rng *rand.Rand, L, parity int) *SplineCoupling[float64] {
	c := NewSplineCoupling[float64](lattice.NewGeometry(L), parity, []int{8, 8}, 3, splineTestBins, splineTestBound)
	c.Net().InitRandom(rng)
	jacPerturb(rng, c.Params(), rnvpWeightNoise)
	return c
}

// splineFlowConfig is a small spline flow's config.
func splineFlowConfig(L, layers int) Config {
	cfg := DefaultConfig(TheoryPhi4, L)
	cfg.Layers = layers
	cfg.Coupling, cfg.Bins, cfg.SplineBound = CouplingSpline, splineTestBins, splineTestBound
	return cfg
}

// newTestSplineFlow returns a float64 spline phi^4 flow with random
// weights: InitRandom scaled by scale. (At the full InitRandom weights the
// identity-output conditioners give splines so steep that a flow of a few
// layers contracts its base by e^-5 per site and more.)
func newTestSplineFlow(t testing.TB, seed uint64, L, layers int, scale float64) *Flow[float64] {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	f, err := New[float64](splineFlowConfig(L, layers), rng)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, f.NumParams())
	f.GetParams(p)
	for i := range p {
		p[i] *= scale
	}
	f.SetParams(p)
	return f
}

// checkLayerVJP checks Backward (after a Forward with a score) against
// finite differences of gy . y + gld log|det| in x and in the parameters.
func checkLayerVJP(t *testing.T, c Layer[float64], rng *rand.Rand) {
	V := c.Size()
	x := jacNormal(rng, V, 1.5)
	gy := jacNormal(rng, V, 1)
	gld := 0.7
	loss := func(x []float64) float64 {
		y := make([]float64, V)
		ld := c.Forward(c.NewTape(), y, x, nil)
		v := gld * ld
		for i := range y {
			v += gy[i] * y[i]
		}
		return v
	}
	tp := c.NewTape()
	c.Forward(tp, make([]float64, V), x, jacNormal(rng, V, 1))
	gx := make([]float64, V)
	grad := make([]float64, len(c.Params()))
	for i := range grad {
		grad[i] = 1 // Backward must add to grad.
	}
	c.Backward(tp, gx, gy, gld, grad)
	for i := range grad {
		grad[i]--
	}
	if e := e64(gx, jacGradFD(loss, x, nil)); e > rnvpFDTol {
		t.Errorf("gx: got max relative error %.3g, want < %g", e, rnvpFDTol)
	}
	p := c.Params()
	p0 := append([]float64(nil), p...)
	ploss := func(q []float64) float64 {
		copy(p, q)
		v := loss(x)
		copy(p, p0)
		return v
	}
	wantGrad := jacGradFD(ploss, p0, nil)
	if e := e64(grad, wantGrad); e > rnvpFDTol {
		t.Errorf("grad: got max relative error %.3g, want < %g", e, rnvpFDTol)
	}
	t.Logf("grad: max relative error %.3g (%d params)", e64(grad, wantGrad), len(p))
	grad2 := make([]float64, len(p))
	c.Backward(tp, nil, gy, gld, grad2)
	if e := e64(grad2, wantGrad); e > rnvpFDTol {
		t.Errorf("grad with gx=nil: got max relative error %.3g, want < %g", e, rnvpFDTol)
	}
}

// checkLayerFastPath checks the fast-path score carry of Forward against
// J^-T (s - grad log|det J|) from finite differences, and its
// log-determinant against that of the finite-difference Jacobian.
func checkLayerFastPath(t *testing.T, c Layer[float64], rng *rand.Rand) {
	V := c.Size()
	x := jacNormal(rng, V, 1.5)
	s := jacNormal(rng, V, 1)
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
	ld := c.Forward(c.NewTape(), make([]float64, V), x, got)
	if e := e64(got, want); e > rnvpFDTol {
		t.Errorf("s': got max relative error %.3g, want < %g", e, rnvpFDTol)
	}
	if wantLd := jacLogDet(J); math.Abs(ld-wantLd) > rnvpLogDetTol {
		t.Errorf("log|det J|: got %.12g, want %.12g (finite differences)", ld, wantLd)
	}
}

// checkLayerInverse checks InverseForward = Inverse (bit-identical),
// inverse(forward(x)) = x with the same log-determinant, InverseBackward
// against finite differences of gx . x(y) + gld log|det|(y), and the
// pullback score s_x = J^T s_y + grad log|det J|.
func checkLayerInverse(t *testing.T, c InverseLayer[float64], rng *rand.Rand) {
	V := c.Size()
	x0 := jacNormal(rng, V, 1.5)
	y := make([]float64, V)
	ld0 := c.Forward(c.NewTape(), y, x0, nil)
	xb := make([]float64, V)
	ldb, err := c.Inverse(c.NewTape(), xb, y)
	if err != nil {
		t.Fatal(err)
	}
	var maxErr float64
	for i := range xb {
		maxErr = math.Max(maxErr, math.Abs(xb[i]-x0[i]))
	}
	if maxErr > rnvpInverseTol || math.Abs(ldb-ld0) > rnvpInverseTol {
		t.Errorf("inverse(forward(x)): max error %.3g, log|det| %.15g, want x within %g and log|det| %.15g", maxErr, ldb, rnvpInverseTol, ld0)
	}

	gx := jacNormal(rng, V, 1)
	gld := -0.8
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
	tp := c.NewTape()
	x := make([]float64, V)
	sy := jacNormal(rng, V, 1)
	sx := append([]float64(nil), sy...)
	if _, err := c.InverseForward(tp, x, y, sx); err != nil {
		t.Fatal(err)
	}
	for i := range x {
		if x[i] != xb[i] {
			t.Fatalf("x[%d]: got %v from InverseForward, want %v (Inverse, bit-identical)", i, x[i], xb[i])
		}
	}
	// Pullback score.
	J := jacFD(layerMap(c), V, x)
	wantS := jacGradFD(layerLogDet(c), x, nil)
	var jts mat.VecDense
	jts.MulVec(J.T(), mat.NewVecDense(V, sy))
	for i := range wantS {
		wantS[i] += jts.AtVec(i)
	}
	if e := e64(sx, wantS); e > rnvpFDTol {
		t.Errorf("pullback s_x: got max relative error %.3g, want < %g", e, rnvpFDTol)
	}

	gy := make([]float64, V)
	grad := make([]float64, len(c.Params()))
	c.InverseBackward(tp, gy, gx, gld, grad)
	if e := e64(gy, jacGradFD(loss, y, nil)); e > rnvpFDTol {
		t.Errorf("gy: got max relative error %.3g, want < %g", e, rnvpFDTol)
	}
	p := c.Params()
	p0 := append([]float64(nil), p...)
	ploss := func(q []float64) float64 {
		copy(p, q)
		v := loss(y)
		copy(p, p0)
		return v
	}
	wantGrad := jacGradFD(ploss, p0, nil)
	if e := e64(grad, wantGrad); e > rnvpFDTol {
		t.Errorf("inverse grad: got max relative error %.3g, want < %g", e, rnvpFDTol)
	}
	grad2 := make([]float64, len(p))
	c.InverseBackward(tp, nil, gx, gld, grad2)
	if e := e64(grad2, wantGrad); e > rnvpFDTol {
		t.Errorf("inverse grad with gy=nil: got max relative error %.3g, want < %g", e, rnvpFDTol)
	}
	// The tape of InverseForward is that of a Forward at x.
	gx2, wantGx := make([]float64, V), make([]float64, V)
	c.Backward(tp, gx2, gx, gld, nil)
	tf := c.NewTape()
	c.Forward(tf, make([]float64, V), x, nil)
	c.Backward(tf, wantGx, gx, gld, nil)
	if e := e64(gx2, wantGx); e != 0 {
		t.Errorf("Backward after InverseForward: got max relative difference %.3g from Backward after Forward, want 0", e)
	}
}

// TestSplineCouplingLayer runs the layer checks (VJPs, fast-path score,
// log-determinant, inverse, inverse VJPs, pullback score) on the spline
// coupling, and, as a check of the checks, on the affine coupling.
func TestSplineCouplingLayer(t *testing.T) {
	for _, tc := range rnvpCases {
		name := fmt.Sprintf("L=%d/parity=%d", tc.L, tc.parity)
		seed := uint64(tc.L*2 + tc.parity)
		t.Run("spline/"+name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(23, seed))
			c := newTestSplineCoupling(rng, tc.L, tc.parity)
			checkLayerVJP(t, c, rng)
			checkLayerFastPath(t, c, rng)
			checkLayerInverse(t, c, rng)
		})
		t.Run("affine/"+name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(23, seed))
			c := newTestCoupling(rng, tc.L, tc.parity)
			checkLayerVJP(t, c, rng)
			checkLayerFastPath(t, c, rng)
			checkLayerInverse(t, c, rng)
		})
	}
}

// TestSplineFlow checks a spline flow: zero conditioner outputs
// (InitIdentity) are the identity (log q = log q0), the fast-path score of
// SampleScore matches finite differences of LogProb, and the sum of the
// layers' log-determinants matches the finite-difference Jacobian.
func TestSplineFlow(t *testing.T) {
	const L, B = 4, 3
	cfg := splineFlowConfig(L, 2)
	cfg.Init = InitIdentity
	f, err := New[float64](cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, B*f.Size)
	lq := make([]float64, B)
	f.Sample(rand.New(rand.NewPCG(2, 2)), x, lq, 1)
	for i := range B {
		if want := f.Base.LogDensity(x[i*f.Size : (i+1)*f.Size]); math.Abs(lq[i]-want) > 1e-12*math.Abs(want) {
			t.Errorf("identity flow, sample %d: log q %g, want log q0 %g", i, lq[i], want)
		}
	}
	f = newTestSplineFlow(t, 24, L, 6, 0.5)
	s := make([]float64, B*f.Size)
	f.SampleScore(rand.New(rand.NewPCG(2, 2)), x, s, lq, 1)
	one := make([]float64, 1)
	logProb := func(xi []float64) float64 {
		if err := f.LogProb(one, xi, 1); err != nil {
			t.Fatal(err)
		}
		return one[0]
	}
	for i := range B {
		xi := x[i*f.Size : (i+1)*f.Size]
		if got := logProb(xi); math.Abs(got-lq[i]) > 1e-10 {
			t.Errorf("sample %d: LogProb %.12g, want log q of Sample %.12g", i, got, lq[i])
		}
		want := jacGradFD(logProb, xi, nil)
		if e := e64(s[i*f.Size:(i+1)*f.Size], want); e > 1e-6 {
			t.Errorf("sample %d: d log q/dx: got max relative error %.3g, want < 1e-6", i, e)
		}
	}
	z := jacNormal(rand.New(rand.NewPCG(3, 3)), f.Size, 1.5)
	p := f.NewPass(1)
	f.Forward(p, x[:f.Size], nil, lq[:1], z, 1)
	got := f.Base.LogDensity(z) - lq[0]
	fn := func(x, z []float64) { f.Forward(p, x, nil, lq[:1], z, 1) }
	if want := jacLogDet(jacFD(fn, f.Size, z)); math.Abs(got-want) > rnvpFlowLogDetTol {
		t.Errorf("sum of log|det J_l|: got %.12g, want %.12g (finite differences)", got, want)
	}
}

// TestSplineFlowNormalized checks log q of a spline flow at random weights
// by importance sampling: E_q[exp(-S)/q] = Z for a free action with known
// log Z.
func TestSplineFlowNormalized(t *testing.T) {
	const L = 4
	B := 20000
	if testing.Short() {
		B = 5000
	}
	// Weights small enough that the flow stays near the free target, so
	// that the weights have a small variance, but far from the identity.
	f := newTestSplineFlow(t, 25, L, 4, 0.5)
	x := make([]float64, B*f.Size)
	lq := make([]float64, B)
	f.Sample(rand.New(rand.NewPCG(3, 3)), x, lq, 2)
	checkFreeNormalized(t, L, f.Size, x, lq)
	var dist float64
	for i := range B {
		dist += math.Abs(lq[i] - f.Base.LogDensity(x[i*f.Size:(i+1)*f.Size]))
	}
	dist /= float64(B)
	t.Logf("mean |log q(x) - log q0(x)| = %.4f", dist)
	// The flow must be far from the identity, or the check says nothing
	// about the spline's log-determinant.
	if dist < 0.1 {
		t.Errorf("mean |log q(x) - log q0(x)| = %.4f, want a flow away from its base (> 0.1)", dist)
	}
}

// checkModelRoundTrip encodes the phi^4 flow f as a model file, checks
// that its header holds the JSON fragment header, decodes it, and checks
// that the loaded flow draws bit-identical samples. It returns the decoded
// model.
func checkModelRoundTrip(t *testing.T, f *Flow[float64], header string) Model {
	t.Helper()
	m := NewModel(f)
	m.Target = ensemble.NewPhi4Standard(f.Config.L, -1, 0.5)
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(header)) {
		t.Errorf("model header lacks %s: %s", header, b[:min(len(b), 600)])
	}
	got, err := Decode("round-trip", b)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Build[float64](got)
	if err != nil {
		t.Fatal(err)
	}
	x1, q1 := make([]float64, 2*f.Size), make([]float64, 2)
	x2, q2 := make([]float64, 2*f.Size), make([]float64, 2)
	f.Sample(rand.New(rand.NewPCG(1, 1)), x1, q1, 1)
	g.Sample(rand.New(rand.NewPCG(1, 1)), x2, q2, 1)
	for i := range q1 {
		if q1[i] != q2[i] {
			t.Errorf("log q[%d] of the loaded flow: got %v, want %v", i, q2[i], q1[i])
		}
	}
	return got
}

// checkFreeNormalized checks the log densities lq of the B = len(lq)
// samples x (fields of size V = L*L) by importance sampling against the
// free action J = 0.02, A = 0.5 of known log Z: E_q[exp(-S)/q]/Z = 1
// within 4 standard errors, and a standard error below 0.05.
func checkFreeNormalized(t *testing.T, L, V int, x []float64, lq []float64) {
	t.Helper()
	act := lattice.Phi4Action{Geom: lattice.NewGeometry(L), J: 0.02, A: 0.5}
	logZ := 0.0
	for n0 := range L {
		for n1 := range L {
			logZ += 0.5 * math.Log(2*math.Pi/freeKernelTest(L, 2*act.A, 4*act.J, n0, n1))
		}
	}
	B := len(lq)
	var sum, sum2 float64
	for i := range B {
		w := math.Exp(-act.Action(x[i*V:(i+1)*V]) - lq[i] - logZ)
		sum += w
		sum2 += w * w
	}
	mean := sum / float64(B)
	se := math.Sqrt((sum2/float64(B) - mean*mean) / float64(B))
	t.Logf("E[w]/Z = %.4f +- %.4f", mean, se)
	if math.Abs(mean-1) > 4*se || se > 0.05 {
		t.Errorf("E_q[exp(-S)/q]/Z: got %.4f +- %.4f, want 1 within 4 sigma (and an error < 0.05)", mean, se)
	}
}

// TestSplineModelRoundTrip checks that a model file keeps the coupling: a
// spline flow saved and loaded gives bit-identical samples, and a config
// without the coupling fields (a model file written before them) builds
// affine couplings.
func TestSplineModelRoundTrip(t *testing.T) {
	got := checkModelRoundTrip(t, newTestSplineFlow(t, 26, 4, 2, 0.5), `"coupling":"spline","bins":5,"spline_bound":2.5`)
	g, err := Build[float64](got)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g.Layers[0].(*SplineCoupling[float64]); !ok {
		t.Fatalf("loaded spline model: layer 0 is %T, want *SplineCoupling", g.Layers[0])
	}
	// A model file written before the coupling fields existed (the
	// shipped phi^4 model) builds affine couplings.
	shipped, err := Load("../models/phi4-L8-m2-4-lambda8.flow")
	if err != nil {
		t.Fatal(err)
	}
	if shipped.Config.Coupling != "" {
		t.Errorf("shipped model: coupling %q, want none recorded", shipped.Config.Coupling)
	}
	aff, err := Build[float64](shipped)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := aff.Layers[0].(*RealNVPCoupling[float64]); !ok {
		t.Errorf("shipped model: layer 0 is %T, want *RealNVPCoupling", aff.Layers[0])
	}
	// The spline's parameters under a config without the coupling are
	// rejected by their count.
	gotOld := got
	gotOld.Config.Coupling, gotOld.Config.Bins, gotOld.Config.SplineBound = "", 0, 0
	if _, err := Build[float64](gotOld); err == nil || !strings.Contains(err.Error(), "parameters") {
		t.Errorf("spline parameters under a config without coupling: got error %v, want a parameter-count error", err)
	}
}
