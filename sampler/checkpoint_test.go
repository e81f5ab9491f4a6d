package sampler

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"latflow/dataset"
	"latflow/observables"
)

// TestResumeEmptyDir: Resume of chains that have no checkpoint yet (the
// first run of a cluster task, which always passes --resume) starts them
// afresh, in a directory that does not exist yet or is empty, and writes
// the rows of a run without Resume.
func TestResumeEmptyDir(t *testing.T) {
	const n = 60
	ref := filepath.Join(t.TempDir(), "ref")
	if _, err := testRun("hmc", ref, n).Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	for name, dir := range map[string]string{"missing": filepath.Join(t.TempDir(), "new", "ds"), "empty": empty} {
		t.Run(name, func(t *testing.T) {
			r := testRun("hmc", dir, n)
			r.Resume = true
			res, err := r.Start(context.Background())
			if err != nil {
				t.Fatalf("Resume in a %s directory: %v", name, err)
			}
			if res.Chains[0].Resumed != 0 {
				t.Errorf("got %d rows resumed, want 0", res.Chains[0].Resumed)
			}
			sameRows(t, readAll(t, dir), readAll(t, ref))
		})
	}
}

// TestCheckpoints: a checkpoint records the run's N, so that a finished
// chain is told from an interrupted one; Checkpoints lists them by chain.
func TestCheckpoints(t *testing.T) {
	const n = 60
	dir := filepath.Join(t.TempDir(), "ds")
	r := testRun("hmc", dir, n)
	ctx, hooks := cancelAfter(2*int64(r.Therm) + 40)
	r.Hooks = hooks
	if _, err := r.Start(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: got %v, want context.Canceled", err)
	}
	// Files that are not checkpoints are ignored.
	for _, name := range []string{"chain-c0002.ckpt.tmp", "chain-c02.ckpt", "chain-c00002.ckpt~"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string, wantComplete bool) {
		t.Helper()
		cks, err := Checkpoints(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(cks) != 2 || cks[0].Chain != 2 || cks[1].Chain != 3 {
			t.Fatalf("%s: got %+v, want the checkpoints of chains 2 and 3", what, cks)
		}
		for _, ck := range cks {
			if ck.N != n || ck.Seed != r.Seed || ck.Path != filepath.Join(dir, CheckpointName(ck.Chain)) {
				t.Errorf("%s: chain %d: got N %d, seed %d, path %s; want %d, %d, %s", what, ck.Chain, ck.N, ck.Seed, ck.Path, n, r.Seed, CheckpointName(ck.Chain))
			}
			if ck.Complete() != wantComplete || (wantComplete && ck.Step != n) || (!wantComplete && ck.Step >= n) {
				t.Errorf("%s: chain %d: got step %d of %d, complete %v; want complete %v", what, ck.Chain, ck.Step, ck.N, ck.Complete(), wantComplete)
			}
		}
	}
	check("interrupted", false)
	r = testRun("hmc", dir, n)
	r.Resume = true
	if _, err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("finished", true)

	if cks, err := Checkpoints(t.TempDir()); err != nil || len(cks) != 0 {
		t.Errorf("empty directory: got %v, %v; want no checkpoints", cks, err)
	}
	if _, err := Checkpoints(filepath.Join(dir, "missing")); err == nil {
		t.Errorf("missing directory: got no error")
	}
	if err := os.WriteFile(filepath.Join(dir, CheckpointName(9)), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Checkpoints(dir); err == nil || !strings.Contains(err.Error(), CheckpointName(9)) {
		t.Errorf("corrupt checkpoint: got %v, want an error naming %s", err, CheckpointName(9))
	}
}

// TestSecondRunOfChain: a run of chain ids that another run writes at the
// same time (two cluster tasks given the same ids, say by a wrong
// --chain-offset) passes Prepare when the owner has no checkpoint yet, but
// fails at the chain's lock without writing a checkpoint, so that the
// owner's chain stays its own; once the owner has its checkpoint, a run
// with another seed is refused naming --seed.
func TestSecondRunOfChain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ds")
	owner := testRun("hmc", dir, 30)
	owner.Seed, owner.FirstChain, owner.Chains = 6, 2, 1
	upd, err := owner.NewUpdate(2)
	if err != nil {
		t.Fatal(err)
	}
	w, err := dataset.Create(dir, owner.spec(2, observables.NewMeasurer(owner.Target).Columns(), upd.Columns()), dataset.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	second := testRun("hmc", dir, 30)
	second.FirstChain, second.Chains, second.Resume = 2, 1, true
	_, err = second.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "another ") || !strings.Contains(err.Error(), "chain 2") {
		t.Errorf("second run of chain 2 while it is written: got %v, want a lock error naming chain 2", err)
	}
	if _, serr := os.Stat(filepath.Join(dir, CheckpointName(2))); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("second run of chain 2 wrote a checkpoint (stat: %v); want none", serr)
	}
	w.Discard()

	owner.Resume = true
	if _, err := owner.Start(context.Background()); err != nil {
		t.Fatalf("owner: %v", err)
	}
	before, err := os.ReadFile(filepath.Join(dir, CheckpointName(2)))
	if err != nil {
		t.Fatal(err)
	}
	var se *SettingError
	if _, err := second.Start(context.Background()); !errors.As(err, &se) || se.Flag != "seed" {
		t.Errorf("seed 5 resuming chain 2 of seed 6: got %v, want a SettingError naming --seed", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, CheckpointName(2))); string(after) != string(before) {
		t.Errorf("the refused run changed the owner's checkpoint")
	}
}
