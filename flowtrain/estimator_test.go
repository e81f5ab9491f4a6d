package flowtrain

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"latflow/fermion"
	"latflow/flow"
	"latflow/gauge"
	"latflow/lattice"
	"latflow/nn"
)

const (
	// estPathTol is the tolerance of fast path against drop-in path
	// gradients on the same samples, relative to the gradient norm: both
	// compute the same quantity by different float64 arithmetic (a pass
	// and an inverse pass), so they differ by rounding, amplified by the
	// layers.
	estPathTol = 1e-8
	// estZeroTol bounds the path gradients at the optimum (target = the
	// flow's own density), relative to the norm of the standard gradient
	// on the same sample: zero in exact arithmetic, rounding otherwise.
	estZeroTol = 1e-10
	// estKSigma is the number of standard errors allowed between the means
	// of two unbiased estimators of the same gradient.
	estKSigma = 4.5
	// estWeightNoise is the standard deviation of the noise added to the
	// initialized weights, so tests run at random weights.
	estWeightNoise = 0.2
	// estFDStep is the step along a unit direction in parameter space of
	// the central differences of the loss.
	estFDStep = 1e-5
	// estFDTol is the tolerance of a standard gradient projected on a unit
	// direction against central differences of the loss, relative to the
	// gradient norm (at least 1): truncation O(estFDStep^2) and rounding
	// of a loss of O(100) over 2 estFDStep, both far below it.
	estFDTol = 1e-6
)

var (
	objectives = []Objective{Reverse, Forward}
	gradients  = []GradientType{Standard, DropInPath, FastPath}
)

// estCase is a test system: a flow, a target and (for the forward
// objective) exact samples of the target.
type estCase struct {
	name   string
	flow   *flow.Flow[float64]
	target lattice.Action
	// data fills x (B samples) with samples of the target.
	data func(rng *rand.Rand, x []float64)
}

// newTestFlow returns a float64 flow of cfg with random weights: the
// default initialization plus N(0, estWeightNoise^2) noise.
func newTestFlow(t testing.TB, cfg flow.Config, seed uint64) *flow.Flow[float64] {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	f, err := flow.New[float64](cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, f.NumParams())
	f.GetParams(p)
	for i := range p {
		p[i] += estWeightNoise * rng.NormFloat64()
	}
	f.SetParams(p)
	return f
}

// copyFlow returns an independent flow with the parameters of f.
func copyFlow(t testing.TB, f *flow.Flow[float64]) *flow.Flow[float64] {
	t.Helper()
	g, err := flow.New[float64](f.Config, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, f.NumParams())
	f.GetParams(p)
	g.SetParams(p)
	return g
}

// flowAction is the action S(x) = -log q(x) of a frozen flow, so that
// p~ = q: S by the inverse pass, dS/dx = -d log q/dx by an inverse pass to
// z and the fast-path score of a forward pass from z (a route independent
// of the drop-in estimator's InverseBackward).
type flowAction struct {
	f          *flow.Flow[float64]
	inv, fwd   *flow.Pass[float64]
	z, x, s    []float64
	logq, lq2  []float64
	sampleRand *rand.Rand
}

func newFlowAction(f *flow.Flow[float64]) *flowAction {
	n := f.Size
	return &flowAction{
		f: f, inv: f.NewPass(1), fwd: f.NewPass(1),
		z: make([]float64, n), x: make([]float64, n), s: make([]float64, n),
		logq: make([]float64, 1), lq2: make([]float64, 1),
	}
}

func (a *flowAction) Action(x []float64) float64 {
	if err := a.f.LogProb(a.logq, x, 1); err != nil {
		panic(err)
	}
	return -a.logq[0]
}

func (a *flowAction) ForceTo(dst, x []float64) {
	if err := a.f.InverseForward(a.inv, a.z, x, nil, a.logq, 1); err != nil {
		panic(err)
	}
	a.f.Forward(a.fwd, a.x, a.s, a.lq2, a.z, 1)
	for k, v := range a.s {
		dst[k] = -v
	}
}

// sample fills x with exact samples of the frozen flow.
func (a *flowAction) sample(rng *rand.Rand, x []float64) {
	a.f.Sample(rng, x, make([]float64, len(x)/a.f.Size), 1)
}

