package flow

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"latflow/gauge"
	"latflow/lattice"
)

const (
	// u1FDTol is the tolerance of the gauge coupling's hand-written
	// derivatives against central finite differences, relative to the
	// largest reference entry.
	u1FDTol = 1e-6
	// u1LogDetTol is the absolute tolerance of log|det J| of one layer
	// against the log-determinant of its finite-difference Jacobian.
	u1LogDetTol = 1e-6
	// u1InverseTol is the absolute tolerance, modulo 2pi, of
	// inverse(forward(x)) = x and forward(inverse(y)) = y.
	u1InverseTol = 1e-10
	// u1WeightNoise is the standard deviation of the noise added to the
	// initialized conditioner weights, so that the log-scales and shifts
	// are of order 1 (see TestGaugeCouplingTestWeights).
	u1WeightNoise = 0.2
	// u1EdgeAngle is how close to 0 or 2pi the edge cases put plaquettes.
	u1EdgeAngle = 1e-11
)

// u1Diff returns a - b modulo 2pi in [-pi, pi).
func u1Diff(a, b float64) float64 {
	return gauge.Wrap(a-b+math.Pi) - math.Pi
}

// u1MaxDiff returns max_i |a_i - b_i| modulo 2pi.
func u1MaxDiff(a, b []float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(u1Diff(a[i], b[i])))
	}
	return m
}

// u1RandomLinks returns uniform link angles for an L x L lattice.
func u1RandomLinks(rng *rand.Rand, L int) []float64 {
	x := make([]float64, 2*L*L)
	gauge.RandomLinksTo(x, rng)
	return x
}

// newU1TestCoupling returns a float64 gauge coupling with K mixture
// components and random weights.
func newU1TestCoupling(rng *rand.Rand, L, layer, K int) *GaugeCoupling[float64] {
	c := NewGaugeCoupling[float64](lattice.NewGeometry(L), layer, K, []int{8, 8}, 3)
	c.Net().InitRandom(rng)
	jacPerturb(rng, c.Params(), u1WeightNoise)
	return c
}

// u1Continuous returns fn with its output unwrapped around yref: each
// output angle is yref_i + (y_i - yref_i mod 2pi in [-pi, pi)), so finite
// differences do not see the jumps of the canonical range.
func u1Continuous(fn func(y, x []float64), yref []float64) func(y, x []float64) {
	return func(y, x []float64) {
		fn(y, x)
		for i := range y {
			y[i] = yref[i] + u1Diff(y[i], yref[i])
		}
	}
}

// u1SetPlaquette changes the active link of active plaquette i of c in
// links so that the plaquette becomes target (modulo 2pi).
func u1SetPlaquette(c *GaugeCoupling[float64], links []float64, i int, target float64) {
	a := c.activeLink[i]
	p := c.plaquette(links, int(c.active[i]))
	links[a] = gauge.Wrap(links[a] + c.sigma*(target-p))
}

var u1LayerCases = []struct{ L, layer, K int }{
	{4, 0, 2}, {4, 1, 3}, {4, 2, 1}, {4, 7, 6}, {8, 3, 2}, {8, 4, 6},
}

func u1CaseName(L, layer, K int) string { return fmt.Sprintf("L=%d/layer=%d/K=%d", L, layer, K) }

// TestGaugeCouplingTestWeights checks that the test weights give
// conditioner outputs of order 1, so the other tests exercise a
// nontrivial transform.
func TestGaugeCouplingTestWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 1))
	c := newU1TestCoupling(rng, 8, 0, 6)
	tp := c.NewTape().(*gaugeTape[float64])
	x := u1RandomLinks(rng, 8)
	y := make([]float64, len(x))
	c.Forward(tp, y, x, nil)
	var ss, n float64
	for _, v := range tp.out {
		ss += v * v
		n++
	}
	rms := math.Sqrt(ss / n)
	if rms < 0.3 || rms > 3 {
		t.Errorf("rms conditioner output got %.3g, want in [0.3, 3]", rms)
	}
	t.Logf("rms conditioner output %.3g", rms)
}

