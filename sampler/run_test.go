package sampler

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"latflow/dataset"
	"latflow/ensemble"
)

// gaussianProposal proposes independent N(0, sigma^2) field values: a crude
// but exact-density proposal for phi^4.
type gaussianProposal struct {
	size  int
	sigma float64
}

func (g gaussianProposal) Size() int { return g.size }
func (g gaussianProposal) Propose(rng *rand.Rand, x, logq []float64) {
	for i := range x {
		x[i] = g.sigma * rng.NormFloat64()
	}
	for i := range logq {
		logq[i] = g.logDensity(x[i*g.size : (i+1)*g.size])
	}
}
func (g gaussianProposal) logDensity(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	n := float64(len(x))
	return -s/(2*g.sigma*g.sigma) - n*math.Log(g.sigma) - n/2*math.Log(2*math.Pi)
}
func (g gaussianProposal) LogDensity(logq, x []float64) error {
	for i := range logq {
		logq[i] = g.logDensity(x[i*g.size : (i+1)*g.size])
	}
	return nil
}

// testRun returns a run of kind "hmc", "imh" or "mixed" for phi^4 at L=4.
func testRun(kind, out string, n int) *Run {
	t := ensemble.NewPhi4Standard(4, -1, 1)
	act := t.Action(t.Geometry())
	r := &Run{
		Target: t, Seed: 5, FirstChain: 2, Chains: 2, Therm: 20, N: n,
		Out: out, SaveEvery: 7, PartRows: 25, Sampler: kind, Settings: map[string]string{"kind": kind},
		Version: "test",
	}
	hmc := func(c int) (*HMCUpdate, error) {
		opt := HMCOptions{Tune: true, Jitter: 0.1}
		if kind == "hmc-auto" {
			name, probe := CostProbe(t)
			opt.AutoTau = &AutoTau{Budget: r.Therm, Probe: probe, ProbeName: name}
		}
		return NewHMCUpdate(HMC{Tau: 0.5, Steps: 5}, act, t.Size(), NewStream(r.Seed, c, StreamHMC), opt)
	}
	if kind == "hmc-auto" {
		r.Therm = MinAutoTauBudget
	}
	imh := func(c int) (*IMH, error) {
		return NewIMH(gaussianProposal{size: t.Size(), sigma: 0.9}, act, 16, 2,
			NewStream(r.Seed, c, StreamProposal), NewStream(r.Seed, c, StreamAccept))
	}
	r.NewUpdate = func(c int) (Update, error) {
		switch kind {
		case "hmc", "hmc-auto":
			return hmc(c)
		case "imh":
			return imh(c)
		}
		h, err := hmc(c)
		if err != nil {
			return nil, err
		}
		m, err := imh(c)
		return &Mixed{IMH: m, HMC: h, Every: 3}, err
	}
	return r
}

// readAll returns the chains of a dataset, configurations included.
func readAll(t *testing.T, dir string) []dataset.Chain {
	t.Helper()
	ds, err := dataset.OpenWith(dataset.OpenOptions{Configs: true}, dir)
	if err != nil {
		t.Fatal(err)
	}
	return ds.Chains
}

// sameRows fails unless the chains of two datasets have the same rows bit
// for bit.
func sameRows(t *testing.T, got, want []dataset.Chain) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d chains, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		for _, c := range []struct {
			name string
			a, b any
		}{
			{"id", g.ID, w.ID}, {"steps", g.Steps, w.Steps}, {"accepted", g.Accepted, w.Accepted},
			{"action", bits(g.Action), bits(w.Action)}, {"labels", g.Labels, w.Labels},
			{"config steps", g.ConfigSteps, w.ConfigSteps},
		} {
			if !reflect.DeepEqual(c.a, c.b) {
				t.Fatalf("chain %d: %s differ", w.ID, c.name)
			}
		}
		for name, col := range w.Obs {
			if !reflect.DeepEqual(bits(g.Obs[name]), bits(col)) {
				t.Fatalf("chain %d: column %s differs", w.ID, name)
			}
		}
		for k := range w.Configs {
			if !reflect.DeepEqual(bits(g.Configs[k]), bits(w.Configs[k])) {
				t.Fatalf("chain %d: configuration %d differs", w.ID, k)
			}
		}
	}
}

// bits returns the IEEE bits of xs, so that NaN compares equal to NaN.
func bits(xs []float64) []uint64 {
	out := make([]uint64, len(xs))
	for i, v := range xs {
		out[i] = math.Float64bits(v)
	}
	return out
}

// cancelAfter returns hooks that cancel the run after stop steps.
func cancelAfter(stop int64) (context.Context, Hooks) {
	ctx, cancel := context.WithCancel(context.Background())
	var done atomic.Int64
	count := func(n int64) {
		if done.Add(n) >= stop {
			cancel()
		}
	}
	return ctx, Hooks{Progress: count, Resumed: count}
}

