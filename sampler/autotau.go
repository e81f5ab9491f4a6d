package sampler

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"latflow/ensemble"
	"latflow/gauge"
	"latflow/observables"
)

// AutoTauCandidates are the trajectory lengths the automatic choice of
// --tau auto tries, longest first: long trajectories thermalize fastest,
// and the cost per independent sample rises again below the optimum
// (diffusive molecular dynamics), which ends the search.
var AutoTauCandidates = [...]float64{16, 8, 4, 2, 1, 0.5}

// Parameters of the automatic trajectory length.
const (
	// AutoTauSegments is the number of equal segments the thermalization
	// budget is split into: a warm-up at the longest candidate, then one
	// per candidate, longest first, until the cost rises; the segments
	// left measure the two cheapest again, alternately, and the rest of the
	// budget runs at the chosen length.
	AutoTauSegments = 10
	// AutoTauMinSegment is the least trajectories of a segment, so the
	// least budget is AutoTauSegments * AutoTauMinSegment.
	AutoTauMinSegment = 100
	// autoTauLeadIn trajectories at the start of a segment retune the
	// leapfrog steps to the new length and are not measured.
	autoTauLeadIn = 2 * TuneBlock
	// AutoTauMinLengths is the least length of a candidate's measured
	// series, in its integrated autocorrelation times, for which its cost
	// is trusted. A shorter series underestimates tau_int, so a short
	// trajectory that has barely moved would look cheap.
	AutoTauMinLengths = 50
	// autoTauRise ends the search when a candidate costs this many times
	// the cheapest so far: shorter ones cost more still.
	autoTauRise = 2.0
	// autoTauCoarser scales the leapfrog steps carried over to a shorter
	// candidate, which its tuning then raises as needed.
	autoTauCoarser = 0.7
	// trajectoryOverhead is the cost of a trajectory besides its
	// Steps+1 force evaluations, in force evaluations: the two actions of
	// the accept step, the momenta and the measurement.
	trajectoryOverhead = 2
	// refreshForceWork is the cost of a force evaluation of pseudofermion
	// HMC besides its CG solve, in CG iterations: the gauge force and the
	// fermion link derivative; the trajectoryOverhead (here also the
	// refresh of the pseudofermions) is counted in the same unit. At
	// L = 16 one iteration of the even-odd CG took about 14 us, the rest
	// of a force 34 us and a refresh 28 us (2.4 and 2.0 iterations).
	refreshForceWork = 2
)

// Units of the cost of AutoTau.
const (
	// WorkForce counts force evaluations: HMC whose force is the same
	// work at every configuration (phi^4, U(1)).
	WorkForce = "force evaluations"
	// WorkCG counts iterations of the fermion CG, plus refreshForceWork
	// for each force evaluation: pseudofermion HMC, whose CG takes more
	// iterations the closer D is to singular, so that a force evaluation
	// is no fixed unit of time.
	WorkCG = "CG iterations"
)

// cgCounter is an action whose solver counts its work
// (fermion.PseudofermionAction).
type cgCounter interface {
	CGCounts() (solves, iterations int)
}

// AutoTau chooses the trajectory length of an HMCUpdate during
// thermalization: it runs a warm-up at the longest of AutoTauCandidates,
// then each candidate in turn for an equal segment of the budget (leapfrog
// steps retuned for the acceptance band at each), estimates the cost per
// independent sample of Probe, 2 tau_int x (work per trajectory), until
// the cost rises; it measures the two cheapest again
// in the segments left (their segments analysed as replicas), and keeps
// the cheapest. The work is counted in force evaluations (WorkForce), or
// for pseudofermion HMC in CG iterations (WorkCG), rather than in seconds,
// so that the choice, and the chain, do not depend on the machine's load:
// both are proportional to the time of a trajectory on one machine, and
// a run interrupted during thermalization makes the same choice again.
// Only thermalization trajectories are used: the length is fixed before
// the first measurement, so the measured chain is an ordinary HMC chain.
type AutoTau struct {
	// Budget is the number of thermalization trajectories the update will
	// run, at least AutoTauSegments * AutoTauMinSegment.
	Budget int
	// Probe measures the observable whose autocorrelation sets the cost
	// (CostProbe of the target).
	Probe func(x []float64) float64
	// ProbeName names it in the report.
	ProbeName string
}

