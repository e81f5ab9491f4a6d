package sampler

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"latflow/ensemble"
	"latflow/fermion"
	"latflow/observables"
)

// fakeCG counts CG iterations by hand.
type fakeCG struct{ iters int }

func (f *fakeCG) CGCounts() (int, int) { return 0, f.iters }

// TestAutoTauCountsCG: with the work counted in CG iterations, a
// candidate's work per trajectory is the mean of the CG iterations of its
// measured trajectories (the lead-in and the warm-up excluded) plus
// refreshForceWork for each force evaluation and the overhead, and its
// cost is 2 tau_int times that.
func TestAutoTauCountsCG(t *testing.T) {
	s := newAutoTauSearch(AutoTau{Budget: MinAutoTauBudget, Probe: func(x []float64) float64 { return x[0] }, ProbeName: "x"})
	var cg fakeCG
	s.countCG(&cg)
	seg := MinAutoTauBudget / AutoTauSegments
	const steps = 7
	x := []float64{0}
	var sum, n float64
	for i := 0; i < 2*seg; i++ {
		it := 50 + (i*37)%23 // iterations of trajectory i
		cg.iters += it
		x[0] = math.Sin(float64(i * i)) // uncorrelated enough for a finite tau_int
		if i >= seg+autoTauLeadIn {
			sum += float64(it)
			n++
		}
		s.after(x, steps)
	}
	if len(s.res.Trials) != 1 {
		t.Fatalf("after the warm-up and one segment: %d trials, want 1", len(s.res.Trials))
	}
	tr := s.res.Trials[0]
	want := sum/n + refreshForceWork*(steps+1+trajectoryOverhead)
	if tr.N != int(n) || math.Abs(tr.Work-want) > 1e-9*want {
		t.Errorf("trial of %d trajectories with work %g, want %g and %g", tr.N, tr.Work, n, want)
	}
	if math.Abs(tr.Cost-2*tr.TauInt*tr.Work) > 1e-9*tr.Cost {
		t.Errorf("cost %g, want 2 x tau_int %g x work %g", tr.Cost, tr.TauInt, tr.Work)
	}
	if s.res.Unit != WorkCG || !strings.Contains(s.res.String(), WorkCG) {
		t.Errorf("unit %q (%s), want %q", s.res.Unit, s.res, WorkCG)
	}
}

// schwingerAutoUpdate returns even-odd pseudofermion HMC with an automatic
// length for the Schwinger target, and its action.
func schwingerAutoUpdate(t *testing.T, target ensemble.Target, budget int, seed uint64) (*RefreshHMCUpdate, *fermion.PseudofermionAction) {
	t.Helper()
	name, probe := CostProbe(target)
	act := fermion.NewEvenOddPseudofermionAction(target.Geometry(), target.Couplings[ensemble.Beta], target.Couplings[ensemble.Kappa], 1e-10, 100000)
	u, err := NewRefreshHMCUpdate(HMC{Tau: 1, Steps: 10}, act, target.Size(), NewStream(seed, 0, StreamHMC),
		HMCOptions{Tune: true, Jitter: DefaultJitter, AutoTau: &AutoTau{Budget: budget, Probe: probe, ProbeName: name}})
	if err != nil {
		t.Fatal(err)
	}
	return u, act
}

