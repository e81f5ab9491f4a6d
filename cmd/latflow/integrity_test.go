package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"latflow/dataset"
)

// hmcA is the run of issue 19's dataset A, smaller: one chain of six parts.
func hmcA(out string, extra ...string) []string {
	return append([]string{"hmc", "-L", "8", "--n", "600", "--therm", "20", "--seed", "3", "--part-rows", "100",
		"--save-every", "1", "--out", out}, extra...)
}

// writeA runs hmcA into a new directory and returns it.
func writeA(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "A")
	if code, _, errs := runCLI(t, hmcA(dir)...); code != exitOK {
		t.Fatalf("hmc: exit %d: %s", code, errs)
	}
	return dir
}

// TestMissingLastPartCLI: after the last part of a chain is removed,
// analyze refuses naming it, status says the chain is damaged, and
// --resume is refused naming it without changing the manifest.
func TestMissingLastPartCLI(t *testing.T) {
	dir := writeA(t)
	last := dataset.PartName(0, 5)
	if err := os.Remove(filepath.Join(dir, last)); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "analyze", dir)
	if code == exitOK || !strings.Contains(errs, last) || !strings.Contains(errs, "missing") {
		t.Errorf("analyze: exit %d, stderr %q, stdout %q; want a failure naming %s as missing", code, errs, out, last)
	}
	st := statusJSON(t, dir)
	c := wantChain(t, st, 0, stateDamaged, 500)
	if !strings.Contains(c.Problem, last) || st.Damaged != 1 {
		t.Errorf("status: got %+v, want chain 0 damaged naming %s", st, last)
	}
	if _, out, _ := runCLI(t, "status", dir); !strings.Contains(out, "chain 0 is damaged") || strings.Contains(out, "continue it with --resume") {
		t.Errorf("status text: got\n%s\nwant chain 0 damaged, without advice to resume", out)
	}
	manifest := filepath.Join(dir, dataset.ChecksumName(0))
	before, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCLI(t, hmcA(dir, "--resume")...)
	if code == exitOK || !strings.Contains(errs, last) || !strings.Contains(errs, "damaged") {
		t.Errorf("--resume: exit %d, stderr %q; want a refusal naming %s", code, errs, last)
	}
	if after, _ := os.ReadFile(manifest); string(after) != string(before) {
		t.Errorf("the refused --resume changed the manifest:\n%s\nwas\n%s", after, before)
	}
}

// TestStatusCorruptPart: one changed byte in a count of a part's footer
// metadata (as in issue 19, where a row count gave "3010 of 3000 steps,
// stale") makes status say corrupt, naming the part.
func TestStatusCorruptPart(t *testing.T) {
	dir := writeA(t)
	path := filepath.Join(dir, dataset.PartName(0, 2))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The value of latflow.part.rows, "100", in the footer: the last
	// flatbuffer string "100" (length 3, the digits, a NUL) of the file.
	at := strings.LastIndex(string(b), "\x03\x00\x00\x00100\x00")
	if at < 0 || at < len(b)-4096 {
		t.Fatalf("no string 100 in the footer of %s", path)
	}
	b[at+4] = '2' // 200 rows
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	st := statusJSON(t, dir)
	c := wantChain(t, st, 0, stateCorrupt, 500)
	if !strings.Contains(c.Problem, dataset.PartName(0, 2)) || st.Corrupt != 1 || st.Complete != 0 {
		t.Errorf("status: got %+v, want chain 0 corrupt naming %s", st, dataset.PartName(0, 2))
	}
}

// TestHMCNoWriteThroughSymlink: a checksum manifest in --out that is a
// symbolic link makes hmc fail naming it, and the file it points to is not
// appended to.
func TestHMCNoWriteThroughSymlink(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "A")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(victim, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, dataset.ChecksumName(0))); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, hmcA(dir)...)
	if code == exitOK || !strings.Contains(errs, dataset.ChecksumName(0)) || !strings.Contains(errs, "symbolic link") {
		t.Errorf("hmc: exit %d, stderr %q; want a failure naming the symlinked manifest", code, errs)
	}
	if b, _ := os.ReadFile(victim); string(b) != "mine\n" {
		t.Errorf("hmc wrote through the link: %q", b)
	}
}