func TestGaugeCouplingVJPFD(t *testing.T) {
	worstX, worstP := 0.0, 0.0
	for ci, tc := range u1LayerCases {
		t.Run(u1CaseName(tc.L, tc.layer, tc.K), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(22, uint64(ci)))
			c := newU1TestCoupling(rng, tc.L, tc.layer, tc.K)
			N := c.Size()
			x := u1RandomLinks(rng, tc.L)
			gy := jacNormal(rng, N, 1)
			gld := 0.7
			y0 := make([]float64, N)
			c.Forward(c.NewTape(), y0, x, nil)
			// The loss is gy . y + gld log|det|, with y unwrapped around y0.
			loss := func(x []float64) float64 {
				y := make([]float64, N)
				ld := c.Forward(c.NewTape(), y, x, nil)
				v := gld * ld
				for i := range y {
					v += gy[i] * (y0[i] + u1Diff(y[i], y0[i]))
				}
				return v
			}
			// Forward with a score first: Backward must still see the
			// tape of that Forward after the fast-path VJP.
			tp := c.NewTape()
			y := make([]float64, N)
			c.Forward(tp, y, x, jacNormal(rng, N, 1))
			gx := make([]float64, N)
			grad := make([]float64, len(c.Params()))
			for i := range grad {
				grad[i] = 1 // Backward must add to grad.
			}
			c.Backward(tp, gx, gy, gld, grad)
			for i := range grad {
				grad[i]--
			}

			wantGx := jacGradFD(loss, x, nil)
			e := jacMaxRel(gx, wantGx, nil, 1)
			worstX = math.Max(worstX, e)
			if e > u1FDTol {
				t.Errorf("gx: got max relative error %.3g, want < %g", e, u1FDTol)
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
			e = jacMaxRel(grad, wantGrad, nil, 1)
			worstP = math.Max(worstP, e)
			if e > u1FDTol {
				t.Errorf("grad: got max relative error %.3g, want < %g", e, u1FDTol)
			}

			// gx = nil skips the input VJP but still accumulates grad.
			grad2 := make([]float64, len(p))
			c.Backward(tp, nil, gy, gld, grad2)
			if e := jacMaxRel(grad2, wantGrad, nil, 1); e > u1FDTol {
				t.Errorf("grad with gx=nil: got max relative error %.3g, want < %g", e, u1FDTol)
			}

			// Inverse records the forward pass at the recovered x.
			tpi := c.NewTape()
			xi := make([]float64, N)
			if _, err := c.Inverse(tpi, xi, y); err != nil {
				t.Fatal(err)
			}
			gxi := make([]float64, N)
			grad3 := make([]float64, len(p))
			c.Backward(tpi, gxi, gy, gld, grad3)
			if e := jacMaxRel(gxi, gx, nil, 1); e > 1e-9 {
				t.Errorf("gx after Inverse: got max relative difference %.3g to gx after Forward, want < 1e-9", e)
			}
			if e := jacMaxRel(grad3, grad, nil, 1); e > 1e-9 {
				t.Errorf("grad after Inverse: got max relative difference %.3g to grad after Forward, want < 1e-9", e)
			}
		})
	}
	t.Logf("largest relative errors: gx %.3g, grad %.3g", worstX, worstP)
}

func TestGaugeCouplingLogDetFD(t *testing.T) {
	worst := 0.0
	for layer := range 8 {
		L, K := 4, 3
		t.Run(u1CaseName(L, layer, K), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(23, uint64(layer)))
			c := newU1TestCoupling(rng, L, layer, K)
			x := u1RandomLinks(rng, L)
			y := make([]float64, len(x))
			ld := c.Forward(c.NewTape(), y, x, nil)
			J := jacFD(u1Continuous(layerMap(c), y), len(x), x)
			want := jacLogDet(J)
			worst = math.Max(worst, math.Abs(ld-want))
			if math.Abs(ld-want) > u1LogDetTol {
				t.Errorf("log|det J| got %.12g, want FD %.12g", ld, want)
			}
			// The Jacobian is triangular with the identity on the
			// inactive links.
			act := c.Masks().ActiveLinks
			for i := range x {
				if act[i] {
					continue
				}
				for j := range x {
					want := 0.0
					if i == j {
						want = 1
					}
					if math.Abs(J.At(i, j)-want) > 1e-8 {
						t.Fatalf("dy_%d/dx_%d of an inactive link got %v, want %v", i, j, J.At(i, j), want)
					}
				}
			}
		})
	}
	t.Logf("largest log|det| error %.3g", worst)
}

