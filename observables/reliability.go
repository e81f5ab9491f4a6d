package observables

import "fmt"

// Bounds of Stuck: a chain that moved fewer than MinMoves times in all, or
// that stood still for more than MaxStillFraction of its steps in one run,
// has seen too few distinct configurations for any error of its table to
// be an error bar, however small the estimated tau_int.
const (
	MinMoves         = 100
	MaxStillFraction = 0.01
)

// Stuck returns why chains whose steps moved the chain as in moved[r][i]
// (an accepted proposal or trajectory) give no reliable table, or "" if
// they moved enough: fewer than MinMoves moves over all chains, or a run
// of steps without a move longer than MaxStillFraction of its chain's
// steps. It does not depend on an estimated autocorrelation time: an
// independence-Metropolis chain of a transferred flow accepted 9 of 20000
// proposals and stood still for 19734 steps in a row, yet its estimated
// tau_int of 133 passed the MinTauLengths check, and it printed a
// plaquette 333 of its errors from the exact value.
func Stuck(moved [][]bool) string {
	var moves, steps int64
	worst, worstLen := 0, 0
	for _, c := range moved {
		steps += int64(len(c))
		for _, m := range c {
			if m {
				moves++
			}
		}
		if run := LongestRun(c); float64(run) > MaxStillFraction*float64(len(c)) && run > worst {
			worst, worstLen = run, len(c)
		}
	}
	switch {
	case moves < MinMoves && worst > 0:
		return fmt.Sprintf("the chains moved %d times in %d steps (fewer than %d), and one stood still for %d of its %d steps in a row (more than %g%%)", moves, steps, MinMoves, worst, worstLen, 100*MaxStillFraction)
	case moves < MinMoves:
		return fmt.Sprintf("the chains moved %d times in %d steps (fewer than %d)", moves, steps, MinMoves)
	case worst > 0:
		return fmt.Sprintf("a chain stood still for %d of its %d steps in a row (more than %g%%)", worst, worstLen, 100*MaxStillFraction)
	}
	return ""
}
