package flowtrain

import (
	"encoding/binary"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"latflow/flow"
	"latflow/gauge"
	"latflow/lattice"
)

// unbiasedLong runs TestForwardUnbiasedU1 with the long statistics: U(1)
// at L=8 with the tutorial flow (16 layers, 2 mixtures) at four models,
// 400 to 3200 batches of 64 each (14 minutes on one shared core):
//
//	go test ./flowtrain -run TestForwardUnbiasedU1 -v -timeout 1h -unbiased.long
var unbiasedLong = flag.Bool("unbiased.long", false, "TestForwardUnbiasedU1: L=8, 16-layer models, long statistics")

const (
	// unbBeta is the coupling of the unbiasedness tests (the issue's
	// beta = 3).
	unbBeta = 3.0
	// unbBlocks is the number of blocks of batches for the jackknife of
	// the bias norm and the median-of-means z.
	unbBlocks = 16
	// unbFamilyAlpha is the family-wise false-alarm probability of the
	// per-component test (Bonferroni over the parameters).
	unbFamilyAlpha = 1e-3
	// unbPowerFrac is the bias along the mean gradient, as a fraction of
	// the gradient's norm, that the test must be able to see at estKSigma
	// standard errors.
	unbPowerFrac = 0.05
)

// unbModel is a U(1) flow at fixed parameters at which the forward
// estimators are compared.
type unbModel struct {
	name string
	flow *flow.Flow[float64]
	// power is the fraction of the gradient norm that a bias along the
	// mean gradient must be detectable at (0: not required, reported).
	power float64
	// batches is the number of batches compared.
	batches int
}

// unbStats are the statistics of a gradient or a difference of
// gradients, one vector per batch.
type unbStats struct {
	// dir[d] are the per-batch projections on direction d.
	dir [][]float64
	// sum, sq: per-component sums of the vectors and of their squares
	// over batches; blk[k] the per-component sums over block k.
	sum, sq []float64
	blk     [][]float64
	// blkQ[k] is the sum over block k of the squared norms, blkSq[k] the
	// per-component sums of squares over block k.
	blkQ  []float64
	blkSq [][]float64
	n     int
}

// newUnbStats returns the statistics of P-vectors over n batches with
// ndir projections.
func newUnbStats(P, n, ndir int) *unbStats {
	s := &unbStats{
		dir: make([][]float64, ndir),
		sum: make([]float64, P), sq: make([]float64, P),
		blk: make([][]float64, unbBlocks), blkQ: make([]float64, unbBlocks), blkSq: make([][]float64, unbBlocks), n: n,
	}
	for d := range s.dir {
		s.dir[d] = make([]float64, n)
	}
	for k := range s.blk {
		s.blk[k] = make([]float64, P)
		s.blkSq[k] = make([]float64, P)
	}
	return s
}

// add records the vector v of batch b and its projections on dirs.
func (s *unbStats) add(b int, v []float64, dirs [][]float64) {
	for d, u := range dirs {
		s.dir[d][b] = dot(v, u)
	}
	blk := b * unbBlocks / s.n
	var q float64
	for k, x := range v {
		s.sum[k] += x
		s.sq[k] += x * x
		s.blk[blk][k] += x
		s.blkSq[blk][k] += x * x
		q += x * x
	}
	s.blkQ[blk] += q
}

// normalizedUStat returns (1/P) sum_k b_k^2 / (sigma_k^2/n), the squared
// bias per component in units of the variance of its mean over the n
// batches (about chi^2/P - 1 of the t statistics), estimated without bias
// as uStat does per component, with its delete-one-block jackknife error.
// The variances sigma_k^2 are those of all batches, fixed in the
// jackknife; components with zero variance are left out.
func (s *unbStats) normalizedUStat() (est, se float64) {
	n := float64(s.n)
	K := len(s.blk)
	per := float64(s.n / K)
	w := make([]float64, len(s.sum))
	used := 0
	for j := range s.sum {
		m := s.sum[j] / n
		v := (s.sq[j]/n - m*m) * n / (n - 1)
		if v > 0 {
			w[j] = 1 / (v / n)
			used++
		}
	}
	u := func(drop int) float64 {
		var tot float64
		m := n
		if drop >= 0 {
			m -= per
		}
		for j, wj := range w {
			if wj == 0 {
				continue
			}
			S, Q := s.sum[j], s.sq[j]
			if drop >= 0 {
				S -= s.blk[drop][j]
				Q -= s.blkSq[drop][j]
			}
			tot += wj * (S*S - Q) / (m * (m - 1))
		}
		return tot / float64(used)
	}
	est = u(-1)
	loo := make([]float64, K)
	for k := range K {
		loo[k] = u(k)
	}
	var mm, vv float64
	for _, x := range loo {
		mm += x
	}
	mm /= float64(K)
	for _, x := range loo {
		vv += (x - mm) * (x - mm)
	}
	return est, math.Sqrt(float64(K-1) / float64(K) * vv)
}

