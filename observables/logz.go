package observables

import (
	"errors"
	"math"
)

// LogZ estimates log Z = log E_q[w] from the log importance weights logw_i =
// log p~(x_i) - log q(x_i) of independent samples x_i ~ q of a normalized
// density q, computed in log space as log mean_i w_i. Its error is the
// jackknife error over blocks consecutive blocks of samples (at least 2;
// leftover samples join the last block). The estimate is biased low when
// the weights are heavy-tailed (small ESS): report ESS beside it.
func LogZ(logw []float64, blocks int) (value, err float64, e error) {
	n := len(logw)
	if blocks < 2 || n < blocks {
		return math.NaN(), math.NaN(), errors.New("observables: LogZ needs at least 2 blocks of samples")
	}
	for _, v := range logw {
		if math.IsNaN(v) || math.IsInf(v, 1) {
			return math.NaN(), math.NaN(), errors.New("observables: LogZ of a NaN or infinite weight")
		}
	}
	// Per-block log sums, so that leaving a block out never underflows
	// however heavy the tail of the weights.
	size := n / blocks
	blockSum := make([]float64, blocks)
	counts := make([]float64, blocks)
	for b := range blockSum {
		lo, hi := b*size, (b+1)*size
		if b == blocks-1 {
			hi = n
		}
		blockSum[b] = logSumExp(logw[lo:hi], 1)
		counts[b] = float64(hi - lo)
	}
	total := logSumExp(blockSum, 1)
	if math.IsInf(total, -1) {
		return math.NaN(), math.NaN(), errors.New("observables: LogZ of weights that are all zero")
	}
	value = total - math.Log(float64(n))
	// Jackknife: leave one block out.
	jk := make([]float64, blocks)
	rest := make([]float64, 0, blocks-1)
	var mean float64
	for b := range jk {
		rest = append(rest[:0], blockSum[:b]...)
		rest = append(rest, blockSum[b+1:]...)
		jk[b] = logSumExp(rest, 1) - math.Log(float64(n)-counts[b])
		mean += jk[b]
	}
	mean /= float64(blocks)
	var sq float64
	for _, v := range jk {
		sq += (v - mean) * (v - mean)
	}
	err = math.Sqrt(float64(blocks-1) / float64(blocks) * sq)
	return value, err, nil
}

// LongestRun returns the length of the longest run of consecutive false
// values: for the accept decisions of a chain, the longest run of
// rejections, the longest time the chain stood still.
func LongestRun(accepted []bool) int {
	longest, run := 0, 0
	for _, a := range accepted {
		if a {
			run = 0
			continue
		}
		run++
		longest = max(longest, run)
	}
	return longest
}
