package flowtrain

import "math"

// ClipNorm returns the L2 norm of grad and, if it exceeds maxNorm > 0,
// scales grad in place to the norm maxNorm (factor maxNorm/norm, without
// the 1e-6 that torch.nn.utils.clip_grad_norm_ adds to the norm).
// maxNorm <= 0 means no clipping. A NaN or Inf norm is returned as is and
// grad left unchanged: the caller skips the step. The norm does not
// overflow or underflow for finite elements. It does not allocate.
func ClipNorm(grad []float64, maxNorm float64) (norm float64) {
	norm = l2Norm(grad)
	if maxNorm > 0 && norm > maxNorm && !math.IsInf(norm, 1) {
		f := maxNorm / norm
		for i := range grad {
			grad[i] *= f
		}
	}
	return norm
}

// l2Norm is the Euclidean norm of xs: the plain sum of squares, redone
// with scaling by max |x| when that sum over- or underflows.
func l2Norm(xs []float64) float64 {
	var ss float64
	for _, x := range xs {
		ss += x * x
	}
	// Sums of squares in [2^-960, +Inf) are accurate; NaN stays NaN.
	if ss >= 0x1p-960 && !math.IsInf(ss, 1) || math.IsNaN(ss) {
		return math.Sqrt(ss)
	}
	var scale float64
	for _, x := range xs {
		scale = max(scale, math.Abs(x))
	}
	if scale == 0 || math.IsInf(scale, 1) {
		return scale
	}
	ss = 0
	for _, x := range xs {
		x /= scale
		ss += x * x
	}
	return scale * math.Sqrt(ss)
}

// Finite reports whether every element of xs is finite (neither NaN nor
// ±Inf). It does not allocate.
func Finite(xs []float64) bool {
	for _, x := range xs {
		// x - x is 0 for finite x and NaN for NaN and ±Inf.
		if x-x != 0 {
			return false
		}
	}
	return true
}