// gaussian is the free phi^4 field S = phi^T M phi / 2 with its exact
// log Z and an exact sampler.
type gaussian struct {
	act  lattice.Phi4Action
	logZ float64
	// chol is the lower Cholesky factor of M^-1, the covariance.
	chol *mat.TriDense
}

// newGaussian returns the free field with mass term m2 on an L x L lattice
// (standard parametrization, lambda = 0); M is read off the force,
// dS/dphi = M phi.
func newGaussian(t testing.TB, L int, m2 float64) *gaussian {
	t.Helper()
	g := lattice.NewGeometry(L)
	act := lattice.NewPhi4Standard(g, m2, 0)
	V := g.V
	M := mat.NewSymDense(V, nil)
	e, col := make([]float64, V), make([]float64, V)
	for j := range V {
		clear(e)
		e[j] = 1
		act.ForceTo(col, e)
		for i := 0; i <= j; i++ {
			M.SetSym(i, j, col[i])
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(M) {
		t.Fatal("free field: M is not positive definite")
	}
	// log Z = log int exp(-phi^T M phi / 2) = (V/2) log 2pi - log det M / 2.
	logZ := 0.5*float64(V)*math.Log(2*math.Pi) - 0.5*ch.LogDet()
	var cov mat.SymDense
	if err := ch.InverseTo(&cov); err != nil {
		t.Fatal(err)
	}
	var cc mat.Cholesky
	if !cc.Factorize(&cov) {
		t.Fatal("free field: covariance is not positive definite")
	}
	var lo mat.TriDense
	cc.LTo(&lo)
	return &gaussian{act: act, logZ: logZ, chol: &lo}
}

// sample fills x with exact samples phi = L xi, xi ~ N(0, 1).
func (g *gaussian) sample(rng *rand.Rand, x []float64) {
	V := g.act.Geom.V
	xi := make([]float64, V)
	for i := 0; i < len(x); i += V {
		for k := range xi {
			xi[k] = rng.NormFloat64()
		}
		out := mat.NewVecDense(V, x[i:i+V])
		out.MulVec(g.chol, mat.NewVecDense(V, xi))
	}
}

// phi4Case is a RealNVP flow at random weights on L=4 with 4 layers and
// the free field with m2 = 1 as target (exact samples for forward KL).
func phi4Case(t testing.TB, seed uint64) estCase {
	cfg := flow.DefaultConfig(flow.TheoryPhi4, 4)
	cfg.Layers = 4
	g := newGaussian(t, 4, 1)
	return estCase{name: "phi4/L=4", flow: newTestFlow(t, cfg, seed), target: g.act, data: g.sample}
}

// phi4SplineCase is phi4Case with rational-quadratic spline couplings
// (6 bins on [-2.5, 2.5], so that samples reach both the spline and its
// identity tails), at the initial random weights scaled by 1/2: with the
// noise of newTestFlow the identity-output conditioners give splines so
// steep (|grad| ~ 1e6) that finite differences cross knots.
func phi4SplineCase(t testing.TB, seed uint64) estCase {
	cfg := flow.DefaultConfig(flow.TheoryPhi4, 4)
	cfg.Layers = 4
	cfg.Coupling, cfg.Bins, cfg.SplineBound = flow.CouplingSpline, 6, 2.5
	f, err := flow.New[float64](cfg, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, f.NumParams())
	f.GetParams(p)
	for i := range p {
		p[i] *= 0.5
	}
	f.SetParams(p)
	g := newGaussian(t, 4, 1)
	return estCase{name: "phi4-spline/L=4", flow: f, target: g.act, data: g.sample}
}

// u1Case is a U(1) flow at random weights on L=4 with 4 layers and 2
// mixture components, and the Wilson action at beta = 2 as target. Its
// forward data are samples of another U(1) flow (exact samples of a
// different density; Wilson-action samples would need HMC).
func u1Case(t testing.TB, seed uint64) estCase {
	return u1BaseCase(t, seed, flow.DefaultConfig(flow.TheoryU1, 4))
}

// u1PlaquetteCase is u1Case with the plaquette base at beta = 1.5 (random
// constraint), whose score enters every estimator but the reverse standard
// one, away from the target's beta.
func u1PlaquetteCase(t testing.TB, seed uint64) estCase {
	cfg := flow.DefaultConfig(flow.TheoryU1, 4)
	cfg.Base, cfg.BaseBeta = flow.BasePlaquettes, 1.5
	return u1BaseCase(t, seed, cfg)
}

// u1BaseCase is u1Case with the base of cfg.
func u1BaseCase(t testing.TB, seed uint64, cfg flow.Config) estCase {
	cfg.Layers, cfg.Mixtures = 4, 2
	other := newFlowAction(newTestFlow(t, cfg, seed+1000))
	return estCase{
		name:   "u1/L=4/base=" + cfg.BaseName(),
		flow:   newTestFlow(t, cfg, seed),
		target: gauge.WilsonAction{Geom: lattice.NewGeometry(4), Beta: 2},
		data:   other.sample,
	}
}

// schwingerCase is u1PlaquetteCase with the Schwinger model as target: the
// exact action S_g - log det(D^dagger D) at beta = 2, kappa = 0.2 on L=4,
// whose force (the determinant's link gradient) is the target score of the
// path gradients and enters the reverse standard one through x(theta).
func schwingerCase(t testing.TB, seed uint64) estCase {
	c := u1PlaquetteCase(t, seed)
	g := lattice.NewGeometry(4)
	act, err := fermion.NewExactAction(g, 2, 0.2, fermion.DefaultMethod(g.L))
	if err != nil {
		t.Fatal(err)
	}
	c.name, c.target = "schwinger/L=4/base=plaquettes", act
	return c
}

// estimate runs one Estimate of obj and g on c with the given seed for
// the flow's samples (reverse) or the data (forward) and returns the
// result (LogW copied) and the gradient.
func estimate(t testing.TB, c estCase, obj Objective, g GradientType, batch int, seed uint64) (Result, []float64) {
	t.Helper()
	e, err := NewEstimator(c.flow, c.target, obj, g, batch, 2)
	if err != nil {
		t.Fatal(err)
	}
	return runEstimate(t, e, c, seed)
}

func runEstimate(t testing.TB, e *Estimator[float64], c estCase, seed uint64) (Result, []float64) {
	t.Helper()
	grad := make([]float64, c.flow.NumParams())
	rng := rand.New(rand.NewPCG(seed, 2))
	var data []float64
	if e.Objective() == Forward {
		data = make([]float64, e.Batch()*c.flow.Size)
		c.data(rng, data)
	}
	r, err := e.Estimate(rng, data, grad)
	if err != nil {
		t.Fatal(err)
	}
	r.LogW = append([]float64(nil), r.LogW...)
	return r, grad
}

func norm(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

// relDiff returns |a - b| / |b| (Euclidean norms).
func relDiff(a, b []float64) float64 {
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	return norm(d) / norm(b)
}

func testCases(t testing.TB) []estCase {
	return []estCase{phi4Case(t, 1), phi4SplineCase(t, 5), u1Case(t, 2), u1PlaquetteCase(t, 3), schwingerCase(t, 4)}
}

func TestParseNames(t *testing.T) {
	for _, o := range objectives {
		got, err := ParseObjective(o.String())
		if err != nil || got != o {
			t.Errorf("ParseObjective(%q): got %v, %v, want %v, nil", o.String(), got, err, o)
		}
	}
	for _, g := range gradients {
		got, err := ParseGradient(g.String())
		if err != nil || got != g {
			t.Errorf("ParseGradient(%q): got %v, %v, want %v, nil", g.String(), got, err, g)
		}
	}
	if _, err := ParseObjective("kl"); err == nil || !strings.Contains(err.Error(), `"reverse" "forward"`) {
		t.Errorf(`ParseObjective("kl"): got error %v, want one listing "reverse" "forward"`, err)
	}
	if _, err := ParseGradient("path"); err == nil || !strings.Contains(err.Error(), `"standard" "dropin-path" "fast-path"`) {
		t.Errorf(`ParseGradient("path"): got error %v, want one listing the three gradients`, err)
	}
}

func TestSameLoss(t *testing.T) {
	for _, c := range testCases(t) {
		for _, obj := range objectives {
			t.Run(c.name+"/"+obj.String(), func(t *testing.T) {
				ref, _ := estimate(t, c, obj, Standard, 8, 3)
				for _, g := range gradients[1:] {
					r, _ := estimate(t, c, obj, g, 8, 3)
					// The same samples go through the same arithmetic for
					// x and log q (the score is extra), so the losses are
					// bit-identical.
					if r.Loss != ref.Loss || r.ESS != ref.ESS {
						t.Errorf("%v: got loss %v, ESS %v, want %v, %v (standard)", g, r.Loss, r.ESS, ref.Loss, ref.ESS)
					}
					for i := range r.LogW {
						if r.LogW[i] != ref.LogW[i] {
							t.Errorf("%v: LogW[%d]: got %v, want %v (standard)", g, i, r.LogW[i], ref.LogW[i])
							break
						}
					}
				}
				t.Logf("loss %.6g, ESS %.3g", ref.Loss, ref.ESS)
			})
		}
	}
}

// TestStandardFD checks the standard estimators against central finite
// differences of the loss in the parameters along random unit directions,
// on fixed samples: the same seed gives the same base draws (reverse) or
// the same data (forward) at every parameter value.
func TestStandardFD(t *testing.T) {
	const directions = 3
	for _, c := range testCases(t) {
		for _, obj := range objectives {
			t.Run(c.name+"/"+obj.String(), func(t *testing.T) {
				e, err := NewEstimator(c.flow, c.target, obj, Standard, 4, 2)
				if err != nil {
					t.Fatal(err)
				}
				theta := make([]float64, c.flow.NumParams())
				c.flow.GetParams(theta)
				defer c.flow.SetParams(theta)
				_, grad := runEstimate(t, e, c, 5)
				loss := func(h float64, u []float64) float64 {
					p := make([]float64, len(theta))
					for k := range p {
						p[k] = theta[k] + h*u[k]
					}
					c.flow.SetParams(p)
					r, _ := runEstimate(t, e, c, 5)
					return r.Loss
				}
				rng := rand.New(rand.NewPCG(5, 6))
				scale := math.Max(1, norm(grad))
				for d := range directions {
					u := make([]float64, len(theta))
					for k := range u {
						u[k] = rng.NormFloat64()
					}
					n := norm(u)
					for k := range u {
						u[k] /= n
					}
					fd := (loss(estFDStep, u) - loss(-estFDStep, u)) / (2 * estFDStep)
					got := dot(grad, u)
					if e := math.Abs(got-fd) / scale; e > estFDTol {
						t.Errorf("direction %d: got grad . u = %.10g, want FD %.10g (error %.3g of |grad| = %.4g, want < %g)", d, got, fd, e, scale, estFDTol)
					}
					t.Logf("direction %d: grad . u = %.8g, FD %.8g, |grad| = %.4g", d, got, fd, scale)
				}
			})
		}
	}
}

func TestFastEqualsDropIn(t *testing.T) {
	for _, c := range testCases(t) {
		for _, obj := range objectives {
			t.Run(c.name+"/"+obj.String(), func(t *testing.T) {
				_, fast := estimate(t, c, obj, FastPath, 8, 4)
				_, dropIn := estimate(t, c, obj, DropInPath, 8, 4)
				_, std := estimate(t, c, obj, Standard, 8, 4)
				var e float64
				for i := range fast {
					e = math.Max(e, math.Abs(fast[i]-dropIn[i]))
				}
				e /= norm(dropIn)
				if e > estPathTol {
					t.Errorf("fast vs drop-in path gradient: got max component difference %.3g of the norm, want < %g", e, estPathTol)
				}
				// The path gradient differs from the standard one on a
				// batch, so the comparison is not between zeros.
				if d := relDiff(std, dropIn); d < 1e-3 {
					t.Errorf("standard vs path gradient: got relative difference %.3g, want a different estimator (> 1e-3)", d)
				}
				t.Logf("max |fast - drop-in| / |drop-in| = %.3g, |path| = %.4g, |standard| = %.4g", e, norm(dropIn), norm(std))
			})
		}
	}
}

func TestZeroVarianceAtOptimum(t *testing.T) {
	for _, c := range testCases(t) {
		// The target is a frozen copy of the flow: p~ = q, log Z = 0.
		frozen := newFlowAction(copyFlow(t, c.flow))
		c.target, c.data = frozen, frozen.sample
		for _, obj := range objectives {
			t.Run(c.name+"/"+obj.String(), func(t *testing.T) {
				var worst, minStd float64
				minStd = math.Inf(1)
				for seed := uint64(10); seed < 13; seed++ {
					rs, std := estimate(t, c, obj, Standard, 1, seed)
					if math.Abs(rs.LogW[0]) > 1e-9 {
						t.Errorf("seed %d: log w: got %.3g, want 0 (p~ = q)", seed, rs.LogW[0])
					}
					minStd = math.Min(minStd, norm(std))
					for _, g := range gradients[1:] {
						_, path := estimate(t, c, obj, g, 1, seed)
						e := norm(path) / norm(std)
						worst = math.Max(worst, e)
						if e > estZeroTol {
							t.Errorf("seed %d: %v: got |grad| = %.3g of the standard |grad| = %.3g, want < %g", seed, g, norm(path), norm(std), estZeroTol)
						}
					}
				}
				// The standard estimator is not zero per sample (its
				// expectation is zero at the optimum, its variance is not).
				if minStd < 1e-3 {
					t.Errorf("standard gradient: got norm %.3g on a sample, want a nonzero gradient", minStd)
				}
				t.Logf("largest |path| / |standard| = %.3g, smallest |standard| = %.4g", worst, minStd)
			})
		}
	}
}

// meanSE returns the mean of v and its standard error.
func meanSE(v []float64) (mean, se float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(v)-1) / float64(len(v)))
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func TestUnbiased(t *testing.T) {
	const (
		batch = 16
		// batches of independent samples per estimator; the standard and
		// path estimators see the same samples, so their difference has
		// a small variance and the comparison is sharp.
		batches = 150
		// pilot batches estimate the mean gradient direction.
		pilot = 40
		// random projections besides the mean direction.
		projections = 4
	)
	cfg := flow.DefaultConfig(flow.TheoryPhi4, 4)
	cfg.Layers = 2
	g := newGaussian(t, 4, 1)
	c := estCase{name: "phi4/L=4", flow: newTestFlow(t, cfg, 5), target: g.act, data: g.sample}
	P := c.flow.NumParams()
	for _, obj := range objectives {
		t.Run(c.name+"/"+obj.String(), func(t *testing.T) {
			ests := make([]*Estimator[float64], len(gradients))
			for j, gt := range gradients {
				e, err := NewEstimator(c.flow, c.target, obj, gt, batch, 2)
				if err != nil {
					t.Fatal(err)
				}
				ests[j] = e
			}
			// Directions: the pilot mean of the standard gradient and
			// random unit vectors, all independent of the test batches.
			dirs := make([][]float64, 0, projections+1)
			mean := make([]float64, P)
			for b := range pilot {
				_, gs := runEstimate(t, ests[0], c, uint64(100000+b))
				for k, v := range gs {
					mean[k] += v / pilot
				}
			}
			dirs = append(dirs, mean)
			rng := rand.New(rand.NewPCG(5, 5))
			for range projections {
				u := make([]float64, P)
				for k := range u {
					u[k] = rng.NormFloat64()
				}
				dirs = append(dirs, u)
			}
			for _, u := range dirs {
				n := norm(u)
				for k := range u {
					u[k] /= n
				}
			}
			// proj[j][d][b] is the projection of estimator j's gradient on
			// direction d in batch b.
			proj := make([][][]float64, len(gradients))
			for j := range proj {
				proj[j] = make([][]float64, len(dirs))
				for d := range dirs {
					proj[j][d] = make([]float64, batches)
				}
			}
			for b := range batches {
				for j, e := range ests {
					_, gr := runEstimate(t, e, c, uint64(b))
					for d, u := range dirs {
						proj[j][d][b] = dot(gr, u)
					}
				}
			}
			diff := make([]float64, batches)
			for j := 1; j < len(gradients); j++ {
				for d := range dirs {
					for b := range diff {
						diff[b] = proj[0][d][b] - proj[j][d][b]
					}
					m, se := meanSE(diff)
					if math.Abs(m) > estKSigma*se {
						t.Errorf("%v - standard, direction %d: got mean %.4g +- %.2g, want 0 within %g sigma", gradients[j], d, -m, se, estKSigma)
					}
					ms, ses := meanSE(proj[0][d])
					mp, sep := meanSE(proj[j][d])
					t.Logf("direction %d: standard %.4g +- %.2g, %v %.4g +- %.2g, difference %.2g +- %.2g",
						d, ms, ses, gradients[j], mp, sep, -m, se)
				}
			}
			// Power: along the mean direction both gradients are far from
			// zero compared with the error of the difference, so a wrong
			// sign or scale of the path gradient would fail above.
			for j := range gradients {
				m, _ := meanSE(proj[j][0])
				for b := range diff {
					diff[b] = proj[0][0][b] - proj[1][0][b]
				}
				_, se := meanSE(diff)
				if m < 4*estKSigma*se {
					t.Errorf("%v: mean projection on the gradient direction %.3g, want > %.3g (power of the test)", gradients[j], m, 4*estKSigma*se)
				}
			}
		})
	}
}

// klEstimate returns the KL divergence of obj between the flow of c and the
// free field g, from the loss on n samples: reverse KL(q|p) = loss + log Z,
// forward KL(p|q) = loss - log Z.
func klEstimate(t testing.TB, c estCase, g *gaussian, obj Objective, n int, seed uint64) float64 {
	t.Helper()
	r, _ := estimate(t, c, obj, Standard, n, seed)
	if obj == Reverse {
		return r.Loss + g.logZ
	}
	return r.Loss - g.logZ
}

func TestTrainingLowersKL(t *testing.T) {
	const (
		steps = 150
		batch = 32
		lr    = 1e-2
		// evalBatch samples estimate the KL before and after training;
		// its statistical error is ~0.1 nats here, far below the margin.
		evalBatch = 512
		// klFactor: training must cut the KL to this fraction of its
		// start. At the default initialization the flow is close to its
		// N(0, 1) base, whose KL to the free field (mode variances
		// 1/M(k) between 0.06 and 0.5) is (tr M - V - log det M)/2 = 54
		// nats reverse and (tr M^-1 - V + log det M)/2 = 11 nats forward
		// (the initialization adds to these); a Gaussian is within
		// reach of 4 affine layers up to the conditioners' expressivity.
		// A wrong sign would raise the KL, a wrong scale slow it down.
		klFactor = 0.1
	)
	g := newGaussian(t, 4, 1)
	cfg := flow.DefaultConfig(flow.TheoryPhi4, 4)
	cfg.Layers = 4
	for _, obj := range objectives {
		for _, gt := range gradients {
			t.Run("phi4/L=4/"+obj.String()+"/"+gt.String(), func(t *testing.T) {
				// The default initialization, as a training run starts.
				f, err := flow.New[float64](cfg, rand.New(rand.NewPCG(7, 1)))
				if err != nil {
					t.Fatal(err)
				}
				c := estCase{flow: f, target: g.act, data: g.sample}
				kl0 := klEstimate(t, c, g, obj, evalBatch, 1)
				e, err := NewEstimator(c.flow, c.target, obj, gt, batch, 2)
				if err != nil {
					t.Fatal(err)
				}
				theta := make([]float64, c.flow.NumParams())
				c.flow.GetParams(theta)
				grad := make([]float64, len(theta))
				opt := NewAdam(len(theta))
				for step := range steps {
					runEstimateInto(t, e, c, uint64(1000+step), grad)
					opt.Update(theta, grad, lr)
					c.flow.SetParams(theta)
				}
				kl1 := klEstimate(t, c, g, obj, evalBatch, 2)
				if !(kl1 < klFactor*kl0) {
					t.Errorf("KL after %d steps: got %.4g, want < %g of the start %.4g", steps, kl1, klFactor, kl0)
				}
				t.Logf("KL %.4g -> %.4g", kl0, kl1)
			})
		}
	}
}

// runEstimateInto is runEstimate writing the gradient into grad.
func runEstimateInto(t testing.TB, e *Estimator[float64], c estCase, seed uint64, grad []float64) Result {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 2))
	var data []float64
	if e.Objective() == Forward {
		data = make([]float64, e.Batch()*c.flow.Size)
		c.data(rng, data)
	}
	r, err := e.Estimate(rng, data, grad)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestEstimateReproducible(t *testing.T) {
	for _, c := range testCases(t) {
		for _, obj := range objectives {
			for _, gt := range gradients {
				t.Run(c.name+"/"+obj.String()+"/"+gt.String(), func(t *testing.T) {
					var want []float64
					var wantLoss float64
					for _, workers := range []int{1, 2, 3} {
						e, err := NewEstimator(c.flow, c.target, obj, gt, 40, workers)
						if err != nil {
							t.Fatal(err)
						}
						r, grad := runEstimate(t, e, c, 6)
						if want == nil {
							want, wantLoss = grad, r.Loss
							continue
						}
						if r.Loss != wantLoss {
							t.Errorf("workers=%d: loss: got %v, want %v (1 worker)", workers, r.Loss, wantLoss)
						}
						for k := range grad {
							if math.Float64bits(grad[k]) != math.Float64bits(want[k]) {
								t.Errorf("workers=%d: grad[%d]: got %v, want %v (1 worker, bit-identical)", workers, k, grad[k], want[k])
								break
							}
						}
					}
				})
			}
		}
	}
}

func TestEstimateNoAlloc(t *testing.T) {
	for _, c := range testCases(t) {
		for _, obj := range objectives {
			for _, gt := range gradients {
				e, err := NewEstimator(c.flow, c.target, obj, gt, 4, 1)
				if err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(8, 1))
				var data []float64
				if obj == Forward {
					data = make([]float64, 4*c.flow.Size)
					c.data(rng, data)
				}
				grad := make([]float64, c.flow.NumParams())
				fn := func() {
					if _, err := e.Estimate(rng, data, grad); err != nil {
						t.Fatal(err)
					}
				}
				if a := testing.AllocsPerRun(3, fn); a != 0 {
					t.Errorf("%s/%v/%v with 1 worker: got %v allocations per Estimate, want 0", c.name, obj, gt, a)
				}
			}
		}
	}
}

