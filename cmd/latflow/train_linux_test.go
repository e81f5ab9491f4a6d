//go:build linux

package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// smallTmpfs mounts a tmpfs of 1 MiB on a fresh directory and returns it;
// it skips the test where mounting is not allowed (not root, no
// CAP_SYS_ADMIN).
func smallTmpfs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes a file into dir until the filesystem is full and returns its
// path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return p
		}
	}
}

// TestTrainNoSpace: on a full disk train says that the checkpoint is kept
// and that --resume continues; after space is freed --resume does, and
// the model equals an uninterrupted run's bit for bit (issue 19, C.13).
func TestTrainNoSpace(t *testing.T) {
	ref := filepath.Join(t.TempDir(), "ref.flow")
	if code, _, errs := runCLI(t, trainArgs(ref, "--steps", "6", "--checkpoint-every", "0")...); code != exitOK {
		t.Fatalf("reference: exit %d: %s", code, errs)
	}
	dir := smallTmpfs(t)
	out := filepath.Join(dir, "o.flow")
	args := trainArgs(out, "--steps", "6", "--checkpoint-every", "4")
	if code, _, errs := runCLI(t, args...); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// As if stopped after the checkpoint of step 4.
	if err := os.Remove(out); err != nil {
		t.Fatal(err)
	}
	filler := fill(t, dir)
	code, _, errs := runCLI(t, append(args, "--resume")...)
	for _, want := range []string{"no space left on device", "checkpoint " + out + ".ckpt (step 4) is kept", "continue with --resume"} {
		if code != exitFailed || !strings.Contains(errs, want) {
			t.Errorf("full disk: exit %d, stderr %q, want %d and %q", code, errs, exitFailed, want)
		}
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, append(args, "--resume")...); code != exitOK {
		t.Fatalf("--resume after freeing space: exit %d: %s", code, errs)
	}
	if !sameBits(loadParams(t, out), loadParams(t, ref)) {
		t.Error("model after a full disk and --resume differs from the uninterrupted run, want bit-identical")
	}
}