func TestGaugeCouplingFastPathStep(t *testing.T) {
	worst := 0.0
	for layer := range 4 {
		L, K := 4, 3
		t.Run(u1CaseName(L, layer, K), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(24, uint64(layer)))
			c := newU1TestCoupling(rng, L, layer, K)
			x := u1RandomLinks(rng, L)
			N := len(x)
			s := jacNormal(rng, N, 1)
			s1 := append([]float64(nil), s...)
			y := make([]float64, N)
			c.Forward(c.NewTape(), y, x, s1)

			J := jacFD(u1Continuous(layerMap(c), y), N, x)
			gld := jacGradFD(layerLogDet(c), x, nil)
			u := mat.NewVecDense(N, nil)
			for i := range N {
				u.SetVec(i, s[i]-gld[i])
			}
			var want mat.VecDense
			if err := want.SolveVec(J.T(), u); err != nil {
				t.Fatal(err)
			}
			e := jacMaxRel(s1, want.RawVector().Data, nil, 1)
			worst = math.Max(worst, e)
			if e > u1FDTol {
				t.Errorf("s': got max relative error %.3g to J^-T (s - grad log|det|), want < %g", e, u1FDTol)
			}
		})
	}
	t.Logf("largest relative error %.3g", worst)
}

func TestGaugeCouplingInverse(t *testing.T) {
	worst := 0.0
	for ci, tc := range u1LayerCases {
		t.Run(u1CaseName(tc.L, tc.layer, tc.K), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(25, uint64(ci)))
			c := newU1TestCoupling(rng, tc.L, tc.layer, tc.K)
			N := c.Size()
			tp := c.NewTape()
			gt := tp.(*gaugeTape[float64])
			// Output links whose active plaquettes sit at the edges of
			// the NCP's range: P(y) - t near 0 and 2pi. The frozen
			// plaquettes, hence t, do not depend on the active links.
			y := u1RandomLinks(rng, tc.L)
			x := make([]float64, N)
			c.Forward(tp, x, y, nil)
			edges := []float64{0, u1EdgeAngle, -u1EdgeAngle, 1e-9, -1e-9}
			for i, n := range c.active {
				if i < len(edges) {
					u1SetPlaquette(c, y, i, gt.out[c.mix*c.geom.V+int(n)]+edges[i])
				}
			}
			ldi, err := c.Inverse(tp, x, y)
			if err != nil {
				t.Fatal(err)
			}
			y2 := make([]float64, N)
			ld := c.Forward(tp, y2, x, nil)
			e := u1MaxDiff(y2, y)
			worst = math.Max(worst, e)
			if e > u1InverseTol {
				t.Errorf("forward(inverse(y)): got max error %.3g, want < %g", e, u1InverseTol)
			}
			if math.Abs(ld-ldi) > 1e-10 {
				t.Errorf("log|det J| from Inverse got %.12g, want Forward's %.12g", ldi, ld)
			}

			// Input links with active plaquettes at 0 and 2pi.
			x = u1RandomLinks(rng, tc.L)
			for i := range c.active {
				if i < len(edges) {
					u1SetPlaquette(c, x, i, edges[i])
				}
			}
			ld = c.Forward(tp, y, x, nil)
			xi := make([]float64, N)
			ldi, err = c.Inverse(tp, xi, y)
			if err != nil {
				t.Fatal(err)
			}
			e = u1MaxDiff(xi, x)
			worst = math.Max(worst, e)
			if e > u1InverseTol {
				t.Errorf("inverse(forward(x)): got max error %.3g, want < %g", e, u1InverseTol)
			}
			if math.Abs(ld-ldi) > 1e-10 {
				t.Errorf("log|det J| from Inverse got %.12g, want Forward's %.12g", ldi, ld)
			}
			for i, v := range xi {
				if !(v >= 0 && v < 2*math.Pi) {
					t.Fatalf("x[%d] got %v, want in [0, 2pi)", i, v)
				}
			}
		})
	}
	t.Logf("largest round-trip error %.3g", worst)
}