// estTestLayer is a Layer without the InverseLayer methods (the identity).
type estTestLayer struct{ n int }

func (l estTestLayer) Size() int          { return l.n }
func (l estTestLayer) Params() []float64  { return nil }
func (l estTestLayer) NewTape() flow.Tape { return nil }
func (l estTestLayer) Backward(_ flow.Tape, gx, gy []float64, _ float64, _ []float64) {
	if gx != nil {
		copy(gx, gy)
	}
}
func (l estTestLayer) Forward(_ flow.Tape, y, x, _ []float64) float64 {
	copy(y, x)
	return 0
}
func (l estTestLayer) Inverse(_ flow.Tape, x, y []float64) (float64, error) {
	copy(x, y)
	return 0, nil
}

func TestNewEstimatorErrors(t *testing.T) {
	f := flow.NewFlow(flow.Config{}, flow.NormalBase{}, 16, []flow.Layer[float64]{estTestLayer{16}})
	act := lattice.NewPhi4Standard(lattice.NewGeometry(4), 1, 0)
	for _, obj := range objectives {
		for _, gt := range gradients {
			_, err := NewEstimator(f, act, obj, gt, 4, 1)
			needsInverse := obj == Forward || gt == DropInPath
			if needsInverse && (err == nil || !strings.Contains(err.Error(), "estTestLayer")) {
				t.Errorf("%v/%v: got error %v, want one naming the layer type", obj, gt, err)
			}
			if !needsInverse && err != nil {
				t.Errorf("%v/%v: got error %v, want nil (no inverse pass needed)", obj, gt, err)
			}
		}
	}
	bad := []struct {
		name  string
		obj   Objective
		gt    GradientType
		batch int
	}{
		{"objective", Objective(2), Standard, 4},
		{"gradient", Reverse, GradientType(-1), 4},
		{"batch", Reverse, Standard, 0},
	}
	for _, b := range bad {
		if _, err := NewEstimator(f, act, b.obj, b.gt, b.batch, 1); err == nil {
			t.Errorf("invalid %s: got nil error, want one", b.name)
		}
	}
}