// uStat returns the unbiased estimate of |E[a - b]|^2 from the batch
// differences d_i, (|sum d|^2 - sum |d|^2) / (n (n-1)), with its
// delete-one-block jackknife error.
func (s *unbStats) uStat() (est, se float64) {
	P := len(s.sum)
	K := len(s.blk)
	per := s.n / K
	var Q float64
	for _, q := range s.blkQ {
		Q += q
	}
	u := func(S []float64, Q float64, n int) float64 {
		var s2 float64
		for _, v := range S {
			s2 += v * v
		}
		return (s2 - Q) / float64(n*(n-1))
	}
	est = u(s.sum, Q, s.n)
	loo := make([]float64, K)
	S := make([]float64, P)
	for k := range K {
		for j := range S {
			S[j] = s.sum[j] - s.blk[k][j]
		}
		loo[k] = u(S, Q-s.blkQ[k], s.n-per)
	}
	var m, v float64
	for _, x := range loo {
		m += x
	}
	m /= float64(K)
	for _, x := range loo {
		v += (x - m) * (x - m)
	}
	return est, math.Sqrt(float64(K-1) / float64(K) * v)
}

// components returns, over the parameters with a nonzero spread, the
// largest |t| of the per-component mean difference (t from the batch
// variance), chi^2/P of those t, and the largest |z| of the median of the
// block means (error sqrt(pi/2) times the standard error of the block
// mean), a statistic robust to heavy tails.
func (s *unbStats) components() (maxT, chi2, maxMoM float64, used int) {
	n := float64(s.n)
	K := len(s.blk)
	bm := make([]float64, K)
	for j := range s.sum {
		m := s.sum[j] / n
		v := (s.sq[j]/n - m*m) * n / (n - 1)
		if !(v > 0) {
			continue
		}
		used++
		tj := m / math.Sqrt(v/n)
		chi2 += tj * tj
		maxT = math.Max(maxT, math.Abs(tj))
		per := float64(s.n / K)
		for k := range K {
			bm[k] = s.blk[k][j] / per
		}
		_, bmSE := meanSE(bm)
		sort.Float64s(bm)
		med := 0.5 * (bm[(K-1)/2] + bm[K/2])
		if bmSE > 0 {
			maxMoM = math.Max(maxMoM, math.Abs(med)/(math.Sqrt(math.Pi/2)*bmSE))
		}
	}
	return maxT, chi2 / float64(used), maxMoM, used
}

// bonferroniT is the |t| that P Student-t components with n-1 degrees of
// freedom (the t of a mean over n batches) exceed with family-wise
// probability alpha.
func bonferroniT(P, n int, alpha float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(1 - alpha/float64(2*P))
}

// kurtosis returns the kurtosis m4/m2^2 of v (3 for a normal).
func kurtosis(v []float64) float64 {
	m, _ := meanSE(v)
	var m2, m4 float64
	for _, x := range v {
		d := (x - m) * (x - m)
		m2 += d
		m4 += d * d
	}
	n := float64(len(v))
	return m4 / n / (m2 * m2 / (n * n))
}