// TestRefreshAutoTauFixedAfterThermalization: pseudofermion HMC with an
// automatic length chooses it during thermalization by the cost of Q^2 in
// CG iterations, and never changes it, its leapfrog steps or the search's
// record after: every measured trajectory's length lies within the jitter
// of the choice. Each candidate's work per trajectory is at least its CG
// iterations at the fewest a solve took at the chosen point, and the
// acceptance of the chosen length after thermalization is within the
// tuning band's reach.
func TestRefreshAutoTauFixedAfterThermalization(t *testing.T) {
	target := ensemble.NewSchwinger(4, 2, 0.24)
	x := make([]float64, target.Size())
	u, act := schwingerAutoUpdate(t, target, MinAutoTauBudget, 5)
	if u.Tau() != AutoTauCandidates[0] {
		t.Fatalf("the search starts at tau %g, want %g", u.Tau(), AutoTauCandidates[0])
	}
	for i := 0; i < MinAutoTauBudget; i++ {
		if _, err := u.Step(x); err != nil {
			t.Fatal(err)
		}
	}
	u.EndThermalization()
	res, ok := u.AutoTau()
	if !ok || len(res.Trials) < 2 {
		t.Fatalf("after the budget: got %+v, want a search with at least two trials", res)
	}
	t.Log(res)
	if res.Probe != "Q^2" || res.Unit != WorkCG {
		t.Errorf("probe %q, unit %q; want Q^2 and %q", res.Probe, res.Unit, WorkCG)
	}
	solves, iters := act.CGCounts()
	perSolve := float64(iters) / float64(solves)
	for _, tr := range res.Trials {
		// A trajectory solves at least once per force (steps + 1); few
		// solves converge in less than half the mean iterations.
		if lo := 0.5 * perSolve * (tr.MeanSteps + 1); !(tr.Work > lo) {
			t.Errorf("tau %g: work %g per trajectory of %g steps, want above %g (CG iterations %g per solve)", tr.Tau, tr.Work, tr.MeanSteps, lo, perSolve)
		}
	}
	tau, steps, trials := u.Tau(), u.Steps(), len(res.Trials)
	if tau != res.Tau {
		t.Errorf("update's length %g, search chose %g", tau, res.Tau)
	}
	acc := 0
	const n = 300
	for i := 0; i < n; i++ {
		s, err := u.Step(x)
		if err != nil {
			t.Fatal(err)
		}
		if s.Accepted {
			acc++
		}
		if traj := u.hmc.chain.HMC.Tau; math.Abs(traj-tau) > DefaultJitter*tau*(1+1e-12) {
			t.Fatalf("measured trajectory %d: length %g, want within %g of %g", i, traj, DefaultJitter*tau, tau)
		}
	}
	after, _ := u.AutoTau()
	if u.Tau() != tau || u.Steps() != steps || len(after.Trials) != trials {
		t.Errorf("after %d measured trajectories: tau %g, steps %d, %d trials; want %g, %d, %d", n, u.Tau(), u.Steps(), len(after.Trials), tau, steps, trials)
	}
	// The steps are tuned for [TuneLow, TuneHigh] in blocks of 20; allow
	// the noise of 300 trajectories.
	if a := float64(acc) / n; a < TuneLow-0.15 || a > 0.99 {
		t.Errorf("acceptance %.3f at the chosen tau %g with %d steps, want about %g to %g", a, tau, steps, TuneLow, TuneHigh)
	}
}