func TestEstimateFloat32(t *testing.T) {
	// estFloat32Tol is the tolerance of a float32 estimator against the
	// float64 one with the same parameters and samples, relative to the
	// gradient norm: float32 rounding (~1e-7) amplified by the layers and
	// by the cancellations inside the path gradient (3e-7 observed on
	// this 4-layer flow).
	const estFloat32Tol = 1e-5
	c := phi4Case(t, 9)
	f32, err := flow.New[float32](c.flow.Config, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	theta := make([]float64, c.flow.NumParams())
	c.flow.GetParams(theta)
	theta32 := make([]float32, len(theta))
	for i, v := range theta {
		theta32[i] = float32(v)
		theta[i] = float64(theta32[i])
	}
	f32.SetParams(theta32)
	c.flow.SetParams(theta)
	for _, obj := range objectives {
		for _, gt := range gradients {
			_, want := estimate(t, c, obj, gt, 8, 9)
			e, err := NewEstimator(f32, c.target, obj, gt, 8, 2)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(9, 2))
			var data []float64
			if obj == Forward {
				data = make([]float64, 8*c.flow.Size)
				c.data(rng, data)
			}
			got := make([]float64, len(want))
			if _, err := e.Estimate(rng, data, got); err != nil {
				t.Fatal(err)
			}
			d := relDiff(got, want)
			if d > estFloat32Tol {
				t.Errorf("%v/%v: float32 vs float64 gradient: got relative difference %.3g, want < %g", obj, gt, d, estFloat32Tol)
			}
			t.Logf("%v/%v: float32 vs float64 relative difference %.3g", obj, gt, d)
		}
	}
}