// u1InverseMap returns y -> x of the inverse of c as a function for jacFD
// and the like; it fails t on a convergence error.
func u1InverseMap(t *testing.T, c *GaugeCoupling[float64]) func(x, y []float64) float64 {
	tp := c.NewTape()
	return func(x, y []float64) float64 {
		ld, err := c.InverseForward(tp, x, y, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ld
	}
}

// TestGaugeCouplingInverseBackwardFD checks InverseBackward, the VJP of
// y -> (x(y), log|det J|(x(y))) through the implicit NCP inverse, against
// central finite differences of gx . x + gld log|det J| in y and in the
// parameters, with x unwrapped around the unperturbed x. For L=4 it also
// checks gy = J^-T (gx + gld d/dx log|det J|) with J and the gradient of
// the forward map at x from finite differences.
func TestGaugeCouplingInverseBackwardFD(t *testing.T) {
	worstY, worstP, worstJ := 0.0, 0.0, 0.0
	for ci, tc := range u1LayerCases {
		t.Run(u1CaseName(tc.L, tc.layer, tc.K), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(26, uint64(ci)))
			c := newU1TestCoupling(rng, tc.L, tc.layer, tc.K)
			N := c.Size()
			y := u1RandomLinks(rng, tc.L)
			gx := jacNormal(rng, N, 1)
			gld := 0.7
			inv := u1InverseMap(t, c)
			x0 := make([]float64, N)
			inv(x0, y)
			loss := func(y []float64) float64 {
				x := make([]float64, N)
				v := gld * inv(x, y)
				for i := range x {
					v += gx[i] * (x0[i] + u1Diff(x[i], x0[i]))
				}
				return v
			}
			// InverseForward with a score first: InverseBackward must
			// still see the inverse pass after the pullback VJP.
			tp := c.NewTape()
			x := make([]float64, N)
			if _, err := c.InverseForward(tp, x, y, jacNormal(rng, N, 1)); err != nil {
				t.Fatal(err)
			}
			gy := make([]float64, N)
			grad := make([]float64, len(c.Params()))
			for i := range grad {
				grad[i] = 1 // InverseBackward must add to grad.
			}
			c.InverseBackward(tp, gy, gx, gld, grad)
			for i := range grad {
				grad[i]--
			}

			wantGy := jacGradFD(loss, y, nil)
			e := jacMaxRel(gy, wantGy, nil, 1)
			worstY = math.Max(worstY, e)
			if e > u1FDTol {
				t.Errorf("gy: got max relative error %.3g, want < %g", e, u1FDTol)
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
			e = jacMaxRel(grad, wantGrad, nil, 1)
			worstP = math.Max(worstP, e)
			if e > u1FDTol {
				t.Errorf("grad: got max relative error %.3g, want < %g", e, u1FDTol)
			}

			// gy = nil skips the input VJP but still accumulates grad.
			grad2 := make([]float64, len(p))
			c.InverseBackward(tp, nil, gx, gld, grad2)
			if e := jacMaxRel(grad2, wantGrad, nil, 1); e > u1FDTol {
				t.Errorf("grad with gy=nil: got max relative error %.3g, want < %g", e, u1FDTol)
			}

			if tc.L != 4 {
				return
			}
			// gy = J^-T (gx + gld grad log|det J|) from the forward map.
			ftp := c.NewTape()
			fwd := func(y, x []float64) { c.Forward(ftp, y, x, nil) }
			J := jacFD(u1Continuous(fwd, y), N, x)
			gldx := jacGradFD(func(x []float64) float64 { return c.Forward(ftp, make([]float64, N), x, nil) }, x, nil)
			u := mat.NewVecDense(N, nil)
			for i := range N {
				u.SetVec(i, gx[i]+gld*gldx[i])
			}
			var want mat.VecDense
			if err := want.SolveVec(J.T(), u); err != nil {
				t.Fatal(err)
			}
			e = jacMaxRel(gy, want.RawVector().Data, nil, 1)
			worstJ = math.Max(worstJ, e)
			if e > u1FDTol {
				t.Errorf("gy: got max relative error %.3g to J^-T (gx + gld grad log|det J|), want < %g", e, u1FDTol)
			}
		})
	}
	t.Logf("largest relative errors: gy %.3g, grad %.3g, gy vs J^-T %.3g", worstY, worstP, worstJ)
}

