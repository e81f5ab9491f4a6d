package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"latflow/dataset"
)

// statusJSON runs latflow status DIR --json.
func statusJSON(t *testing.T, dir string) datasetStatus {
	t.Helper()
	code, out, errs := runCLI(t, "status", dir, "--json")
	if code != exitOK {
		t.Fatalf("status: exit %d: %s", code, errs)
	}
	var st datasetStatus
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v in %q", err, out)
	}
	return st
}

// wantChain fails unless st has chain id in state, with rows rows.
func wantChain(t *testing.T, st datasetStatus, id int, state string, rows int64) chainStatus {
	t.Helper()
	for _, c := range st.Chains {
		if c.Chain == id {
			if c.State != state || c.Rows != rows {
				t.Errorf("chain %d: got %s with %d rows, want %s with %d", id, c.State, c.Rows, state, rows)
			}
			return c
		}
	}
	t.Fatalf("chain %d: not in status %+v", id, st)
	return chainStatus{}
}

// TestStatus follows a dataset of three chains: two complete, one written
// by a child process (running), the same killed with SIGKILL mid-part
// (stale, every part readable), and resumed (complete).
func TestStatus(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ens")
	const n = 600
	args := []string{"hmc", "--L", "8", "--beta", "2", "--therm", "20", "--part-rows", "200", "--out", dir}
	if code, _, errs := runCLI(t, append(args, "--n", strconv.Itoa(n), "--chains", "2")...); code != exitOK {
		t.Fatalf("hmc: exit %d: %s", code, errs)
	}
	long := append(args, "--n", "10000000", "--chain-offset", "2", "--resume")
	cmd := childLatflow(t, long...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitForParts(t, dir, 2*n/200+2, 60*time.Second)

	st := statusJSON(t, dir)
	if len(st.Chains) != 3 || st.Complete != 2 || st.Running != 1 || st.Stale != 0 {
		t.Errorf("while chain 2 runs: got %d chains, %d complete, %d running, %d stale; want 3, 2, 1, 0", len(st.Chains), st.Complete, st.Running, st.Stale)
	}
	for id := range 2 {
		c := wantChain(t, st, id, stateComplete, n)
		if c.LastStep != n-1 || c.Parts != n/200 || c.N != n || c.Checkpoint != n || c.Seed != 1 {
			t.Errorf("chain %d: got %+v, want last step %d, %d parts, n %d", id, c, n-1, n/200, n)
		}
	}
	c := wantChain(t, st, 2, stateRunning, st.Chains[2].Rows)
	if want := "pid " + strconv.Itoa(cmd.Process.Pid); !strings.Contains(c.Writer, want) || c.N != 10000000 {
		t.Errorf("running chain 2: got writer %q and n %d, want %q and 10000000", c.Writer, c.N, want)
	}
	code, out, errs := runCLI(t, "status", dir)
	if code != exitOK {
		t.Fatalf("status: exit %d: %s", code, errs)
	}
	for _, want := range []string{"U(1) gauge theory, Wilson action, L=8, beta=2, sampler hmc", "3 chains: 2 complete, 1 running, 0 stale",
		"chain  seed  rows  last step  parts", "complete\n", "running\n", "chain 2 is being written by pid " + strconv.Itoa(cmd.Process.Pid)} {
		if !strings.Contains(out, want) {
			t.Errorf("status text lacks %q:\n%s", want, out)
		}
	}

	// Killed in the middle of a part.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	st = statusJSON(t, dir)
	c = wantChain(t, st, 2, stateStale, st.Chains[2].Rows)
	if c.Rows == 0 || c.Rows%200 != 0 || c.LastStep != c.Rows-1 || !strings.Contains(c.Writer, strconv.Itoa(cmd.Process.Pid)) {
		t.Errorf("killed chain 2: got %+v, want complete parts of 200 rows and the killed writer named", c)
	}
	if st.Stale != 1 || st.Complete != 2 {
		t.Errorf("after the kill: got %d stale, %d complete; want 1, 2", st.Stale, st.Complete)
	}
	if _, err := dataset.Open(dir); err != nil {
		t.Errorf("after the kill, the dataset does not open: %v", err)
	}
	if _, out, _ := runCLI(t, "status", dir); !strings.Contains(out, "chain 2: its last writer (pid "+strconv.Itoa(cmd.Process.Pid)) {
		t.Errorf("status text does not say that chain 2's writer stopped:\n%s", out)
	}

	// The same command with --resume and a reachable --n completes it.
	if code, _, errs := runCLI(t, append(args, "--n", strconv.Itoa(int(c.Rows)+300), "--chain-offset", "2", "--resume")...); code != exitOK {
		t.Fatalf("resume of chain 2: exit %d: %s", code, errs)
	}
	st = statusJSON(t, dir)
	wantChain(t, st, 2, stateComplete, c.Rows+300)
	if st.Complete != 3 {
		t.Errorf("after the resume: got %d complete, want 3", st.Complete)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left after the resume", e.Name())
		}
	}
}

