package sampler

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"latflow/ensemble"
	"latflow/flow"
	"latflow/gauge"
	"latflow/observables"
)

// kSigma is the width of the statistical checks, in standard errors.
const kSigma = 3

// smallFlow returns an untrained flow of the target with a small
// architecture.
func smallFlow(t *testing.T, tg ensemble.Target, seed uint64) *flow.Flow[float64] {
	t.Helper()
	cfg := flow.Config{Theory: tg.Theory, L: tg.L, Layers: 2, Mixtures: 2, Hidden: []int{4}, Kernel: 3}
	f, err := flow.New[float64](cfg, rand.New(rand.NewPCG(seed, 0)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// runFlowChain runs one IMH chain of n steps with the flow as proposal and
// returns its result.
func runFlowChain(t *testing.T, tg ensemble.Target, f *flow.Flow[float64], n int) *Result {
	t.Helper()
	r := &Run{Target: tg, Seed: 11, Chains: 2, N: n, Therm: 10}
	r.NewUpdate = func(c int) (Update, error) {
		return NewIMH(&FlowProposal[float64]{Flow: f, Workers: 2}, tg.Action(tg.Geometry()), 64, 2,
			NewStream(r.Seed, c, StreamProposal), NewStream(r.Seed, c, StreamAccept))
	}
	res, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestFlowIMHExactU1: independence Metropolis with an untrained U(1) flow
// reproduces the exact <cos P> and <Q^2> of the torus (physics is in the
// accept step, not in the flow), and the importance-sampling log Z of its
// proposals the exact flat-measure log Z.
func TestFlowIMHExactU1(t *testing.T) {
	tg := ensemble.NewU1(4, 0.7)
	f := smallFlow(t, tg, 3)
	res := runFlowChain(t, tg, f, 15000)
	rows, notes, err := observables.Table(tg, res.Series())
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) > 0 {
		t.Fatalf("got notes %q, want a clean table", notes)
	}
	for _, r := range rows {
		if r.Name != "plaquette <cos P>" && r.Name != "Q^2" {
			continue
		}
		if s := r.Sigma(); math.Abs(s) > kSigma {
			t.Errorf("%s: got %v, exact %v: %.2f sigma", r.Name, r.Est, r.Exact, s)
		}
	}
	var logw [][]float64
	var acc [][]bool
	for _, c := range res.Chains {
		logw, acc = append(logw, c.Obs[ColLogWeight]), append(acc, c.Accepted)
	}
	ex, err := gauge.ExactTorus(0.7, 4)
	if err != nil {
		t.Fatal(err)
	}
	exact := ex.LogZ + 2*float64(tg.V())*math.Log(2*math.Pi)
	sum, err := observables.SummarizeIMH(logw, acc, exact)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("acceptance %.3f, ESS/N %.3f, log Z %v +- %v (exact %v)", sum.Acceptance, sum.ESS, sum.LogZ.Value, sum.LogZ.Error, exact)
	if d := sum.LogZ.Deviation(); !(math.Abs(d) <= kSigma) {
		t.Errorf("log Z: got %.5f +- %.5f, exact %.5f: %.2f sigma", sum.LogZ.Value, sum.LogZ.Error, exact, d)
	}
	if sum.Acceptance < 0.05 || sum.Acceptance > 0.95 {
		t.Errorf("acceptance %.3f: want a test that rejects and accepts", sum.Acceptance)
	}
}

// TestFlowIMHPhi4AgainstHMC: the IMH chain of an untrained RealNVP flow
// and an HMC chain agree on phi^4 observables within 3 sigma.
func TestFlowIMHPhi4AgainstHMC(t *testing.T) {
	// Near the free field the untrained flow (N(0, 1) base) is a fair
	// proposal.
	tg := ensemble.NewPhi4Hopping(4, 0.15, 0.05)
	f := smallFlow(t, tg, 4)
	imh := runFlowChain(t, tg, f, 15000)
	r := &Run{Target: tg, Seed: 12, Chains: 2, N: 15000, Therm: 100}
	r.NewUpdate = func(c int) (Update, error) {
		return NewHMCUpdate(HMC{Tau: 1, Steps: 8}, tg.Action(tg.Geometry()), tg.Size(), NewStream(r.Seed, c, StreamHMC), HMCOptions{Tune: true, Jitter: 0.1})
	}
	hmc, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	agreeIMHHMC(t, "", tg, imh, hmc)
}

// agreeIMHHMC fails the test where an observable of the table of the IMH
// result and the HMC result differ by more than kSigma standard errors;
// label prefixes the messages.
func agreeIMHHMC(t *testing.T, label string, tg ensemble.Target, imh, hmc *Result) {
	t.Helper()
	a, _, err := observables.Table(tg, imh.Series())
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := observables.Table(tg, hmc.Series())
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		x, y := a[i].Est, b[i].Est
		d := (x.Mean - y.Mean) / math.Hypot(x.Err, y.Err)
		t.Logf("%s%s: IMH %v, HMC %v (%.2f sigma)", label, a[i].Name, x, y, d)
		if !(math.Abs(d) <= kSigma) {
			t.Errorf("%s%s: IMH %v, HMC %v: %.2f sigma apart", label, a[i].Name, x, y, d)
		}
	}
}
