package flowtrain

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"

	"latflow/flow"
	"latflow/lattice"
	"latflow/nn"
)

// varianceChunks is the number of blocks of samples GradientVariance sums
// separately: the sums are combined in block order, so the result does not
// depend on the number of workers, and the spread of the block estimates
// gives the error of the trace.
const varianceChunks = 16

// Variance is the spread of one gradient estimator's single-sample
// gradients at fixed parameters, measured by GradientVariance.
type Variance struct {
	Objective Objective
	Gradient  GradientType
	// Samples is the number of single-sample gradients.
	Samples int
	// Trace is the trace of their covariance: the sum over parameters of
	// the variance of a single-sample gradient component (divided by
	// Samples-1). A batch of B independent samples has Trace/B.
	Trace float64
	// TraceErr is the standard error of Trace from its spread over blocks
	// of samples (NaN for fewer than 4 samples); a heavy tail shows up as
	// a large TraceErr.
	TraceErr float64
	// MeanNorm is the norm of the mean gradient over the samples.
	MeanNorm float64
}

// GradientVariance measures the per-sample variance of the gradient
// estimators grads of objective obj at the current parameters of f
// (physics.md section 4; the gradient-variance table of
// latflow bench --variance): for each of n samples it computes every
// estimator's gradient on that one sample, and returns per estimator the
// trace of the covariance of the n gradients, its error and the norm of
// their mean. The estimators see the same samples, so their ratios are
// paired comparisons. For a flow equal to its target (q = p) the path
// estimators give zero on every sample, the standard ones do not.
//
// Reverse draws the n base samples from rng (one rng.Uint64 per sample,
// in order, seeding the estimators' draws) and needs data == nil; Forward
// takes data, n*Size float64 numbers (samples of the target), and ignores
// rng. The work is split over workers goroutines (workers <= 0:
// GOMAXPROCS), each with its own single-sample estimators, so target must
// be safe for concurrent use if workers != 1; the result is bit-identical
// for any workers. f must not be changed during the call.
//
// It returns an error for n < 2, for an invalid obj or gradient type (as
// NewEstimator), and the error of the first sample whose estimate fails.
// It panics if f or target is nil, on a wrong length of data, or on a nil
// rng for Reverse.
func GradientVariance[T nn.Float](f *flow.Flow[T], target lattice.Action, obj Objective, grads []GradientType, rng *rand.Rand, data []float64, n, workers int) ([]Variance, error) {
	if f == nil || target == nil {
		panic("flowtrain: GradientVariance: nil flow or target")
	}
	if n < 2 {
		return nil, fmt.Errorf("flowtrain: GradientVariance: %d samples, want >= 2", n)
	}
	if len(grads) == 0 {
		return nil, errors.New("flowtrain: GradientVariance: no gradient types")
	}
	var seeds []uint64
	switch obj {
	case Forward:
		if len(data) != n*f.Size {
			panic(fmt.Sprintf("flowtrain: GradientVariance: len(data)=%d, want n*Size=%d*%d", len(data), n, f.Size))
		}
	case Reverse:
		if data != nil {
			panic("flowtrain: GradientVariance: reverse objective draws its samples from the flow, want data == nil")
		}
		if rng == nil {
			panic("flowtrain: GradientVariance: reverse objective needs an rng")
		}
		seeds = make([]uint64, n)
		for i := range seeds {
			seeds[i] = rng.Uint64()
		}
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	chunks := min(varianceChunks, n/2)
	workers = min(workers, chunks)
	P := f.NumParams()
	ne := len(grads)

	type worker struct {
		ests []*Estimator[T]
		grad []float64
		src  *rand.PCG
		rng  *rand.Rand
	}
	ws := make([]worker, workers)
	for w := range ws {
		ws[w].ests = make([]*Estimator[T], ne)
		for j, g := range grads {
			e, err := NewEstimator(f, target, obj, g, 1, 1)
			if err != nil {
				return nil, fmt.Errorf("flowtrain: GradientVariance: %w", err)
			}
			ws[w].ests[j] = e
		}
		ws[w].grad = make([]float64, P)
		ws[w].src = rand.NewPCG(0, 0)
		ws[w].rng = rand.New(ws[w].src)
	}
	// estimate writes estimator j's gradient on sample i into w.grad.
	estimate := func(w *worker, j, i int) error {
		var x []float64
		if obj == Forward {
			x = data[i*f.Size : (i+1)*f.Size]
		} else {
			w.src.Seed(seeds[i], 0)
		}
		if _, err := w.ests[j].Estimate(w.rng, x, w.grad); err != nil {
			return fmt.Errorf("flowtrain: GradientVariance: %v sample %d: %w", grads[j], i, err)
		}
		return nil
	}

	// The sums are shifted by the first sample's gradient (shift[j]), so
	// that a large mean does not cancel the variance.
	shift := make([][]float64, ne)
	for j := range ne {
		if err := estimate(&ws[0], j, 0); err != nil {
			return nil, err
		}
		shift[j] = append([]float64(nil), ws[0].grad...)
	}
	// sum[c][j] is the sum over chunk c of estimator j's shifted
	// gradients, sq[c][j] the sum of their squared norms.
	sum := make([][][]float64, chunks)
	sq := make([][]float64, chunks)
	errs := make([]error, chunks)
	for c := range sum {
		sum[c] = make([][]float64, ne)
		for j := range sum[c] {
			sum[c][j] = make([]float64, P)
		}
		sq[c] = make([]float64, ne)
	}
	nn.ParallelFor(chunks, workers, func(wi, c int) {
		w := &ws[wi]
		for i := c * n / chunks; i < (c+1)*n/chunks; i++ {
			for j := range ne {
				if err := estimate(w, j, i); err != nil {
					errs[c] = err
					return
				}
				s, sh := sum[c][j], shift[j]
				var q float64
				for k, v := range w.grad {
					d := v - sh[k]
					s[k] += d
					q += d * d
				}
				sq[c][j] += q
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}

	out := make([]Variance, ne)
	tot := make([]float64, P)
	chunkTr := make([]float64, chunks)
	for j := range ne {
		clear(tot)
		var q float64
		for c := range chunks {
			m := float64((c+1)*n/chunks - c*n/chunks)
			var s2 float64
			for k, v := range sum[c][j] {
				tot[k] += v
				s2 += v * v
			}
			q += sq[c][j]
			chunkTr[c] = (sq[c][j] - s2/m) / (m - 1)
		}
		var s2, mn float64
		for k, v := range tot {
			s2 += v * v
			mk := shift[j][k] + v/float64(n)
			mn += mk * mk
		}
		tr := (q - s2/float64(n)) / float64(n-1)
		var mc, vc float64
		for _, v := range chunkTr {
			mc += v
		}
		mc /= float64(chunks)
		for _, v := range chunkTr {
			vc += (v - mc) * (v - mc)
		}
		trErr := math.NaN()
		if chunks > 1 {
			trErr = math.Sqrt(vc / float64(chunks-1) / float64(chunks))
		}
		out[j] = Variance{
			Objective: obj, Gradient: grads[j], Samples: n,
			Trace: max(tr, 0), TraceErr: trErr, MeanNorm: math.Sqrt(mn),
		}
	}
	return out, nil
}