// MinAutoTauBudget is the least AutoTau.Budget.
const MinAutoTauBudget = AutoTauSegments * AutoTauMinSegment

// Validate returns an error for a budget below MinAutoTauBudget or a nil
// probe.
func (a AutoTau) Validate() error {
	switch {
	case a.Budget < MinAutoTauBudget:
		return fmt.Errorf("sampler: automatic trajectory length needs at least %d thermalization trajectories, got %d", MinAutoTauBudget, a.Budget)
	case a.Probe == nil:
		return errors.New("sampler: automatic trajectory length without a probe observable")
	}
	return nil
}

// CostProbe returns the observable whose cost per independent sample
// chooses the trajectory length for target t, and its name: chi_2 = V m^2
// for phi^4, the slowest mode near criticality, and Q^2 for U(1) and the
// Schwinger model, whose topology is the slowest. For the Schwinger model
// it measures Q alone (gauge.TopologicalCharge), not the fermionic
// observables of its Measurer, which need the dense inverse.
func CostProbe(t ensemble.Target) (string, func(x []float64) float64) {
	if t.Theory == ensemble.Schwinger {
		g := t.Geometry()
		return "Q^2", func(x []float64) float64 {
			q := gauge.TopologicalCharge(g, x)
			return q * q
		}
	}
	meas := observables.NewMeasurer(t)
	m := make([]float64, len(meas.Columns()))
	if t.Theory == ensemble.U1 {
		return "Q^2", func(x []float64) float64 {
			meas.MeasureTo(m, x)
			return m[1] * m[1]
		}
	}
	V := float64(t.V())
	return "chi_2", func(x []float64) float64 {
		var s float64
		for _, v := range x {
			s += v
		}
		return s * s / V
	}
}

// AutoTauTrial is the measured cost of one candidate length.
type AutoTauTrial struct {
	Tau float64 `json:"tau"`
	// Steps are the leapfrog steps at the end of the segment, MeanSteps
	// their mean over the measured trajectories.
	Steps     int     `json:"steps"`
	MeanSteps float64 `json:"mean_steps"`
	// N trajectories were measured; TauInt is the probe's integrated
	// autocorrelation time in trajectories.
	N      int     `json:"n"`
	TauInt float64 `json:"tau_int"`
	// Work is the mean work of a measured trajectory in the unit of the
	// result (AutoTauResult.Unit): MeanSteps + 1 + overhead force
	// evaluations, or the CG iterations and the rest of the forces.
	Work float64 `json:"work,omitempty"`
	// Cost is 2 TauInt x Work, the work per independent sample (the JSON
	// name is that of the runs before the unit was recorded).
	Cost float64 `json:"cost_force_evaluations"`
	// Trusted reports N >= AutoTauMinLengths x TauInt.
	Trusted bool `json:"trusted"`
}

// AutoTauResult is what the search of one chain found.
type AutoTauResult struct {
	Probe string `json:"probe"`
	// Unit is the unit of the work and the cost (WorkForce or WorkCG;
	// empty, in runs before it was recorded, means WorkForce).
	Unit   string         `json:"unit,omitempty"`
	Tau    float64        `json:"tau"`
	Trials []AutoTauTrial `json:"trials"`
	// Complete is false when thermalization ended before the search did,
	// or no candidate's cost was trusted; Tau is then the best guess.
	Complete bool `json:"complete"`
}

// String describes the search in one line.
func (r AutoTauResult) String() string {
	var b strings.Builder
	unit := r.Unit
	if unit == "" {
		unit = WorkForce
	}
	fmt.Fprintf(&b, "tau auto chose %g by the cost of %s in %s per independent sample:", r.Tau, r.Probe, unit)
	for _, t := range r.Trials {
		fmt.Fprintf(&b, " tau %g: %.0f (tau_int %.2g, %d steps", t.Tau, t.Cost, t.TauInt, t.Steps)
		if !t.Trusted {
			b.WriteString(", too short to trust")
		}
		b.WriteString(");")
	}
	if !r.Complete {
		b.WriteString(" search incomplete: raise --therm")
	}
	return strings.TrimSuffix(b.String(), ";")
}

