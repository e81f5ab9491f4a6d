package main

import (
	"context"
	"encoding/json"
	"errors"
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

// slurmCapacity reads what the test needs to know of the cluster and says
// what it needs: CPUs in the default partition that can run tasks (each
// task takes one; with one CPU the tasks run one at a time, which the test
// allows for), and how long a requeued task waits before it starts again
// (cred_expire + 1 s, then up to sched_interval; slurm-local.sh sets 5 s
// and 2 s, Slurm's defaults are 120 s and 60 s).
func slurmCapacity(t *testing.T) (cpus int, requeueDelay time.Duration) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(slurmCmd(t, "sinfo", "-h", "-o", "%P %a %C")), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || !strings.HasSuffix(f[0], "*") {
			continue
		}
		// %C is allocated/idle/other/total; "other" CPUs (down, drained)
		// run nothing.
		var alloc, idle, other, total int
		if _, err := fmt.Sscanf(f[2], "%d/%d/%d/%d", &alloc, &idle, &other, &total); err != nil {
			t.Fatalf("sinfo -o %%C printed %q: %v", f[2], err)
		}
		if f[1] != "up" || total-other < 1 {
			t.Fatalf("the default partition %s is %s with %s CPUs (allocated/idle/other/total): this test needs it up with at least one usable CPU "+
				"(tasks of 1 CPU and 512 MB; scripts/slurm-local.sh start sets up such a cluster)", f[0], f[1], f[2])
		}
		cpus = total - other
	}
	if cpus == 0 {
		t.Fatal("sinfo shows no default partition: this test submits without --partition and needs one (scripts/slurm-local.sh start sets up such a cluster)")
	}
	credExpire, schedInterval := 120, 60 // Slurm's defaults
	for _, line := range strings.Split(slurmCmd(t, "scontrol", "show", "config"), "\n") {
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		for _, kv := range strings.Split(strings.TrimSpace(value), ",") {
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.Atoi(v)
			switch {
			case err != nil:
			case strings.TrimSpace(key) == "AuthInfo" && k == "cred_expire":
				credExpire = n
			case strings.TrimSpace(key) == "SchedulerParameters" && k == "sched_interval":
				schedInterval = n
			}
		}
	}
	requeueDelay = time.Duration(credExpire+1+schedInterval) * time.Second
	t.Logf("cluster: %d CPUs in the default partition (up to %d tasks at a time); a requeued task starts again within %v", cpus, cpus, requeueDelay)
	return cpus, requeueDelay
}

