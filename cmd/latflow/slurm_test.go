package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"latflow/dataset"
)

// requireSlurm skips the test unless sinfo answers; under CI=true, where
// .ci/run starts a cluster with scripts/slurm-local.sh, it fails instead.
func requireSlurm(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sinfo", "-h").CombinedOutput()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("sinfo does not answer (%v: %s); start a local cluster with scripts/slurm-local.sh start", err, strings.TrimSpace(string(out)))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// buildLatflow builds latflow into a temporary directory, where the tasks
// of a Slurm job can run it after the test.
func buildLatflow(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "latflow")
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// envOutsideSlurm is the environment without SLURM_* variables, so that a
// run of the test outside Slurm stays outside even when go test runs in a
// Slurm job.
func envOutsideSlurm() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLURM_") {
			env = append(env, kv)
		}
	}
	return env
}

// slurmCmd runs a Slurm command and returns its output.
func slurmCmd(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// jobDone reports whether Slurm has no pending or running task of job.
func jobDone(t *testing.T, job string) bool {
	return strings.TrimSpace(slurmCmd(t, "squeue", "-h", "-j", job)) == ""
}

// waitJob waits until job has no pending or running task.
func waitJob(t *testing.T, job string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !jobDone(t, job) {
		if time.Now().After(deadline) {
			t.Fatalf("job %s not done after %v:\n%s", job, limit, slurmCmd(t, "squeue", "-j", job))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// chainParts returns the part files of chain c in dir with their
// identity (inode and modification time), to see later that they were not
// written again.
func chainParts(t *testing.T, dir string, c int) map[string]string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("part-c%04d-*.arrow", c)))
	parts := map[string]string{}
	for _, name := range names {
		st, err := os.Stat(name)
		if err != nil {
			continue
		}
		parts[filepath.Base(name)] = fmt.Sprintf("inode %d, %v, %d bytes", st.Sys().(*syscall.Stat_t).Ino, st.ModTime().UnixNano(), st.Size())
	}
	return parts
}

// sameChain fails unless chain id has the same rows, bit for bit, in the
// datasets got and want.
func sameChain(t *testing.T, got, want *dataset.Dataset, id int) {
	t.Helper()
	find := func(ds *dataset.Dataset) *dataset.Chain {
		for i := range ds.Chains {
			if ds.Chains[i].ID == id {
				return &ds.Chains[i]
			}
		}
		t.Fatalf("no chain %d in the dataset", id)
		return nil
	}
	g, w := find(got), find(want)
	bits := func(xs []float64) []uint64 {
		out := make([]uint64, len(xs))
		for i, x := range xs {
			out[i] = math.Float64bits(x)
		}
		return out
	}
	same := reflect.DeepEqual(g.Steps, w.Steps) && reflect.DeepEqual(g.Accepted, w.Accepted) &&
		reflect.DeepEqual(bits(g.Action), bits(w.Action)) && reflect.DeepEqual(g.Labels, w.Labels) && len(g.Obs) == len(w.Obs)
	for name, col := range w.Obs {
		same = same && reflect.DeepEqual(bits(g.Obs[name]), bits(col))
	}
	if !same {
		t.Errorf("chain %d: rows differ from the uninterrupted run", id)
	}
}

// TestSlurmArrayJob runs latflow on a real Slurm cluster: a 4-task array
// of hmc chains into one directory. While it runs, task 1 is requeued
// (scontrol requeue: SIGTERM, then the task starts again) and task 0 is
// killed (SIGKILL, not requeued). Task 1 must resume: its log shows both
// starts and its early parts are kept as they were. status shows chain 0
// stale and the others complete; submitting the same command again
// completes chain 0. analyze merges 4 distinct chains without duplicate
// rows, within 3 sigma of the exact U(1) values, and chains 0 and 1 equal
// the same chains run uninterrupted outside Slurm, bit for bit.
func TestSlurmArrayJob(t *testing.T) {
	requireSlurm(t)
	start := time.Now()
	bin := buildLatflow(t)
	root := t.TempDir()
	dir := filepath.Join(root, "ens")
	const n, partRows, tasks = 80000, 4000, 4
	command := []string{"hmc", "--L", "8", "--beta", "2", "--n", strconv.Itoa(n), "--part-rows", strconv.Itoa(partRows), "--seed", "11"}
	latflow := func(args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = envOutsideSlurm()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return string(out), fmt.Errorf("latflow %s: %v: %s", strings.Join(args, " "), err, stderr.String())
		}
		return string(out), nil
	}
	submit := func() string {
		t.Helper()
		out, err := latflow(append([]string{"submit", "--tasks", strconv.Itoa(tasks), "--out", dir, "--"}, command...)...)
		if err != nil {
			t.Fatal(err)
		}
		job := strings.TrimSpace(out)
		if _, err := strconv.Atoi(job); err != nil {
			t.Fatalf("submit printed %q, want a job id", out)
		}
		t.Cleanup(func() { _ = exec.Command("scancel", job).Run() })
		return job
	}

	job := submit()
	// Tasks 0 and 1 start first (tasks 2 and 3 wait for a free CPU on a
	// 2-CPU node, or start too); wait until both have written two parts.
	deadline := time.Now().Add(90 * time.Second)
	for len(chainParts(t, dir, 0)) < 2 || len(chainParts(t, dir, 1)) < 2 {
		if time.Now().After(deadline) || jobDone(t, job) {
			t.Fatalf("tasks 0 and 1 did not write two parts each while the job ran:\n%s", slurmCmd(t, "squeue", "-j", job))
		}
		time.Sleep(20 * time.Millisecond)
	}
	early := chainParts(t, dir, 1)
	slurmCmd(t, "scontrol", "requeue", job+"_1")
	slurmCmd(t, "scancel", "--batch", "--signal=KILL", job+"_0")
	if len(early) >= n/partRows {
		t.Fatalf("task 1 had finished (%d parts) before the requeue; make the chains longer", len(early))
	}

	// The same chains 0 and 1, uninterrupted, outside Slurm, meanwhile.
	ref := filepath.Join(root, "ref")
	refDone := make(chan error, 1)
	go func() {
		_, err := latflow(append(slices.Clone(command), "--chains", "2", "--out", ref)...)
		refDone <- err
	}()

	waitJob(t, job, 4*time.Minute)
	t.Logf("first job done after %v", time.Since(start).Round(time.Millisecond))
	log, err := os.ReadFile(filepath.Join(dir, "slurm-"+job+"_1.out"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"task 1 (job", "restart 0,", "restart 1,", "interrupted after", "continue with --resume", "steps saved in " + dir} {
		if !strings.Contains(string(log), want) {
			t.Errorf("task 1's log lacks %q: it was not requeued and resumed:\n%s", want, log)
		}
	}
	after := chainParts(t, dir, 1)
	for name, id := range early {
		if after[name] != id {
			t.Errorf("task 1's part %s written before the requeue was written again (%s, now %q): the task restarted instead of resuming", name, id, after[name])
		}
	}

	// Chain 0 was killed: stale, with only readable parts; the others are
	// complete.
	st := statusJSON(t, dir)
	if len(st.Chains) != tasks || st.Stale != 1 || st.Complete != tasks-1 || st.Chains[0].State != stateStale {
		t.Fatalf("status after the first job: got %+v, want chain 0 stale and 3 complete", st)
	}
	if st.Chains[0].Rows >= n {
		t.Fatalf("chain 0 has all %d rows although its task was killed; make the chains longer", st.Chains[0].Rows)
	}
	if _, err := dataset.Open(dir); err != nil {
		t.Fatalf("the dataset with the killed chain does not open: %v", err)
	}

	// Submitting the same command again completes chain 0; the complete
	// tasks finish at once.
	job2 := submit()
	waitJob(t, job2, 3*time.Minute)
	t.Logf("second job done after %v", time.Since(start).Round(time.Millisecond))
	st = statusJSON(t, dir)
	if st.Complete != tasks {
		t.Errorf("status after the second job: got %+v, want all %d chains complete", st, tasks)
	}

	out, err := latflow("analyze", dir, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("analyze --json: %v in %q", err, out)
	}
	if r.Chains != tasks || r.Measurements != tasks*n {
		t.Errorf("analyze: got %d chains and %d measurements, want %d and %d", r.Chains, r.Measurements, tasks, tasks*n)
	}
	const k = 3 // sigma
	checked := 0
	for _, o := range r.Observables {
		if o.Sigma == nil {
			continue
		}
		checked++
		if math.Abs(*o.Sigma) > k {
			t.Errorf("%s: got %g +- %g, exact %g: %.2f sigma", o.Name, o.Mean, o.Error, *o.Exact, *o.Sigma)
		}
	}
	if checked < 4 {
		t.Errorf("only %d observables had exact values, want at least 4", checked)
	}
	ds, err := dataset.OpenWith(dataset.OpenOptions{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range ds.Chains {
		if c.ID != i || c.Meta.Seed != 11 || len(c.Steps) != n || c.Steps[0] != 0 || c.Steps[n-1] != n-1 {
			t.Errorf("chain %d of the merged dataset: got id %d, seed %d, %d rows (steps %d to %d); want id %d, seed 11, steps 0 to %d once each",
				i, c.ID, c.Meta.Seed, len(c.Steps), c.Steps[0], c.Steps[len(c.Steps)-1], i, n-1)
		}
	}

	if err := <-refDone; err != nil {
		t.Fatal(err)
	}
	want, err := dataset.OpenWith(dataset.OpenOptions{}, ref)
	if err != nil {
		t.Fatal(err)
	}
	sameChain(t, ds, want, 1) // requeued
	sameChain(t, ds, want, 0) // killed and submitted again
	t.Logf("done after %v", time.Since(start).Round(time.Millisecond))
}