// TestRunResumeRefreshAutoTau: a Run of pseudofermion HMC with an
// automatic length, interrupted in thermalization (during the search) and
// in production and resumed, writes the same rows, bit for bit, as the
// uninterrupted run, and its chain keeps the length chosen.
func TestRunResumeRefreshAutoTau(t *testing.T) {
	const n = 60
	target := ensemble.NewSchwinger(4, 2, 0.24)
	newRun := func(out string) *Run {
		r := &Run{
			Target: target, Seed: 9, FirstChain: 0, Chains: 1, Therm: MinAutoTauBudget, N: n,
			Out: out, SaveEvery: 5, PartRows: 20, Sampler: "hmc", Settings: map[string]string{"tau": "auto"},
			Version: "test",
		}
		r.NewUpdate = func(c int) (Update, error) {
			name, probe := CostProbe(target)
			act := fermion.NewEvenOddPseudofermionAction(target.Geometry(), 2, 0.24, 1e-10, 100000)
			return NewRefreshHMCUpdate(HMC{Tau: 1, Steps: 10}, act, target.Size(), NewStream(r.Seed, c, StreamHMC),
				HMCOptions{Tune: true, Jitter: DefaultJitter, AutoTau: &AutoTau{Budget: r.Therm, Probe: probe, ProbeName: name}})
		}
		return r
	}
	ref := filepath.Join(t.TempDir(), "ref")
	res, err := newRun(ref).Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := readAll(t, ref)
	chosen, _ := res.Chains[0].Update.(*RefreshHMCUpdate).AutoTau()
	dir := filepath.Join(t.TempDir(), "resumed")
	for i, stop := range []int64{MinAutoTauBudget / 2, MinAutoTauBudget + 30} {
		r := newRun(dir)
		r.Resume = i > 0
		ctx, hooks := cancelAfter(stop)
		r.Hooks = hooks
		if _, err := r.Start(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("stop after %d: got error %v, want context.Canceled", stop, err)
		}
	}
	r := newRun(dir)
	r.Resume = true
	res, err = r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Chains[0].Resumed == 0 {
		t.Errorf("resumed result: got no resumed rows, want some")
	}
	got, _ := res.Chains[0].Update.(*RefreshHMCUpdate).AutoTau()
	if got.Tau != chosen.Tau || got.Unit != WorkCG {
		t.Errorf("resumed chain: tau %g (unit %q), uninterrupted %g", got.Tau, got.Unit, chosen.Tau)
	}
	sameRows(t, readAll(t, dir), want)
}

// TestRefreshAutoTauExact: the chain of pseudofermion HMC with an
// automatic length is an exact chain of the Schwinger model: at L = 4,
// beta = 1, kappa = 0.24 its plaquette, chi_t and condensate agree within
// 3 sigma with those of fixed length 1.
func TestRefreshAutoTauExact(t *testing.T) {
	n := 16000
	if testing.Short() {
		n = 4000
	}
	target := ensemble.NewSchwinger(4, 1, 0.24)
	run := func(tau float64) map[string]observables.Estimate {
		r := &Run{Target: target, Seed: 13, Chains: 2, Therm: MinAutoTauBudget, N: n}
		r.NewUpdate = func(c int) (Update, error) {
			opt := HMCOptions{Tune: true, Jitter: DefaultJitter}
			h := HMC{Tau: tau, Steps: 10}
			if tau == 0 {
				h.Tau = 1
				name, probe := CostProbe(target)
				opt.AutoTau = &AutoTau{Budget: r.Therm, Probe: probe, ProbeName: name}
			}
			act := fermion.NewEvenOddPseudofermionAction(target.Geometry(), 1, 0.24, 1e-10, 100000)
			return NewRefreshHMCUpdate(h, act, target.Size(), NewStream(r.Seed, c, StreamHMC), opt)
		}
		res, err := r.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		rows, _, err := observables.Table(target, res.Series())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]observables.Estimate{}
		for _, row := range rows {
			out[strings.Fields(row.Name)[0]] = row.Est
		}
		if tau == 0 {
			for _, c := range res.Chains {
				a, _ := c.Update.(*RefreshHMCUpdate).AutoTau()
				t.Logf("chain %d: %s", c.ID, a)
			}
		}
		return out
	}
	auto, fixed := run(0), run(1)
	for _, name := range []string{"plaquette", "chi_t", "condensate"} {
		a, f := auto[name], fixed[name]
		if !(f.Err > 0) || !(a.Err > 0) {
			t.Fatalf("%s: auto %s, tau=1 %s: no error bar", name, a, f)
		}
		d := (a.Mean - f.Mean) / math.Hypot(a.Err, f.Err)
		t.Logf("%s: auto %s, tau=1 %s: %+.2f sigma", name, a, f, d)
		if !(math.Abs(d) < 3) {
			t.Errorf("%s: auto %s, tau=1 %s: %.2f sigma apart, want < 3", name, a, f, d)
		}
	}
}