// runningTasks returns the array task ids of job that Slurm shows running.
func runningTasks(t *testing.T, job string) []int {
	t.Helper()
	var ids []int
	for _, f := range strings.Fields(slurmCmd(t, "squeue", "-h", "-r", "-j", job, "-t", "RUNNING", "-o", "%i")) {
		_, task, ok := strings.Cut(f, "_")
		if id, err := strconv.Atoi(task); ok && err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// cancelJob cancels job and waits until Slurm shows none of its tasks, so
// that no task writes into the test's directories while they are removed.
func cancelJob(t *testing.T, job string) {
	_ = exec.Command("scancel", job).Run()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		out, err := exec.Command("squeue", "-h", "-j", job).Output()
		if err != nil || strings.TrimSpace(string(out)) == "" {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Errorf("job %s still in the queue 2 minutes after scancel", job)
}

// TestSlurmArrayJob runs latflow on a real Slurm cluster: a 4-task array
// of hmc chains into one directory. While it runs, one task is requeued
// (scontrol requeue: SIGTERM, then the task starts again) and another is
// killed (SIGKILL, not requeued), each when Slurm shows it running with two
// parts written: tasks 0 and 1 together where the cluster runs two at a
// time, one after the other where it runs one. The requeued task must
// resume: its log shows both starts and its early parts are kept as they
// were. status shows the killed chain stale and the others complete;
// submitting the same command again completes it. analyze merges 4
// distinct chains without duplicate rows, within 3 sigma of the exact U(1)
// values, and the requeued and the killed chains equal the same chains run
// uninterrupted outside Slurm, bit for bit. The job is cancelled and its
// tasks gone before the test's directories are removed, also on failure.
func TestSlurmArrayJob(t *testing.T) {
	requireSlurm(t)
	start := time.Now()
	cpus, requeueDelay := slurmCapacity(t)
	bin := buildLatflow(t)
	root := t.TempDir()
	dir := filepath.Join(root, "ens")
	const n, partRows, tasks = 80000, 4000, 4
	// One task of n trajectories took about 10 s on 2 shared cores; at one
	// task at a time, behind a requeue, with room for other jobs.
	jobLimit := 4*time.Minute*time.Duration(max(1, tasks/min(cpus, tasks))) + requeueDelay
	command := []string{"hmc", "--L", "8", "--beta", "2", "--n", strconv.Itoa(n), "--part-rows", strconv.Itoa(partRows), "--seed", "11"}
	latflowCtx := func(ctx context.Context, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = envOutsideSlurm()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return string(out), fmt.Errorf("latflow %s: %v: %s", strings.Join(args, " "), err, stderr.String())
		}
		return string(out), nil
	}
	latflow := func(args ...string) (string, error) { return latflowCtx(context.Background(), args...) }
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
		t.Cleanup(func() { cancelJob(t, job) })
		return job
	}
	// running waits until Slurm shows a task other than except running
	// with at least two parts written and most of its chain still to go,
	// and returns its id.
	running := func(job string, except int) int {
		t.Helper()
		deadline := time.Now().Add(jobLimit)
		for {
			for _, id := range runningTasks(t, job) {
				if parts := len(chainParts(t, dir, id)); id != except && parts >= 2 && parts <= n/partRows/2 {
					return id
				}
			}
			if time.Now().After(deadline) || jobDone(t, job) {
				t.Fatalf("no task of job %s (other than %d) ran with two parts written:\n%s", job, except, slurmCmd(t, "squeue", "-r", "-j", job))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	job := submit()
	requeued := running(job, -1)
	early := chainParts(t, dir, requeued)
	slurmCmd(t, "scontrol", "requeue", fmt.Sprintf("%s_%d", job, requeued))
	killed := running(job, requeued)
	slurmCmd(t, "scancel", "--batch", "--signal=KILL", fmt.Sprintf("%s_%d", job, killed))
	t.Logf("requeued task %d, killed task %d after %v", requeued, killed, time.Since(start).Round(time.Millisecond))

	// The same chains, uninterrupted, outside Slurm, meanwhile; stopped
	// and waited for before the directories are removed.
	ref := filepath.Join(root, "ref")
	lo, hi := min(requeued, killed), max(requeued, killed)
	refCtx, stopRef := context.WithCancel(context.Background())
	var refErr error
	refDone := make(chan struct{})
	go func() {
		defer close(refDone)
		_, refErr = latflowCtx(refCtx, append(slices.Clone(command), "--chain-offset", strconv.Itoa(lo), "--chains", strconv.Itoa(hi-lo+1), "--out", ref)...)
	}()
	t.Cleanup(func() { stopRef(); <-refDone })

	waitJob(t, job, jobLimit)
	t.Logf("first job done after %v", time.Since(start).Round(time.Millisecond))
	log, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("slurm-%s_%d.out", job, requeued)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{fmt.Sprintf("task %d (job", requeued), "restart 0,", "restart 1,", "interrupted after", "continue with --resume", "steps saved in " + dir} {
		if !strings.Contains(string(log), want) {
			t.Errorf("task %d's log lacks %q: it was not requeued and resumed:\n%s", requeued, want, log)
		}
	}
	after := chainParts(t, dir, requeued)
	for name, id := range early {
		if after[name] != id {
			t.Errorf("task %d's part %s written before the requeue was written again (%s, now %q): the task restarted instead of resuming", requeued, name, id, after[name])
		}
	}

	// The killed chain is stale, with only readable parts; the others are
	// complete.
	st := statusJSON(t, dir)
	if len(st.Chains) != tasks || st.Stale != 1 || st.Complete != tasks-1 {
		t.Fatalf("status after the first job: got %+v, want chain %d stale and 3 complete", st, killed)
	}
	for _, c := range st.Chains {
		if c.Chain == killed && (c.State != stateStale || c.Rows >= n) {
			t.Fatalf("chain %d: got %s with %d rows, want stale with fewer than %d: its task was killed", killed, c.State, c.Rows, n)
		}
	}
	if _, err := dataset.Open(dir); err != nil {
		t.Fatalf("the dataset with the killed chain does not open: %v", err)
	}

	// Submitting the same command again completes the killed chain; the
	// complete tasks finish at once.
	job2 := submit()
	waitJob(t, job2, jobLimit)
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

	<-refDone
	if refErr != nil {
		t.Fatal(refErr)
	}
	want, err := dataset.OpenWith(dataset.OpenOptions{}, ref)
	if err != nil {
		t.Fatal(err)
	}
	sameChain(t, ds, want, requeued)
	sameChain(t, ds, want, killed) // and submitted again
	t.Logf("done after %v", time.Since(start).Round(time.Millisecond))
}

// TestSlurmLocalReportsDaemonDeath runs the start_daemon and wait_idle of
// scripts/slurm-local.sh (sourced, with its paths in a temporary directory)
// on fake daemons that die at start: one exits with an error after logging
// a ClusterName mismatch (state files of an earlier cluster in
// StateSaveLocation), one daemonizes and then dies. start exited 1 without
// a word; it must print the fatal lines written by this start (not older
// ones), say how to resolve the mismatch, and exit 1 at once.
func TestSlurmLocalReportsDaemonDeath(t *testing.T) {
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "slurm-local.sh"))
	if err != nil {
		t.Fatal(err)
	}
	const (
		mismatch = `#!/bin/bash
cat >>"$FAKE_LOG" <<'LOG'
[2026-12-06T04:00:01.000] slurmctld version 22.05.8 started on cluster latflow-local
[2026-12-06T04:00:01.002] fatal: CLUSTER NAME MISMATCH.
slurmctld has been started with "ClusterName=latflow-local", but read "oldcluster" from the state files in StateSaveLocation.
LOG
exit 1
`
		diesLater = `#!/bin/bash
if [ "${1:-}" = child ]; then
	echo $$ >"$FAKE_RUNDIR/slurmctld.pid"
	sleep 0.5
	echo "[2026-12-06T04:00:02.000] fatal: Unable to determine this slurmd's NodeName" >>"$FAKE_LOG"
	exit 1
fi
"$0" child >/dev/null 2>&1 &
exit 0
`
	)
	for _, c := range []struct {
		name, daemon, clusterFile string
		want                      []string
	}{
		{"cluster name mismatch", mismatch, "oldcluster", []string{
			"slurmctld exited with an error at start",
			"fatal: CLUSTER NAME MISMATCH.",
			`but read "oldcluster" from the state files`,
			`belong to cluster "oldcluster", but`, "ClusterName=latflow-local",
			"mv STATE STATE.old-oldcluster", "set ClusterName=oldcluster",
		}},
		{"dies after daemonizing", diesLater, "", []string{
			"slurmctld exited after it started",
			"fatal: Unable to determine this slurmd's NodeName",
			"resolve: fix the cause above",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dirs := map[string]string{}
			for _, d := range []string{"sbin", "run", "log", "spool/slurmctld", "state", "bin"} {
				dirs[d] = filepath.Join(root, d)
				if err := os.MkdirAll(dirs[d], 0o755); err != nil {
					t.Fatal(err)
				}
			}
			state, log := dirs["spool/slurmctld"], filepath.Join(dirs["log"], "slurmctld.log")
			conf := filepath.Join(root, "slurm.conf")
			files := map[string]string{
				conf: "ClusterName=latflow-local\nStateSaveLocation=" + state + "\nSlurmctldLogFile=" + log + "\n",
				// An earlier failure: not this start's.
				log:                                      "[2026-12-05T10:00:00.000] fatal: an old failure\n",
				filepath.Join(dirs["sbin"], "slurmctld"): c.daemon,
				// No sinfo answers, even where a cluster runs.
				filepath.Join(dirs["bin"], "sinfo"): "#!/bin/sh\nexit 1\n",
			}
			if c.clusterFile != "" {
				files[filepath.Join(state, "clustername")] = c.clusterFile + "\n"
			}
			for name, body := range files {
				if err := os.WriteFile(name, []byte(body), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command("bash", "-c", `source "$1"
CONF=$2 SBIN=$3 RUNDIR=$4 LOGDIR=$5 SPOOL=$6 STATE_DIR=$7 PIDS=$7/pids TIMEOUT=10
start_daemon slurmctld
wait_idle
echo "start_daemon and wait_idle returned"`, "slurm-local-test", script, conf, dirs["sbin"], dirs["run"], dirs["log"], filepath.Join(root, "spool"), dirs["state"])
			cmd.Env = append(os.Environ(), "PATH="+dirs["bin"]+string(os.PathListSeparator)+os.Getenv("PATH"),
				"FAKE_LOG="+log, "FAKE_RUNDIR="+dirs["run"])
			began := time.Now()
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Errorf("got %v, want exit 1\n%s", err, out)
			}
			if took := time.Since(began); took > 8*time.Second {
				t.Errorf("took %v: the death was found by the timeout, not at once", took.Round(time.Millisecond))
			}
			text := strings.ReplaceAll(string(out), state, "STATE")
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
			t.Logf("output after %v:\n%s", time.Since(began).Round(time.Millisecond), text)
			if strings.Contains(text, "an old failure") {
				t.Errorf("output shows a fatal line of an earlier start:\n%s", text)
			}
		})
	}
}
