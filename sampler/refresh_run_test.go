package sampler

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"latflow/ensemble"
	"latflow/fermion"
)

// TestRunResumePseudofermionHMC: a Run of pseudofermion HMC (the U(1)
// target's measurements, the Schwinger model's update) interrupted in
// thermalization and in production and resumed writes the same rows, bit
// for bit, as the uninterrupted run: the pseudofermions need no
// checkpoint.
func TestRunResumePseudofermionHMC(t *testing.T) {
	const n = 60
	newRun := func(out string) *Run {
		tg := ensemble.NewU1(4, 2)
		r := &Run{
			Target: tg, Seed: 9, FirstChain: 0, Chains: 1, Therm: 10, N: n,
			Out: out, SaveEvery: 5, PartRows: 20, Sampler: "hmc", Settings: map[string]string{"kappa": "0.24"},
			Version: "test",
		}
		r.NewUpdate = func(c int) (Update, error) {
			act := fermion.NewEvenOddPseudofermionAction(tg.Geometry(), 2, 0.24, 1e-12, 1000)
			return NewRefreshHMCUpdate(HMC{Tau: 1, Steps: 4}, act, tg.Size(), NewStream(r.Seed, c, StreamHMC), HMCOptions{Tune: true, Jitter: 0.2})
		}
		return r
	}
	ref := filepath.Join(t.TempDir(), "ref")
	if _, err := newRun(ref).Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := readAll(t, ref)
	dir := filepath.Join(t.TempDir(), "resumed")
	for i, stop := range []int64{5, 40} {
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
	res, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Chains[0].Resumed == 0 {
		t.Errorf("resumed result: got no resumed rows, want some")
	}
	sameRows(t, readAll(t, dir), want)
}
