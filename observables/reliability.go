package observables

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"latflow/ensemble"
	"latflow/gauge"
)

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

// FrozenTopology returns why the table of a gauge target t from the series
// s is not reliable when its topological charge never changed, or "": a
// charge that stayed at one value in all of at least MinMoves measurements
// means every mean is that of one sector, whatever the weight of the
// others. Pseudofermion HMC of the Schwinger model at beta 8, L = 16, kappa
// 0.255 stayed at Q = 0 for 4279 trajectories and gave the condensate
// -1.5468(4); the independence sampler, whose charge moves, gave
// -1.5671(10). Pure U(1) where the exact weight itself leaves no other
// sector resolvable (gauge.ErrTopologyFrozen) is not flagged.
func FrozenTopology(t ensemble.Target, s Series) string {
	if !t.Gauge() {
		return ""
	}
	n, q0 := 0, math.NaN()
	for _, c := range s.Obs[ColCharge] {
		for _, q := range c {
			if n == 0 {
				q0 = q
			}
			if q != q0 {
				return ""
			}
			n++
		}
	}
	if n < MinMoves {
		return ""
	}
	if t.Theory == ensemble.U1 {
		if _, err := gauge.ExactTorus(t.Couplings[ensemble.Beta], t.L); errors.Is(err, gauge.ErrTopologyFrozen) {
			return ""
		}
	}
	return fmt.Sprintf("the topological charge stayed at Q = %g in all %d measurements (frozen topology), so every mean is that of one sector", q0+0, n) // +0: no "-0"
}

// Unreliable joins the non-empty reasons of Stuck and FrozenTopology into
// one for Report.Unreliable.
func Unreliable(reasons ...string) string {
	var out []string
	for _, r := range reasons {
		if r != "" {
			out = append(out, r)
		}
	}
	return strings.Join(out, "; ")
}