// TestAnalyzeSymlinkedParts: analyze reads a directory of symbolic links to
// the parts of a dataset as that dataset.
func TestAnalyzeSymlinkedParts(t *testing.T) {
	dir := writeA(t)
	links := filepath.Join(t.TempDir(), "links")
	if err := os.Mkdir(links, 0o755); err != nil {
		t.Fatal(err)
	}
	parts, _ := filepath.Glob(filepath.Join(dir, "part-*.arrow"))
	for _, p := range parts {
		if err := os.Symlink(p, filepath.Join(links, filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	code, want, errs := runCLI(t, "analyze", dir, "--json")
	if code != exitOK {
		t.Fatalf("analyze of the dataset: exit %d: %s", code, errs)
	}
	code, got, errs := runCLI(t, "analyze", links, "--json")
	if code != exitOK || got != want {
		t.Errorf("analyze of the links: exit %d, stderr %q, stdout\n%s\nwant the output for the dataset\n%s", code, errs, got, want)
	}
}

// TestPartRowsNeedsOut: --part-rows without --out is refused like
// --save-every, for hmc and sample.
func TestPartRowsNeedsOut(t *testing.T) {
	for _, cmd := range []string{"hmc", "sample"} {
		code, _, errs := runCLI(t, cmd, "-L", "8", "--n", "10", "--part-rows", "5")
		if code != exitUsage || !strings.Contains(errs, "--part-rows") || !strings.Contains(errs, "--out") {
			t.Errorf("%s --part-rows without --out: exit %d, stderr %q; want exit %d naming --part-rows and --out", cmd, code, errs, exitUsage)
		}
	}
}

// TestSlurmTaskChainIDs: with SLURM_ARRAY_TASK_ID set, hmc says on stderr
// which chain ids it uses, and writes those.
func TestSlurmTaskChainIDs(t *testing.T) {
	t.Setenv(envSlurmTask, "3")
	dir := filepath.Join(t.TempDir(), "ds")
	code, _, errs := runCLI(t, "hmc", "-L", "4", "--n", "20", "--therm", "5", "--chains", "2", "--chain-offset", "1", "--out", dir)
	if code != exitOK {
		t.Fatalf("hmc: exit %d: %s", code, errs)
	}
	if want := "SLURM_ARRAY_TASK_ID=3: chain ids 7 to 8"; !strings.Contains(errs, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errs)
	}
	ds, err := dataset.Open(dir)
	if err != nil || len(ds.Chains) != 2 || ds.Chains[0].ID != 7 || ds.Chains[1].ID != 8 {
		t.Errorf("dataset: got %v, %v; want chains 7 and 8", ds, err)
	}
}

// TestDiskFullMessage: an error of a full disk (ENOSPC) says that the
// complete parts and checkpoints are kept and that --resume continues;
// other errors and runs without --out are left alone.
func TestDiskFullMessage(t *testing.T) {
	full := fmt.Errorf("chain 0: %w", &os.PathError{Op: "write", Path: "A/.part-c0000-00001.arrow.1-2.tmp", Err: syscall.ENOSPC})
	err := diskFull(full, "A")
	for _, want := range []string{"no space left on device", "complete parts and the checkpoints in A are kept", "--resume"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to contain %q", err, want)
		}
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("the message does not wrap ENOSPC")
	}
	if other := errors.New("boom"); diskFull(other, "A") != other {
		t.Errorf("another error was changed")
	}
	if diskFull(full, "") != full {
		t.Errorf("a run without --out was told about its dataset")
	}
}

// TestDiskFull runs hmc into a 400 KiB tmpfs (root only; skipped
// elsewhere): it fails with the full-disk message, exit 1, and the same
// command with --resume in a copy with space continues to the parts of an
// uninterrupted run, byte for byte.
func TestDiskFull(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { _ = exec.Command("umount", mnt).Run() })
	dir := filepath.Join(mnt, "A")
	code, _, errs := runCLI(t, hmcA(dir)...)
	if code != exitFailed || !strings.Contains(errs, "no space left on device") || !strings.Contains(errs, "are kept") ||
		!strings.Contains(errs, "--resume") {
		t.Fatalf("hmc on a full disk: exit %d, stderr %q; want exit %d and the full-disk message", code, errs, exitFailed)
	}
	cp := filepath.Join(t.TempDir(), "A")
	if out, err := exec.Command("cp", "-a", dir, cp).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	if code, _, errs := runCLI(t, hmcA(cp, "--resume")...); code != exitOK {
		t.Fatalf("--resume after freeing space: exit %d: %s", code, errs)
	}
	ref := writeA(t)
	// The rows bit for bit; the part files differ in their wall time
	// (dataset.KeyPartSeconds) only.
	for k := range 6 {
		if _, err := os.Stat(filepath.Join(cp, dataset.PartName(0, k))); err != nil {
			t.Errorf("after --resume: %v", err)
		}
	}
	sameDataset(t, cp, ref)
}

// TestConcurrentResume starts two `sample --resume` of one dataset at the
// same time, a few times: the loser says that another process holds the
// chain, never that the chain and its checkpoint disagree (issue 19: "chain
// 1 has 2000 rows, its checkpoint 2200", which reads like corruption; the
// loser had read the checkpoint before the winner took the chain's lock).
func TestConcurrentResume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ds")
	args := []string{"sample", "--theory", "phi4", "-L", "8", "--batch", "32", "--part-rows", "100", "--out", dir}
	if code, _, errs := runCLI(t, append(args, "--n", "3000")...); code != exitOK {
		t.Fatalf("sample: exit %d: %s", code, errs)
	}
	long := append(args, "--n", "10000000", "--resume")
	for trial := range 4 {
		var cmds [2]*exec.Cmd
		var errs [2]strings.Builder
		done := make(chan int, 2)
		for i := range cmds {
			cmds[i] = childLatflow(t, long...)
			cmds[i].Stderr = &errs[i]
			if err := cmds[i].Start(); err != nil {
				t.Fatal(err)
			}
		}
		for i := range cmds {
			go func(i int) { _ = cmds[i].Wait(); done <- i }(i)
		}
		var loser int
		select {
		case loser = <-done:
		case <-time.After(60 * time.Second):
			t.Fatal("neither run stopped within 60 s")
		}
		winner := 1 - loser
		_ = cmds[winner].Process.Signal(os.Interrupt)
		<-done
		msg := lastLine(errs[loser].String())
		if !strings.Contains(msg, "another process holds chain 0") || !strings.Contains(msg, fmt.Sprintf("pid %d", cmds[winner].Process.Pid)) {
			t.Errorf("trial %d: the loser says %q; want that another process (pid %d) holds chain 0", trial, msg, cmds[winner].Process.Pid)
		}
	}
}