// autoTauSearch is the state of an AutoTau search in an HMCUpdate.
type autoTauSearch struct {
	cfg AutoTau
	seg int
	// left is the number of measuring segments still to run; warm is true
	// during the warm-up; descending is true while the candidates are
	// tried in turn, after which the two cheapest are measured again.
	left              int
	warm, descending  bool
	cur               int // index of the current candidate
	i                 int // trajectories run in the current segment
	series            []float64
	stepsSum          int
	replicas          map[int][][]float64 // measured segments by candidate
	stepsSums, counts map[int]int
	// work, if set, returns the work of the trajectory just run with
	// steps leapfrog steps (WorkCG); nil counts force evaluations.
	work     func(steps int) float64
	workSum  float64
	workSums map[int]float64
	res      AutoTauResult
	done     bool
}

func newAutoTauSearch(a AutoTau) *autoTauSearch {
	return &autoTauSearch{cfg: a, seg: a.Budget / AutoTauSegments, left: AutoTauSegments - 1, warm: true, descending: true,
		replicas: map[int][][]float64{}, stepsSums: map[int]int{}, counts: map[int]int{}, workSums: map[int]float64{},
		res: AutoTauResult{Probe: a.ProbeName, Tau: AutoTauCandidates[0], Unit: WorkForce}}
}

// countCG makes the search count the work of act's CG (WorkCG): each
// trajectory costs its CG iterations plus refreshForceWork for each force
// evaluation and the overhead.
func (s *autoTauSearch) countCG(act cgCounter) {
	_, last := act.CGCounts()
	s.res.Unit = WorkCG
	s.work = func(steps int) float64 {
		_, it := act.CGCounts()
		d := it - last
		last = it
		return float64(d) + refreshForceWork*float64(steps+1+trajectoryOverhead)
	}
}

// candidate returns the length of the current segment.
func (s *autoTauSearch) candidate() float64 { return AutoTauCandidates[s.cur] }

// after records the trajectory just run at the current candidate, with the
// chain's configuration x and leapfrog steps, and returns the length and
// steps of the next trajectory.
func (s *autoTauSearch) after(x []float64, steps int) (tau float64, nextSteps int) {
	s.i++
	var w float64
	if s.work != nil {
		// Called after every trajectory, so that each counts its own.
		w = s.work(steps)
	}
	if !s.warm && s.i > autoTauLeadIn {
		s.series = append(s.series, s.cfg.Probe(x))
		s.stepsSum += steps
		s.workSum += w
	}
	if s.i < s.seg {
		return s.candidate(), steps
	}
	prev := s.cur
	s.i = 0
	if s.warm {
		s.warm = false
		return s.candidate(), steps
	}
	s.left--
	stop := s.evaluate(steps)
	s.series, s.stepsSum, s.workSum = nil, 0, 0
	if s.descending && !stop && s.cur+1 < len(AutoTauCandidates) {
		s.cur++
	} else {
		s.descending = false
		next, ok := s.refineNext()
		if !ok || s.left <= 0 {
			s.finish()
			return s.res.Tau, s.stepsFor(s.res.Tau, steps)
		}
		s.cur = next
	}
	if t, ok := s.trial(s.cur); ok {
		return s.candidate(), t.Steps
	}
	// The step size of the longer length, a little coarser: the tuning
	// then approaches the acceptance band from below, as a fixed length's
	// does from its start, and stops at its cheap end (from above it
	// stopped at the dear end: 54 leapfrog steps at tau 4 for U(1) at
	// beta 3, L 16, where fixed-length runs tune 38).
	return s.candidate(), max(1, int(math.Round(autoTauCoarser*float64(steps)*s.candidate()/AutoTauCandidates[prev])))
}

// trial returns the trial of candidate k.
func (s *autoTauSearch) trial(k int) (AutoTauTrial, bool) {
	for _, t := range s.res.Trials {
		if t.Tau == AutoTauCandidates[k] {
			return t, true
		}
	}
	return AutoTauTrial{}, false
}