// An estimator's loss and gradient on one batch: the fast path gradient
// equals the drop-in one.
func ExampleEstimator() {
	cfg := flow.DefaultConfig(flow.TheoryPhi4, 4)
	cfg.Layers = 2
	f, err := flow.New[float64](cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		fmt.Println(err)
		return
	}
	target := lattice.NewPhi4Standard(lattice.NewGeometry(4), 1, 0)
	grads := make([][]float64, 2)
	for i, gt := range []GradientType{DropInPath, FastPath} {
		e, err := NewEstimator(f, target, Reverse, gt, 16, 1)
		if err != nil {
			fmt.Println(err)
			return
		}
		grads[i] = make([]float64, f.NumParams())
		r, err := e.Estimate(rand.New(rand.NewPCG(2, 1)), nil, grads[i])
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%v: loss %.3f, ESS %.3f, |grad| %.2f\n", gt, r.Loss, r.ESS, norm(grads[i]))
	}
	// Output:
	// dropin-path: loss 64.533, ESS 0.065, |grad| 182.38
	// fast-path: loss 64.533, ESS 0.065, |grad| 182.38
}

// benchEstimate times Estimate steps of obj and gt on f and target with
// workers = GOMAXPROCS (set by -cpu), batch 64; forward data are samples
// of the flow itself.
func benchEstimate[T nn.Float](b *testing.B, f *flow.Flow[T], target lattice.Action, obj Objective, gt GradientType) {
	const batch = 64
	e, err := NewEstimator(f, target, obj, gt, batch, 0)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	var data []float64
	if obj == Forward {
		x := make([]T, batch*f.Size)
		f.Sample(rng, x, make([]float64, batch), 0)
		data = make([]float64, len(x))
		for k, v := range x {
			data[k] = float64(v)
		}
	}
	grad := make([]float64, f.NumParams())
	if _, err := e.Estimate(rng, data, grad); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Estimate(rng, data, grad); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/step")
}

