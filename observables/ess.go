package observables

import "math"

// logSumExp returns log sum_i exp(a*v_i), computed stably; NaN if any
// a*v_i is NaN, -Inf for an empty v.
func logSumExp(v []float64, a float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		x *= a
		if math.IsNaN(x) {
			return math.NaN()
		}
		m = max(m, x)
	}
	if math.IsInf(m, 0) {
		return m
	}
	var s float64
	for _, x := range v {
		s += math.Exp(a*x - m)
	}
	return m + math.Log(s)
}

// ReverseESS returns the effective sample size per sample of N importance
// weights w_i = exp(logw_i) of samples drawn from the flow q
// (physics.md section 5): ESS_q/N = (sum w)^2 / (N sum w^2), in log space.
// It lies in (0, 1]; NaN for no samples or a NaN weight.
func ReverseESS(logw []float64) float64 {
	n := float64(len(logw))
	if n == 0 {
		return math.NaN()
	}
	return math.Exp(2*logSumExp(logw, 1) - math.Log(n) - logSumExp(logw, 2))
}

// ForwardESS returns the effective sample size per sample from weights of
// samples drawn from the target p: ESS_p/N = N^2 / (sum w * sum 1/w), in
// log space. It lies in (0, 1]; NaN for no samples or a NaN weight.
func ForwardESS(logw []float64) float64 {
	n := float64(len(logw))
	if n == 0 {
		return math.NaN()
	}
	return math.Exp(2*math.Log(n) - logSumExp(logw, 1) - logSumExp(logw, -1))
}