// TestGaugeCouplingPullbackStep checks the score of InverseForward,
// s_x = J^T s_y + d/dx log|det J|, against the finite-difference Jacobian
// and log-determinant gradient of the forward map at x.
func TestGaugeCouplingPullbackStep(t *testing.T) {
	worst := 0.0
	for layer := range 4 {
		L, K := 4, 3
		t.Run(u1CaseName(L, layer, K), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(27, uint64(layer)))
			c := newU1TestCoupling(rng, L, layer, K)
			x := u1RandomLinks(rng, L)
			N := len(x)
			y := make([]float64, N)
			ftp := c.NewTape()
			c.Forward(ftp, y, x, nil)
			sy := jacNormal(rng, N, 1)
			sx := append([]float64(nil), sy...)
			xi := make([]float64, N)
			if _, err := c.InverseForward(c.NewTape(), xi, y, sx); err != nil {
				t.Fatal(err)
			}

			fwd := func(y, x []float64) { c.Forward(ftp, y, x, nil) }
			J := jacFD(u1Continuous(fwd, y), N, x)
			gld := jacGradFD(func(x []float64) float64 { return c.Forward(ftp, make([]float64, N), x, nil) }, x, nil)
			var jts mat.VecDense
			jts.MulVec(J.T(), mat.NewVecDense(N, sy))
			want := make([]float64, N)
			for i := range want {
				want[i] = jts.AtVec(i) + gld[i]
			}
			e := jacMaxRel(sx, want, nil, 1)
			worst = math.Max(worst, e)
			if e > u1FDTol {
				t.Errorf("s_x: got max relative error %.3g to J^T s_y + grad log|det J|, want < %g", e, u1FDTol)
			}
		})
	}
	t.Logf("largest relative error %.3g", worst)
}

// TestGaugeCouplingInverseForward checks that InverseForward returns
// Inverse's x and log|det J| bit for bit, with and without a score, and
// that its score undoes Forward's fast-path step up to the two
// log-determinant terms: Forward maps s to J^-T (s - grad log|det J|), so
// InverseForward maps that back to s.
func TestGaugeCouplingInverseForward(t *testing.T) {
	worst := 0.0
	for ci, tc := range u1LayerCases {
		t.Run(u1CaseName(tc.L, tc.layer, tc.K), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(28, uint64(ci)))
			c := newU1TestCoupling(rng, tc.L, tc.layer, tc.K)
			N := c.Size()
			x := u1RandomLinks(rng, tc.L)
			s := jacNormal(rng, N, 1)
			sy := append([]float64(nil), s...)
			y := make([]float64, N)
			c.Forward(c.NewTape(), y, x, sy)

			xInv := make([]float64, N)
			ldInv, err := c.Inverse(c.NewTape(), xInv, y)
			if err != nil {
				t.Fatal(err)
			}
			tp := c.NewTape()
			for _, withScore := range []bool{false, true} {
				xi := make([]float64, N)
				var sx []float64
				if withScore {
					sx = append([]float64(nil), sy...)
				}
				ld, err := c.InverseForward(tp, xi, y, sx)
				if err != nil {
					t.Fatal(err)
				}
				if ld != ldInv {
					t.Errorf("score=%v: log|det J| got %v, want Inverse's %v", withScore, ld, ldInv)
				}
				for i := range xi {
					if xi[i] != xInv[i] {
						t.Fatalf("score=%v: x[%d] got %v, want Inverse's %v", withScore, i, xi[i], xInv[i])
					}
				}
				if withScore {
					e := jacMaxRel(sx, s, nil, 1)
					worst = math.Max(worst, e)
					if e > 1e-9 {
						t.Errorf("inverse step of the forward step of s: got max relative error %.3g, want < 1e-9", e)
					}
				}
			}
		})
	}
	t.Logf("largest relative round-trip error of the score %.3g", worst)
}

// TestWrapMatchesGauge checks the U(1) coupling's wrap bit for bit against
// gauge.Wrap: exact multiples of 2pi and their neighbours, both signs, and
// random angles over (-5 turn, 5 turn).
func TestWrapMatchesGauge(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 7))
	var xs []float64
	for k := -5; k <= 5; k++ {
		m := float64(k) * turn
		xs = append(xs, m, math.Nextafter(m, math.Inf(1)), math.Nextafter(m, math.Inf(-1)))
	}
	xs = append(xs, 0, math.Copysign(0, -1), -1e-300, 1e-300, 4*turn, -4*turn, math.Inf(1), math.NaN())
	for range 1 << 16 {
		xs = append(xs, 10*turn*(rng.Float64()-0.5))
	}
	for _, x := range xs {
		got, want := wrap(x), gauge.Wrap(x)
		if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("wrap(%v): got %v, want gauge.Wrap's %v", x, got, want)
		}
	}
}
