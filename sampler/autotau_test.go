package sampler

import (
	"context"
	"math"
	"strings"
	"testing"

	"latflow/ensemble"
	"latflow/observables"
)

// TestAutoTauChoice: the search keeps the cheapest candidate whose cost it
// can trust, ignores a cheaper-looking one measured over too few
// autocorrelation times, and falls back to the longest length when it can
// trust none.
func TestAutoTauChoice(t *testing.T) {
	for _, c := range []struct {
		name   string
		trials []AutoTauTrial
		want   float64
		done   bool
	}{
		{"cheapest trusted", []AutoTauTrial{{Tau: 16, Cost: 200, Trusted: true}, {Tau: 8, Cost: 100, Trusted: true}, {Tau: 4, Cost: 150, Trusted: true}}, 8, true},
		{"cheapest of close costs", []AutoTauTrial{{Tau: 16, Cost: 105, Trusted: true}, {Tau: 8, Cost: 100, Trusted: true}, {Tau: 4, Cost: 150, Trusted: true}}, 8, true},
		{"untrusted ignored", []AutoTauTrial{{Tau: 16, Cost: 200, Trusted: true}, {Tau: 8, Cost: 100, Trusted: true}, {Tau: 4, Cost: 50}}, 8, true},
		{"none trusted", []AutoTauTrial{{Tau: 16, Cost: 300}}, 16, false},
		{"none measured", nil, 16, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newAutoTauSearch(AutoTau{Budget: MinAutoTauBudget, Probe: func([]float64) float64 { return 0 }})
			s.res.Trials, s.descending, s.left = c.trials, false, 0
			s.finish()
			if s.res.Tau != c.want || s.res.Complete != c.done {
				t.Errorf("got tau %g (complete %v), want %g (complete %v)", s.res.Tau, s.res.Complete, c.want, c.done)
			}
		})
	}
}

// autoTauUpdate returns an HMC update with an automatic length for phi^4
// at the critical point of the hopping parametrization.
func autoTauUpdate(t *testing.T, target ensemble.Target, budget int, seed uint64) *HMCUpdate {
	t.Helper()
	name, probe := CostProbe(target)
	u, err := NewHMCUpdate(HMC{Tau: 1, Steps: 10}, target.Action(target.Geometry()), target.Size(), NewStream(seed, 0, StreamHMC),
		HMCOptions{Tune: true, Jitter: DefaultJitter, AutoTau: &AutoTau{Budget: budget, Probe: probe, ProbeName: name}})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestAutoTauFixedAfterThermalization: the length is chosen before the
// first measurement and never changes after it, nor do the leapfrog steps
// or the search's record; every measured trajectory's length lies within
// the jitter of the choice. A thermalization cut short keeps the best
// length found so far.
func TestAutoTauFixedAfterThermalization(t *testing.T) {
	target := ensemble.NewPhi4Hopping(8, 0.27, 0.022)
	x := make([]float64, target.Size())
	u := autoTauUpdate(t, target, MinAutoTauBudget, 3)
	for i := 0; i < MinAutoTauBudget; i++ {
		if _, err := u.Step(x); err != nil {
			t.Fatal(err)
		}
	}
	u.EndThermalization()
	res, ok := u.AutoTau()
	if !ok || len(res.Trials) == 0 {
		t.Fatalf("after the budget: got %+v, want a search with trials", res)
	}
	tau, steps, trials := u.Tau(), u.Steps(), len(res.Trials)
	if tau != res.Tau {
		t.Errorf("update's length %g, search chose %g", tau, res.Tau)
	}
	for i := 0; i < 500; i++ {
		if _, err := u.Step(x); err != nil {
			t.Fatal(err)
		}
		traj := u.chain.HMC.Tau
		if math.Abs(traj-tau) > DefaultJitter*tau*(1+1e-12) {
			t.Fatalf("measured trajectory %d: length %g, want within %g of %g", i, traj, DefaultJitter*tau, tau)
		}
	}
	after, _ := u.AutoTau()
	if u.Tau() != tau || u.Steps() != steps || len(after.Trials) != trials {
		t.Errorf("after 500 measured trajectories: tau %g, steps %d, %d trials; want %g, %d, %d", u.Tau(), u.Steps(), len(after.Trials), tau, steps, trials)
	}

	// Cut short after the warm-up and the first candidate.
	u = autoTauUpdate(t, target, MinAutoTauBudget, 3)
	for i := 0; i < 2*MinAutoTauBudget/AutoTauSegments; i++ {
		if _, err := u.Step(x); err != nil {
			t.Fatal(err)
		}
	}
	u.EndThermalization()
	res, _ = u.AutoTau()
	if len(res.Trials) != 1 || u.Tau() != AutoTauCandidates[0] || !strings.Contains(res.String(), "tau 16") {
		t.Errorf("cut short: got %d trials, tau %g (%s); want one trial and tau %g", len(res.Trials), u.Tau(), res, AutoTauCandidates[0])
	}
}

// TestAutoTauExact: the chain of an automatic length is an exact HMC
// chain: at the phi^4 critical point (hopping kappa = 0.27, lambda = 0.022,
// L = 8) its chi_2 and Binder cumulant agree within 3 sigma with those of
// fixed lengths 1 and 4.
func TestAutoTauExact(t *testing.T) {
	n := 40000
	if testing.Short() {
		n = 10000
	}
	target := ensemble.NewPhi4Hopping(8, 0.27, 0.022)
	run := func(tau float64) map[string]observables.Estimate {
		r := &Run{Target: target, Seed: 11, Chains: 2, Therm: 2 * MinAutoTauBudget, N: n}
		name, probe := CostProbe(target)
		r.NewUpdate = func(c int) (Update, error) {
			opt := HMCOptions{Tune: true, Jitter: DefaultJitter}
			h := HMC{Tau: tau, Steps: 10}
			if tau == 0 {
				h.Tau = 1
				opt.AutoTau = &AutoTau{Budget: r.Therm, Probe: probe, ProbeName: name}
			}
			return NewHMCUpdate(h, target.Action(target.Geometry()), target.Size(), NewStream(r.Seed, c, StreamHMC), opt)
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
			out[row.Name] = row.Est
		}
		if tau == 0 {
			for _, c := range res.Chains {
				a, _ := c.Update.(*HMCUpdate).AutoTau()
				t.Logf("chain %d: %s", c.ID, a)
			}
		}
		return out
	}
	auto := run(0)
	for _, tau := range []float64{1, 4} {
		fixed := run(tau)
		for _, name := range []string{"chi_2 = V <m^2>", "U_4 (Binder)"} {
			a, f := auto[name], fixed[name]
			if d := (a.Mean - f.Mean) / math.Hypot(a.Err, f.Err); !(math.Abs(d) < 3) {
				t.Errorf("%s: auto %s, tau=%g %s: %.2f sigma apart, want < 3", name, a, tau, f, d)
			}
		}
	}
}
