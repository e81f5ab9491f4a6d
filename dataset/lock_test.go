package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestSecondWriterRefused opens two writers of one chain in one process: the
// second is refused with a message naming the chain, the directory and the
// holder's pid, also for RemovePartsFrom; a writer of another chain of the
// directory is not. After Close and after Discard the chain is free again.
func TestSecondWriterRefused(t *testing.T) {
	dir := t.TempDir()
	spec := testSpec("u1", 4, 3)
	w, err := Create(dir, spec, WriterOptions{RowsPerPart: 10})
	if err != nil {
		t.Fatal(err)
	}
	wantLockError := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s while a writer of chain 3 is open: got no error, want a lock error", what)
		}
		for _, want := range []string{"chain 3", dir, "pid " + strconv.Itoa(os.Getpid()), "another writer"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: got %q, want it to contain %q", what, err, want)
			}
		}
	}
	w2, err := Create(dir, spec, WriterOptions{RowsPerPart: 10})
	if err == nil {
		w2.Discard()
	}
	wantLockError("Create", err)
	wantLockError("RemovePartsFrom", RemovePartsFrom(dir, 3, 0))

	other, err := Create(dir, testSpec("u1", 4, 4), WriterOptions{})
	if err != nil {
		t.Fatalf("Create of another chain of the directory: %v", err)
	}
	other.Discard()

	for _, r := range testRows(spec, 0, 15, 5, 1) {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	next, err := NextPart(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	w, err = Create(dir, spec, WriterOptions{FirstPart: next})
	if err != nil {
		t.Fatalf("Create after Close: %v", err)
	}
	w.Discard()
	if w, err = Create(dir, spec, WriterOptions{FirstPart: next}); err != nil {
		t.Fatalf("Create after Discard: %v", err)
	}
	w.Discard()
}

// TestCreateRace starts writers of one chain at the same moment: exactly one
// gets it.
func TestCreateRace(t *testing.T) {
	const n = 8
	dir := t.TempDir()
	spec := testSpec("phi4", 4, 0)
	var wg sync.WaitGroup
	writers := make([]*Writer, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			writers[i], errs[i] = Create(dir, spec, WriterOptions{})
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for i := range n {
		if errs[i] == nil {
			won++
			writers[i].Discard()
		} else if !strings.Contains(errs[i].Error(), "another ") {
			t.Errorf("writer %d: got %v, want a lock error", i, errs[i])
		}
	}
	if won != 1 {
		t.Errorf("got %d writers of one chain, want 1", won)
	}
}

// TestConcurrentChains writes several chains into one directory at once, a
// part per row, and reads every row back.
func TestConcurrentChains(t *testing.T) {
	const (
		chains = 6
		rows   = 40
	)
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, chains)
	for c := range chains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spec := testSpec("u1", 4, c)
			w, err := Create(dir, spec, WriterOptions{RowsPerPart: 1})
			if err != nil {
				errs[c] = err
				return
			}
			for _, r := range testRows(spec, 0, rows, 3, uint64(c)) {
				if err := w.Append(r); err != nil {
					errs[c] = err
					w.Discard()
					return
				}
			}
			errs[c] = w.Close()
		}()
	}
	wg.Wait()
	for c, err := range errs {
		if err != nil {
			t.Fatalf("chain %d: %v", c, err)
		}
	}
	ds, err := OpenWith(OpenOptions{Configs: true}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Chains) != chains {
		t.Fatalf("got %d chains, want %d", len(ds.Chains), chains)
	}
	for c, ch := range ds.Chains {
		spec := testSpec("u1", 4, c)
		checkChain(t, ch, spec, testRows(spec, 0, rows, 3, uint64(c)))
	}
	if tmp := tempFiles(t, dir); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

// TestNoReplace lets a lockless writer (WriterOptions.NoLock) write part 0
// of a chain while a locked writer of the chain has it buffered: the locked
// writer's part does not replace it, and its checksum line stays valid.
func TestNoReplace(t *testing.T) {
	dir := t.TempDir()
	spec := testSpec("u1", 4, 0)
	a, err := Create(dir, spec, WriterOptions{RowsPerPart: 10})
	if err != nil {
		t.Fatal(err)
	}
	rowsB := testRows(spec, 0, 10, 5, 2)
	writeRows(t, dir, spec, WriterOptions{RowsPerPart: 10, NoLock: true}, rowsB)
	for _, r := range testRows(spec, 0, 9, 5, 1) {
		if err := a.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	err = a.Close()
	if err == nil || !strings.Contains(err.Error(), PartName(0, 0)+" already exists") {
		t.Fatalf("Close: got %v, want an error saying %s already exists", err, PartName(0, 0))
	}
	ds, err := OpenWith(OpenOptions{Configs: true}, dir)
	if err != nil {
		t.Fatal(err)
	}
	checkChain(t, ds.Chains[0], spec, rowsB)
	if tmp := tempFiles(t, dir); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

// TestRenameNoReplace checks renameNoReplace and its portable fallback.
func TestRenameNoReplace(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rename func(oldpath, newpath string) error
	}{{"renameat2", renameNoReplace}, {"link", linkRename}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
			for path, content := range map[string]string{src: "new", dst: "old"} {
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := tc.rename(src, dst); !errors.Is(err, os.ErrExist) {
				t.Errorf("rename onto an existing file: got %v, want an error wrapping os.ErrExist", err)
			}
			if b, _ := os.ReadFile(dst); string(b) != "old" {
				t.Errorf("existing file: got %q, want \"old\"", b)
			}
			if err := os.Remove(dst); err != nil {
				t.Fatal(err)
			}
			if err := tc.rename(src, dst); err != nil {
				t.Fatalf("rename onto a free name: %v", err)
			}
			if b, _ := os.ReadFile(dst); string(b) != "new" {
				t.Errorf("renamed file: got %q, want \"new\"", b)
			}
			if _, err := os.Lstat(src); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("source after rename: got %v, want it gone", err)
			}
		})
	}
}