// TestStatusBadInput: status refuses a missing directory, a file, two
// directories and unknown flags with exit 2; an empty directory has no
// chains yet.
func TestStatusBadInput(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no directory", nil, "one dataset directory"},
		{"two directories", []string{root, root}, "one dataset directory"},
		{"missing directory", []string{filepath.Join(root, "none")}, "no such file"},
		{"a file", []string{file}, "not a directory"},
		{"unknown flag after DIR", []string{root, "--jsn"}, "--jsn"},
		{"unknown flag before DIR", []string{"--jsn", root}, "jsn"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCLI(t, append([]string{"status"}, c.args...)...)
			if code != exitUsage || !strings.Contains(errs, c.want) {
				t.Errorf("got exit %d, %q; want %d naming %q", code, errs, exitUsage, c.want)
			}
		})
	}
	code, out, errs := runCLI(t, "status", root)
	if code != exitOK || !strings.Contains(out, "no chains written yet") {
		t.Errorf("empty directory: got exit %d, %q, %q; want 0 and no chains", code, out, errs)
	}
	if st := statusJSON(t, root); len(st.Chains) != 0 {
		t.Errorf("empty directory: got %d chains, want none", len(st.Chains))
	}
}

// TestTaskOfAnotherSeed: a task whose chain id another seed already owns
// (two array jobs in one directory, the second with a wrong --chain-offset)
// refuses to write into it, naming the chain and --seed, and leaves it as
// it was.
func TestTaskOfAnotherSeed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ens")
	args := []string{"hmc", "--L", "8", "--beta", "2", "--therm", "10", "--n", "300", "--part-rows", "100", "--out", dir, "--resume"}
	t.Setenv(envSlurmTask, "2")
	if code, _, errs := runCLI(t, append(args, "--seed", "1")...); code != exitOK {
		t.Fatalf("task 2 of the first job: exit %d: %s", code, errs)
	}
	before := statusJSON(t, dir)
	ck, err := os.ReadFile(filepath.Join(dir, "chain-c0002.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(envSlurmTask, "1")
	code, _, errs := runCLI(t, append(args, "--seed", "2", "--chain-offset", "1")...)
	if code != exitUsage || !strings.Contains(errs, "chain 2") || !strings.Contains(errs, "--seed 1") {
		t.Errorf("task 1 of the second job, chain 2 of seed 1: got exit %d, %q; want %d naming chain 2 and --seed 1", code, errs, exitUsage)
	}
	after := statusJSON(t, dir)
	if len(after.Chains) != 1 || after.Chains[0] != before.Chains[0] {
		t.Errorf("the refused task changed the dataset: got %+v, want %+v", after.Chains, before.Chains)
	}
	if ck2, _ := os.ReadFile(filepath.Join(dir, "chain-c0002.ckpt")); string(ck2) != string(ck) {
		t.Errorf("the refused task changed chain 2's checkpoint")
	}
}

// TestStatusRunningChainMidPart: a chain whose writer holds the lock and
// whose manifest lists a part not yet on disk (status read the directory
// between the writer's steps) is read again, and is running once the part
// appears; one that stays inconsistent is damaged after the rereads.
func TestStatusRunningChainMidPart(t *testing.T) {
	dir := writeA(t)
	last := filepath.Join(dir, dataset.PartName(0, 5))
	aside := filepath.Join(t.TempDir(), "part")
	if err := os.Rename(last, aside); err != nil {
		t.Fatal(err)
	}
	lock, err := dataset.LockChain(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	done := make(chan error, 1)
	go func() {
		time.Sleep(statusRereadWait / 2)
		done <- os.Rename(aside, last)
	}()
	st, err := readStatus(dir)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if st.Damaged != 0 || st.Running != 1 {
		t.Errorf("part back within the rereads: got %d damaged, %d running, want 0 and 1 (%+v)", st.Damaged, st.Running, st.Chains)
	}
	if err := os.Rename(last, aside); err != nil {
		t.Fatal(err)
	}
	if st, err = readStatus(dir); err != nil {
		t.Fatal(err)
	}
	if st.Damaged != 1 {
		t.Errorf("part gone for good: got %d damaged, want 1 (%+v)", st.Damaged, st.Chains)
	}
}