// benchSystems runs benchEstimate for every objective and gradient type
// on U(1) at L=16 with the published 24-layer, 6-component flow and
// beta = 3, and on phi^4 at L=8 with the 16-layer RealNVP flow at the
// tutorial point m2 = -4, lambda = 8.
func benchSystems[T nn.Float](b *testing.B) {
	u1, err := flow.New[T](flow.DefaultConfig(flow.TheoryU1, 16), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	phi4, err := flow.New[T](flow.DefaultConfig(flow.TheoryPhi4, 8), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	systems := []struct {
		name   string
		f      *flow.Flow[T]
		target lattice.Action
	}{
		{"u1", u1, gauge.WilsonAction{Geom: lattice.NewGeometry(16), Beta: 3}},
		{"phi4", phi4, lattice.NewPhi4Standard(lattice.NewGeometry(8), -4, 8)},
	}
	for _, sys := range systems {
		for _, obj := range objectives {
			for _, gt := range gradients {
				b.Run(sys.name+"/"+obj.String()+"/"+gt.String(), func(b *testing.B) {
					benchEstimate(b, sys.f, sys.target, obj, gt)
				})
			}
		}
	}
}

// BenchmarkEstimate is one training step's loss and gradient for each
// estimator with a float64 flow, batch 64 (see benchSystems).
func BenchmarkEstimate(b *testing.B) { benchSystems[float64](b) }

// BenchmarkEstimateFloat32 is BenchmarkEstimate with a float32 flow.
func BenchmarkEstimateFloat32(b *testing.B) { benchSystems[float32](b) }