// compareForward draws batches of exact samples of the Wilson action (or,
// if pool is not nil, batches drawn with replacement from pool) and
// compares the forward drop-in and fast path gradients with maximum
// likelihood on each batch. It checks that fast and drop-in agree on every
// dropInEvery-th batch and returns the statistics of fast - standard and
// of standard, with directions: the pilot mean of standard, then random.
func compareForward(t *testing.T, f *flow.Flow[float64], batches, batch, pilot, dropInEvery int, seed uint64, pool []float64) (diff, std *unbStats) {
	t.Helper()
	L := f.Config.L
	target := gauge.WilsonAction{Geom: lattice.NewGeometry(L), Beta: unbBeta}
	ex, err := gauge.NewExactSampler(L, unbBeta)
	if err != nil {
		t.Fatal(err)
	}
	P, n := f.NumParams(), f.Size
	ests := make([]*Estimator[float64], len(gradients))
	grads := make([][]float64, len(gradients))
	for j, g := range gradients {
		if ests[j], err = NewEstimator(f, target, Forward, g, batch, 0); err != nil {
			t.Fatal(err)
		}
		grads[j] = make([]float64, P)
	}
	rng := rand.New(rand.NewPCG(seed, 14))
	data := make([]float64, batch*n)
	draw := func() {
		for i := range batch {
			if pool != nil {
				copy(data[i*n:(i+1)*n], pool[rng.IntN(len(pool)/n)*n:])
			} else {
				ex.SampleTo(data[i*n:(i+1)*n], rng)
			}
		}
	}
	estimate := func(j int) {
		if _, err := ests[j].Estimate(nil, data, grads[j]); err != nil {
			t.Fatal(err)
		}
	}
	// Directions, independent of the test batches: the pilot mean of the
	// standard gradient and random unit vectors.
	dirs := [][]float64{make([]float64, P)}
	for range pilot {
		draw()
		estimate(0)
		for k, v := range grads[0] {
			dirs[0][k] += v
		}
	}
	dr := rand.New(rand.NewPCG(seed, 15))
	for range 3 {
		u := make([]float64, P)
		for k := range u {
			u[k] = dr.NormFloat64()
		}
		dirs = append(dirs, u)
	}
	for _, u := range dirs {
		un := norm(u)
		for k := range u {
			u[k] /= un
		}
	}
	diff, std = newUnbStats(P, batches, len(dirs)), newUnbStats(P, batches, len(dirs))
	d := make([]float64, P)
	var worstPath float64
	checked := 0
	for b := range batches {
		draw()
		estimate(0)
		estimate(2)
		sg, fast := grads[0], grads[2]
		if b%dropInEvery == 0 {
			estimate(1)
			var e float64
			for k, v := range grads[1] {
				e = math.Max(e, math.Abs(fast[k]-v))
			}
			worstPath = math.Max(worstPath, e/norm(grads[1]))
			checked++
		}
		for k := range d {
			d[k] = fast[k] - sg[k]
		}
		diff.add(b, d, dirs)
		std.add(b, sg, dirs)
	}
	if worstPath > estPathTol {
		t.Errorf("fast vs drop-in path gradient: got max component difference %.3g of the norm on a batch, want < %g", worstPath, estPathTol)
	}
	t.Logf("fast vs drop-in: largest max-component difference %.2g of |drop-in| over %d batches", worstPath, checked)
	return diff, std
}

// checkUnbiased asserts that fast - standard has zero mean (s and std from
// compareForward with fresh samples) and logs the table row.
func checkUnbiased(t *testing.T, m unbModel, s, std *unbStats) {
	t.Helper()
	g0, g0se := meanSE(std.dir[0])
	g2, g2se := std.uStat()
	gn := math.Sqrt(math.Max(g2, 0))
	t.Logf("%s: |E[standard]|^2 = %.4g +- %.2g (|g| = %.4g)", m.name, g2, g2se, gn)
	for d, v := range s.dir {
		mean, se := meanSE(v)
		if math.Abs(mean) > estKSigma*se {
			t.Errorf("%s: direction %d: fast - standard got %.4g +- %.2g, want 0 within %g sigma", m.name, d, mean, se, estKSigma)
		}
		t.Logf("%s: direction %d: fast - standard %.4g +- %.2g (z %.2f, kurtosis %.3g)", m.name, d, mean, se, mean/se, kurtosis(v))
		if d == 0 {
			// Power: a bias of m.power |g| along the gradient would be
			// estKSigma standard errors.
			detect := estKSigma * se / math.Abs(g0)
			t.Logf("%s: gradient along the pilot mean %.4g +- %.2g; detectable bias %.3g of it", m.name, g0, g0se, detect)
			if m.power > 0 && !(detect < m.power) {
				t.Errorf("%s: a bias of %.3g of the gradient would not show (%g sigma = %.3g of it); want < %g", m.name, m.power, estKSigma, detect, m.power)
			}
		}
	}
	u, use := s.uStat()
	if u > estKSigma*use {
		t.Errorf("%s: |E[fast - standard]|^2: got %.4g +- %.2g, want 0 within %g sigma", m.name, u, use, estKSigma)
	}
	bound := math.Sqrt(math.Max(u, 0) + estKSigma*use)
	t.Logf("%s: |E[fast - standard]|^2 = %.3g +- %.2g (z %.2f): |bias| < %.3g = %.3g of |g|",
		m.name, u, use, u/use, bound, bound/gn)
	maxT, chi2, maxMoM, used := s.components()
	zmax := bonferroniT(used, s.n, unbFamilyAlpha)
	if maxT > zmax {
		t.Errorf("%s: per component: got max |t| = %.2f over %d parameters, want < %.2f (Bonferroni, family-wise %g)", m.name, maxT, used, zmax, unbFamilyAlpha)
	}
	nu, nuse := s.normalizedUStat()
	if nu > estKSigma*nuse {
		t.Errorf("%s: per component: squared bias in units of the error of the mean got %.3g +- %.2g, want 0 within %g sigma", m.name, nu, nuse, estKSigma)
	}
	t.Logf("%s: per component (%d): max |t| %.2f (Bonferroni bound %.2f), chi^2/P %.3f, normalized |bias|^2 %.3g +- %.2g, max |z| of median-of-%d-means %.2f",
		m.name, used, maxT, zmax, chi2, nu, nuse, unbBlocks, maxMoM)
}