// evaluate adds the segment just finished to the current candidate's
// trial, analysed with all its segments as replicas, and reports whether
// the descent ends: the candidate could not be trusted while a longer one
// could (shorter ones decorrelate more slowly still), or it costs
// autoTauRise times the cheapest.
func (s *autoTauSearch) evaluate(steps int) (stop bool) {
	k := s.cur
	if len(s.series) >= 2 {
		s.replicas[k] = append(s.replicas[k], s.series)
		s.stepsSums[k] += s.stepsSum
		s.workSums[k] += s.workSum
		s.counts[k] += len(s.series)
	}
	n := s.counts[k]
	t := AutoTauTrial{Tau: AutoTauCandidates[k], Steps: steps, N: n, TauInt: math.Inf(1), Cost: math.Inf(1)}
	if n >= 2 {
		t.MeanSteps = float64(s.stepsSums[k]) / float64(n)
		t.Work = t.MeanSteps + 1 + trajectoryOverhead
		if s.work != nil {
			t.Work = s.workSums[k] / float64(n)
		}
		est, err := observables.GammaPrimary(s.replicas[k], observables.GammaOptions{})
		if err == nil || errors.Is(err, observables.ErrNoWindow) || errors.Is(err, observables.ErrAnticorrelated) {
			t.TauInt = max(0.5, est.TauInt)
			t.Cost = 2 * t.TauInt * t.Work
			t.Trusted = err == nil && float64(n) >= AutoTauMinLengths*t.TauInt
		}
	}
	if i := slices.IndexFunc(s.res.Trials, func(o AutoTauTrial) bool { return o.Tau == t.Tau }); i >= 0 {
		s.res.Trials[i] = t
	} else {
		s.res.Trials = append(s.res.Trials, t)
	}
	best, ok := s.best()
	return ok && (!t.Trusted || t.Cost > autoTauRise*best.Cost)
}

// refineNext returns the candidate to measure again once the descent is
// over: of the two cheapest trusted ones, the one with fewer segments
// (the cheaper on a tie); the longest when none is trusted.
func (s *autoTauSearch) refineNext() (int, bool) {
	var ks []int
	for k := range AutoTauCandidates {
		if t, ok := s.trial(k); ok && t.Trusted {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		return 0, true
	}
	slices.SortStableFunc(ks, func(a, b int) int {
		ta, _ := s.trial(a)
		tb, _ := s.trial(b)
		return cmp.Compare(ta.Cost, tb.Cost)
	})
	ks = ks[:min(2, len(ks))]
	next := ks[0]
	for _, k := range ks[1:] {
		if len(s.replicas[k]) < len(s.replicas[next]) {
			next = k
		}
	}
	return next, true
}

// best returns the cheapest trusted trial.
func (s *autoTauSearch) best() (AutoTauTrial, bool) {
	var b AutoTauTrial
	ok := false
	for _, t := range s.res.Trials {
		if t.Trusted && (!ok || t.Cost < b.Cost) {
			b, ok = t, true
		}
	}
	return b, ok
}

// finish fixes the chosen length: the cheapest trusted candidate, or,
// with none trusted, the longest (long trajectories are the safe side when
// every autocorrelation time was too long to measure). A margin in favour
// of longer lengths (their tau_int is the less underestimated) was tried
// and dropped: at phi^4 L 16 it took tau 16 at 5% above tau 8 in the
// search, 3 times the cost of tau 8 in the chain.
func (s *autoTauSearch) finish() {
	s.done = true
	b, ok := s.best()
	if !ok {
		s.res.Tau = AutoTauCandidates[0]
		return
	}
	s.res.Tau, s.res.Complete = b.Tau, s.left <= 0 || !s.descending
}

// stepsFor returns the leapfrog steps to start tau with: the tuned steps of
// its trial, or steps (those of the current length) scaled to keep the
// step size.
func (s *autoTauSearch) stepsFor(tau float64, steps int) int {
	for _, t := range s.res.Trials {
		if t.Tau == tau {
			return t.Steps
		}
	}
	return max(1, int(math.Round(float64(steps)*tau/s.candidate())))
}