// TestRunResume: a run interrupted at various points and resumed writes the
// same rows, bit for bit, as the uninterrupted run; so does a finished run
// continued to a larger N; and so does a resume from a checkpoint older
// than the last part (a crash between part and checkpoint). "hmc-auto"
// chooses its trajectory length during thermalization (--tau auto): the
// resumed chain keeps the choice.
func TestRunResume(t *testing.T) {
	const n = 110
	for _, kind := range []string{"hmc", "imh", "mixed", "hmc-auto"} {
		t.Run(kind, func(t *testing.T) {
			ref := filepath.Join(t.TempDir(), "ref")
			if _, err := testRun(kind, ref, n).Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			want := readAll(t, ref)
			if len(want) != 2 || len(want[0].Steps) != n || want[0].ID != 2 {
				t.Fatalf("reference: got %d chains, want 2 of %d rows with ids 2, 3", len(want), n)
			}
			// Interrupted in thermalization, in production twice, then
			// finished.
			dir := filepath.Join(t.TempDir(), "resumed")
			stops := []int64{15, 90, 200}
			if kind == "hmc-auto" {
				// In the search, then in production twice.
				th := int64(2 * MinAutoTauBudget)
				stops = []int64{th / 2, th + 90, th + 200}
			}
			for i, stop := range stops {
				r := testRun(kind, dir, n)
				r.Resume = i > 0
				ctx, hooks := cancelAfter(stop)
				r.Hooks = hooks
				if _, err := r.Start(ctx); !errors.Is(err, context.Canceled) {
					t.Fatalf("stop after %d: got error %v, want context.Canceled", stop, err)
				}
			}
			r := testRun(kind, dir, n)
			r.Resume = true
			res, err := r.Start(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Chains[0].Action) != n || res.Chains[0].Resumed == 0 {
				t.Errorf("resumed result: got %d rows (%d resumed), want %d with some resumed", len(res.Chains[0].Action), res.Chains[0].Resumed, n)
			}
			sameRows(t, readAll(t, dir), want)

			// A finished run continued to a larger N.
			big := filepath.Join(t.TempDir(), "big")
			if _, err := testRun(kind, big, 2*n).Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			r = testRun(kind, dir, 2*n)
			r.Resume = true
			if _, err := r.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			sameRows(t, readAll(t, dir), readAll(t, big))

			// A crash between a part and its checkpoint: the checkpoint of
			// step n with parts up to step 2n on disk.
			crash := filepath.Join(t.TempDir(), "crash")
			if _, err := testRun(kind, crash, n).Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			old, err := os.ReadFile(filepath.Join(crash, CheckpointName(2)))
			if err != nil {
				t.Fatal(err)
			}
			r = testRun(kind, crash, 2*n)
			r.Resume = true
			if _, err := r.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(crash, CheckpointName(2)), old, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			sameRows(t, readAll(t, crash), readAll(t, big))
		})
	}
}

// TestRunSettings: an existing dataset is not overwritten, and a resume
// with other settings is refused naming the setting.
func TestRunSettings(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	if _, err := testRun("hmc", dir, 30).Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var se *SettingError
	if _, err := testRun("hmc", dir, 30).Start(context.Background()); !errors.As(err, &se) || se.Flag != "out" {
		t.Errorf("existing dataset without Resume: got %v, want a SettingError for out", err)
	}
	for _, c := range []struct {
		flag   string
		change func(r *Run)
	}{
		{"seed", func(r *Run) { r.Seed = 6 }},
		{"kind", func(r *Run) { r.Settings["kind"] = "other" }},
		{"m2", func(r *Run) { r.Target = ensemble.NewPhi4Standard(4, -2, 1) }},
		{"L", func(r *Run) { r.Target = ensemble.NewPhi4Standard(8, -1, 1) }},
		{"n", func(r *Run) { r.N = 20 }},
	} {
		r := testRun("hmc", dir, 30)
		r.Resume = true
		c.change(r)
		_, err := r.Start(context.Background())
		if !errors.As(err, &se) || se.Flag != c.flag || !strings.Contains(err.Error(), "--"+c.flag) {
			t.Errorf("changed %s: got %v, want a SettingError naming --%s", c.flag, err, c.flag)
		}
	}
	r := testRun("hmc", "", 30)
	r.Resume = true
	if _, err := r.Start(context.Background()); !errors.As(err, &se) {
		t.Errorf("resume without a directory: got %v, want a SettingError", err)
	}
}

// TestRunCheckOtherEnsemble: Check refuses a directory that holds chains
// of another ensemble, also when they are not the run's chains (a new chain
// was refused only when it wrote its first part, after thermalization),
// and accepts new chains of the same ensemble; Check writes nothing.
func TestRunCheckOtherEnsemble(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	r := testRun("hmc", dir, 30)
	if err := r.Check(); err != nil {
		t.Fatalf("Check of a run into a new directory: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("Check created %s (stat: %v)", dir, err)
	}
	if _, err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	more := testRun("hmc", dir, 30)
	more.FirstChain = 10
	if err := more.Check(); err != nil {
		t.Errorf("new chains of the same ensemble: got %v, want nil", err)
	}
	var se *SettingError
	for name, target := range map[string]ensemble.Target{
		"m2":              ensemble.NewPhi4Standard(4, -2, 1),
		"L":               ensemble.NewPhi4Standard(8, -1, 1),
		"parametrization": ensemble.NewPhi4Hopping(4, 0.2, 1),
		"theory":          ensemble.NewU1(4, 1),
	} {
		other := testRun("hmc", dir, 30)
		other.FirstChain, other.Target = 10, target
		err := other.Check()
		if !errors.As(err, &se) || se.Flag != "out" || !strings.Contains(err.Error(), "another ensemble") || !strings.Contains(err.Error(), name+"=") {
			t.Errorf("new chains at another %s: got %v, want a SettingError for out naming another ensemble and %s", name, err, name)
		}
	}
}

// TestRunChainsIndependent: chain c is the same in any run that has it,
// and different chains differ.
func TestRunChainsIndependent(t *testing.T) {
	a := testRun("imh", "", 40)
	ra, err := a.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := testRun("imh", "", 40)
	b.FirstChain, b.Chains = 3, 1
	rb, err := b.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(bits(ra.Chains[1].Action), bits(rb.Chains[0].Action)) {
		t.Errorf("chain 3 alone and beside chain 2: got different chains")
	}
	if reflect.DeepEqual(ra.Chains[0].Action, ra.Chains[1].Action) {
		t.Errorf("chains 2 and 3: got identical chains")
	}
}