// trainU1 trains f in place for steps Adam steps of the forward objective
// with gradient g at learning rate lr, on fresh exact samples (pool nil)
// or on batches drawn from pool.
func trainU1(t *testing.T, f *flow.Flow[float64], g GradientType, steps, batch int, lr float64, seed uint64, pool []float64) {
	t.Helper()
	L := f.Config.L
	target := gauge.WilsonAction{Geom: lattice.NewGeometry(L), Beta: unbBeta}
	ex, err := gauge.NewExactSampler(L, unbBeta)
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEstimator(f, target, Forward, g, batch, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := f.Size
	theta := make([]float64, f.NumParams())
	f.GetParams(theta)
	grad := make([]float64, len(theta))
	opt := NewAdam(len(theta))
	rng := rand.New(rand.NewPCG(seed, 16))
	data := make([]float64, batch*n)
	for range steps {
		for i := range batch {
			if pool != nil {
				copy(data[i*n:(i+1)*n], pool[rng.IntN(len(pool)/n)*n:])
			} else {
				ex.SampleTo(data[i*n:(i+1)*n], rng)
			}
		}
		if _, err := e.Estimate(nil, data, grad); err != nil {
			t.Fatal(err)
		}
		opt.Update(theta, grad, lr)
		f.SetParams(theta)
	}
}

// exactPool returns m exact samples of the Wilson action at unbBeta.
func exactPool(t *testing.T, L, m int, seed uint64) []float64 {
	t.Helper()
	ex, err := gauge.NewExactSampler(L, unbBeta)
	if err != nil {
		t.Fatal(err)
	}
	n := 2 * L * L
	x := make([]float64, m*n)
	rng := rand.New(rand.NewPCG(seed, 17))
	for i := range m {
		ex.SampleTo(x[i*n:(i+1)*n], rng)
	}
	return x
}

// u1Flow returns the U(1) flow with layers and 2 mixtures on L x L at the
// default initialization from seed, with the parameters of the raw
// little-endian float64 file params if it is not "".
func u1Flow(t *testing.T, L, layers int, seed uint64, params string) *flow.Flow[float64] {
	t.Helper()
	cfg := flow.DefaultConfig(flow.TheoryU1, L)
	cfg.Layers, cfg.Mixtures = layers, 2
	f, err := flow.New[float64](cfg, rand.New(rand.NewPCG(seed, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if params == "" {
		return f
	}
	b, err := os.ReadFile(params)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 8*f.NumParams() {
		t.Fatalf("%s: %d bytes, want 8 x %d parameters", params, len(b), f.NumParams())
	}
	p := make([]float64, f.NumParams())
	for i := range p {
		p[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	f.SetParams(p)
	return f
}

// TestForwardUnbiasedU1 compares the forward-KL estimators (maximum
// likelihood, drop-in path, fast path) on exact independent samples of
// U(1) at beta = 3 (gauge.ExactSampler), at fixed models: fresh, trained
// by maximum likelihood, and diverged (from fast-path runs on a reused
// finite dataset, the failure of issue 14; testdata, raw little-endian
// float64 parameters in flow.GetParams order). All three are gradients of
// the same loss, so fast - standard must have zero mean along fixed
// directions, as a vector (the unbiased U-statistic of
// |E[fast - standard]|^2) and per component; fast and drop-in must agree
// batch by batch. The default run is L=4 (4 layers) and the diverged L=8
// model with few batches; -unbiased.long runs L=8 with the tutorial flow
// (16 layers, 2 mixtures) and enough batches that a bias of unbPowerFrac
// of the gradient's norm along it would show where the models allow.
//
// The testdata models: u1_L4_diverged.f64 is 1000 fast-path steps
// (float64, batch 16, Adam lr 3e-3) of the L=4 flow from seed 7 on batches
// drawn from 256 exact configurations; u1_L8_diverged.f64 is step 3000 of
// the run (16 layers, 2 mixtures, float32, batch 64, lr 1e-3,
// seed 7) on 16,000 HMC configurations, where the training loss had risen
// from 339.6 to 341.0 and the fresh ESS fallen from 0.013 to 0.002.
func TestForwardUnbiasedU1(t *testing.T) {
	type suite struct {
		name                      string
		models                    func(t *testing.T) []unbModel
		batch, pilot, dropInEvery int
	}
	suites := []suite{
		{
			name: "L=4", batch: 16, pilot: 32, dropInEvery: 1,
			models: func(t *testing.T) []unbModel {
				trained := u1Flow(t, 4, 4, 7, "")
				trainU1(t, trained, Standard, 200, 16, 3e-3, 1, nil)
				return []unbModel{
					{"fresh", u1Flow(t, 4, 4, 7, ""), unbPowerFrac, 250},
					{"ML 200 steps", trained, 0, 100},
					{"diverged", u1Flow(t, 4, 4, 7, "testdata/u1_L4_diverged.f64"), 0, 100},
				}
			},
		},
		{
			name: "L=8", batch: 16, pilot: 8, dropInEvery: 1,
			models: func(t *testing.T) []unbModel {
				return []unbModel{{"diverged", u1Flow(t, 8, 16, 7, "testdata/u1_L8_diverged.f64"), 0, 16}}
			},
		},
	}
	if *unbiasedLong {
		suites = []suite{{
			name: "L=8/long", batch: 64, pilot: 64, dropInEvery: 16,
			models: func(t *testing.T) []unbModel {
				part := u1Flow(t, 8, 16, 7, "")
				trainU1(t, part, Standard, 300, 64, 1e-3, 1, nil)
				trained := u1Flow(t, 8, 16, 7, "")
				trainU1(t, trained, Standard, 2000, 64, 1e-3, 1, nil)
				return []unbModel{
					{"fresh", u1Flow(t, 8, 16, 7, ""), unbPowerFrac, 400},
					{"ML 300 steps", part, unbPowerFrac, 3200},
					{"ML 2000 steps", trained, 0, 3200},
					{"diverged", u1Flow(t, 8, 16, 7, "testdata/u1_L8_diverged.f64"), 0, 1600},
				}
			},
		}}
	}
	for _, su := range suites {
		t.Run(su.name, func(t *testing.T) {
			for mi, m := range su.models(t) {
				t.Run(m.name, func(t *testing.T) {
					s, std := compareForward(t, m.flow, m.batches, su.batch, su.pilot, su.dropInEvery, uint64(100+mi), nil)
					checkUnbiased(t, m, s, std)
				})
			}
		})
	}
}

// TestForwardPathBiasedOnReusedData is the positive control of
// TestForwardUnbiasedU1 and the cause of issue 14's divergence: on batches
// drawn again and again from a finite dataset, the path gradients'
// average over the dataset is not the maximum-likelihood gradient of that
// dataset. Their difference is the dataset average of the score term
// d/dtheta log p_theta,0(z) at fixed z, whose expectation vanishes only
// over fresh samples of p. The U-statistic of TestForwardUnbiasedU1 must
// see it.
func TestForwardPathBiasedOnReusedData(t *testing.T) {
	const (
		poolSize = 64
		batches  = 100
		batch    = 16
	)
	f := u1Flow(t, 4, 4, 7, "")
	pool := exactPool(t, 4, poolSize, 3)
	s, _ := compareForward(t, f, batches, batch, 8, batches, 200, pool)
	u, use := s.uStat()
	if !(u > estKSigma*use) {
		t.Errorf("dataset of %d: |E[fast - standard]|^2: got %.3g +- %.2g, want > %g sigma (a bias)", poolSize, u, use, estKSigma)
	}
	maxT, chi2, _, used := s.components()
	nu, nuse := s.normalizedUStat()
	t.Logf("dataset of %d configurations: |E[fast - standard]|^2 = %.3g +- %.2g (z %.1f); per component max |t| %.2f, chi^2/P %.2f, normalized |bias|^2 %.3g +- %.2g over %d",
		poolSize, u, use, u/use, maxT, chi2, nu, nuse, used)
}