func TestTempNames(t *testing.T) {
	a, b := tempName(PartName(3, 12)), tempName(PartName(3, 12))
	if a == b {
		t.Errorf("two temporary names of one part: got %q twice, want different names", a)
	}
	prefix := "." + PartName(3, 12) + "." + strconv.Itoa(os.Getpid()) + "-"
	if !strings.HasPrefix(a, prefix) || !strings.HasSuffix(a, tmpSuffix) {
		t.Errorf("temporary name: got %q, want %s...%s", a, prefix, tmpSuffix)
	}
	for _, tc := range []struct {
		name  string
		chain int
		ok    bool
	}{
		{a, 3, true},
		{"." + PartName(3, 12) + ".tmp", 3, true}, // format 1 writers
		{tempName(ChecksumName(7)), 7, true},
		{PartName(3, 12), 0, false},
		{".lock-c0003", 0, false},
		{".other.tmp", 0, false},
	} {
		if c, ok := tempChain(tc.name); c != tc.chain || ok != tc.ok {
			t.Errorf("tempChain(%q): got %d %v, want %d %v", tc.name, c, ok, tc.chain, tc.ok)
		}
	}
}

// lockHolderEnv makes the test binary, run as a child by
// TestLockHeldByOtherProcess, hold the lock of chain 0 of the directory it
// names (see TestLockHolderProcess).
const lockHolderEnv = "LATFLOW_DATASET_LOCK_HOLDER"

// TestLockHolderProcess is the child process of TestLockHeldByOtherProcess:
// it opens a writer of chain 0 in $LATFLOW_DATASET_LOCK_HOLDER, writes a
// part, leaves a temporary file as a write cut short would, prints "ready"
// and waits to be killed.
func TestLockHolderProcess(t *testing.T) {
	dir := os.Getenv(lockHolderEnv)
	if dir == "" {
		t.Skip("run by TestLockHeldByOtherProcess")
	}
	spec := testSpec("u1", 4, 0)
	w, err := Create(dir, spec, WriterOptions{RowsPerPart: 10})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	for _, r := range testRows(spec, 0, 10, 5, 1) {
		if err := w.Append(r); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, tempName(PartName(0, 1))), []byte("ARROW1"), 0o644); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	time.Sleep(time.Minute)
	os.Exit(1)
}

// TestLockHeldByOtherProcess runs a writer of chain 0 in a child process:
// a writer of this process is refused with the child's pid; after the child
// is killed (SIGKILL), the kernel has released the lock, and the next writer
// resumes the chain and removes the child's temporary file.
func TestLockHeldByOtherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHolderProcess$")
	cmd.Env = append(os.Environ(), lockHolderEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("child: got %q (%v), want \"ready\"", line, err)
	}
	spec := testSpec("u1", 4, 0)
	_, err = Create(dir, spec, WriterOptions{FirstPart: 1})
	want := fmt.Sprintf("pid %d", cmd.Process.Pid)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "chain 0 of "+dir) {
		t.Fatalf("Create while another process writes the chain: got %v, want an error naming chain 0 of %s and %s", err, dir, want)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	w, err := Create(dir, spec, WriterOptions{FirstPart: 1})
	if err != nil {
		t.Fatalf("Create after the holder was killed: %v", err)
	}
	defer w.Discard()
	if tmp := tempFiles(t, dir); len(tmp) != 0 {
		t.Errorf("temporary files after Create: got %v, want none", tmp)
	}
}

// TestWriting checks the probe of a status command: no lock file, an open
// writer of this process, a closed writer, a writer in another process and
// the same process after SIGKILL (the lock file still names it, the lock
// is free, and a new writer can take it after the probe).
func TestWriting(t *testing.T) {
	dir := t.TempDir()
	check := func(name string, chain int, wantHeld bool, wantHolder string) {
		t.Helper()
		holder, held, err := Writing(dir, chain)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if held != wantHeld || !strings.Contains(holder, wantHolder) || (wantHolder == "" && holder != "") {
			t.Errorf("%s: got held %v, holder %q; want held %v, holder %q", name, held, holder, wantHeld, wantHolder)
		}
	}
	check("no lock file", 3, false, "")

	spec := testSpec("u1", 4, 3)
	w, err := Create(dir, spec, WriterOptions{RowsPerPart: 10})
	if err != nil {
		t.Fatal(err)
	}
	me := fmt.Sprintf("pid %d", os.Getpid())
	check("open writer", 3, true, me)
	check("open writer, twice", 3, true, me)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	check("closed writer", 3, false, "")

	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHolderProcess$")
	cmd.Env = append(os.Environ(), lockHolderEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
		t.Fatalf("child: got %q (%v), want \"ready\"", line, err)
	}
	child := fmt.Sprintf("pid %d", cmd.Process.Pid)
	check("writer in another process", 0, true, child)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	check("writer killed", 0, false, child)
	w, err = Create(dir, testSpec("u1", 4, 0), WriterOptions{FirstPart: 1})
	if err != nil {
		t.Fatalf("Create after the probe of a killed writer's lock: %v", err)
	}
	check("new writer", 0, true, me)
	w.Discard()
}
