package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenMissingLastPart: a part that the checksum manifest lists and the
// directory lacks is refused by name, also the last part of a chain (a
// missing middle part was refused as a gap before); Inspect lists it in
// Missing.
func TestOpenMissingLastPart(t *testing.T) {
	for _, k := range []int{2, 1} { // the last part, a middle part
		dir := t.TempDir()
		spec := testSpec("u1", 4, 0)
		writeRows(t, dir, spec, WriterOptions{RowsPerPart: 10}, testRows(spec, 0, 30, 5, 1))
		if err := os.Remove(filepath.Join(dir, PartName(0, k))); err != nil {
			t.Fatal(err)
		}
		_, err := Open(dir)
		if err == nil || !strings.Contains(err.Error(), PartName(0, k)) || !strings.Contains(err.Error(), "missing") {
			t.Errorf("part %d removed: Open got %v, want an error naming %s as missing", k, err, PartName(0, k))
		}
		chains, err := Inspect(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(chains) != 1 || len(chains[0].Missing) != 1 || chains[0].Missing[0] != PartName(0, k) {
			t.Errorf("part %d removed: Inspect got %+v, want Missing [%s]", k, chains, PartName(0, k))
		}
		if _, err := OpenWith(OpenOptions{SkipChecksums: true, SkipChecks: true}, dir); err != nil {
			t.Errorf("part %d removed: Open with SkipChecksums: %v", k, err)
		}
	}
}

// TestRemovePartsFromKeepsMissingLines: RemovePartsFrom drops the manifest
// lines of the parts it removes, and keeps the line of a lower part that is
// missing, so that the damage stays visible; it rewrites nothing when it
// removes nothing.
func TestRemovePartsFromKeepsMissingLines(t *testing.T) {
	dir := t.TempDir()
	spec := testSpec("u1", 4, 0)
	writeRows(t, dir, spec, WriterOptions{RowsPerPart: 10}, testRows(spec, 0, 40, 5, 1))
	if err := os.Remove(filepath.Join(dir, PartName(0, 1))); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, ChecksumName(0))
	before, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := RemovePartsFrom(dir, 0, 4); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(manifest); string(after) != string(before) {
		t.Errorf("RemovePartsFrom beyond the last part changed the manifest:\n%s\nwas\n%s", after, before)
	}
	if err := RemovePartsFrom(dir, 0, 3); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(manifest)
	for k, want := range []bool{true, true, true, false} {
		if got := strings.Contains(string(after), PartName(0, k)); got != want {
			t.Errorf("manifest after RemovePartsFrom(3): line of part %d present %v, want %v:\n%s", k, got, want, after)
		}
	}
}

// TestNoWritesThroughSymlinks: a checksum manifest or a lock file that is a
// symbolic link inside the directory is refused by Create, naming it, and
// the file it points to is left as it was.
func TestNoWritesThroughSymlinks(t *testing.T) {
	for _, name := range []string{ChecksumName(0), lockName(0)} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ds")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			victim := filepath.Join(t.TempDir(), "victim")
			const content = "not latflow's\n"
			if err := os.WriteFile(victim, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(victim, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			spec := testSpec("u1", 4, 0)
			w, err := Create(dir, spec, WriterOptions{RowsPerPart: 10})
			if err == nil {
				for _, r := range testRows(spec, 0, 20, 0, 1) {
					w.Append(r)
				}
				w.Close()
				t.Errorf("Create with %s a symbolic link: got no error", name)
			} else if !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "symbolic link") {
				t.Errorf("Create: got %v, want an error naming %s as a symbolic link", err, name)
			}
			if b, _ := os.ReadFile(victim); string(b) != content {
				t.Errorf("the file %s points to was changed: got %q, want %q", name, b, content)
			}
			if err := RemovePartsFrom(dir, 0, 0); err == nil && name == lockName(0) {
				t.Errorf("RemovePartsFrom with a symlinked lock: got no error")
			}
			if b, _ := os.ReadFile(victim); string(b) != content {
				t.Errorf("RemovePartsFrom changed the file %s points to: got %q", name, b)
			}
		})
	}
}

// TestReadThroughSymlinks: a directory of symbolic links to the parts of
// another reads as that dataset, verified against the manifest beside the
// parts; a dangling link is an error naming it.
func TestReadThroughSymlinks(t *testing.T) {
	src := t.TempDir()
	spec := testSpec("u1", 4, 0)
	rows := testRows(spec, 0, 30, 5, 1)
	writeRows(t, src, spec, WriterOptions{RowsPerPart: 10}, rows)
	links := t.TempDir()
	for k := range 3 {
		if err := os.Symlink(filepath.Join(src, PartName(0, k)), filepath.Join(links, PartName(0, k))); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := OpenWith(OpenOptions{Configs: true}, links)
	if err != nil {
		t.Fatalf("Open of a directory of links: %v", err)
	}
	checkChain(t, ds.Chains[0], spec, rows)
	for _, p := range ds.Chains[0].PartInfos {
		if !p.Checksum {
			t.Errorf("%s: read without verifying its checksum", p.Path)
		}
	}
	chains, err := Inspect(links)
	if err != nil || len(chains) != 1 || chains[0].Rows != 30 || len(chains[0].Corrupt) != 0 {
		t.Errorf("Inspect of a directory of links: got %+v, %v; want one chain of 30 rows", chains, err)
	}

	flipByte(t, filepath.Join(src, PartName(0, 1)), 2000)
	if _, err := Open(links); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("a link to a damaged part: got %v, want a checksum mismatch", err)
	}
	flipByte(t, filepath.Join(src, PartName(0, 1)), 2000) // back
	if err := os.Remove(filepath.Join(src, PartName(0, 2))); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(links); err == nil || !strings.Contains(err.Error(), PartName(0, 2)) {
		t.Errorf("a dangling link: got %v, want an error naming %s", err, PartName(0, 2))
	}
}

// TestLockChainHandover: a lock taken with LockChain passes to the Writer,
// which releases it on Close; while it is held, a second LockChain says
// that another writer holds the chain.
func TestLockChainHandover(t *testing.T) {
	dir := t.TempDir()
	spec := testSpec("u1", 4, 0)
	l, err := LockChain(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockChain(dir, 0); err == nil || !strings.Contains(err.Error(), "holds chain 0") {
		t.Errorf("second LockChain: got %v, want an error saying another writer holds chain 0", err)
	}
	if _, err := Create(dir, spec, WriterOptions{Lock: &ChainLock{}}); err == nil {
		t.Error("Create with a lock that is not held: got no error")
	}
	w, err := Create(dir, spec, WriterOptions{Lock: l, RowsPerPart: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range testRows(spec, 0, 15, 0, 1) {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := LockChain(dir, 0)
	if err != nil {
		t.Fatalf("LockChain after Close: %v", err)
	}
	l2.Unlock()
	l2.Unlock() // again: a no-op
	if err := l2.RemovePartsFrom(0); err == nil {
		t.Error("RemovePartsFrom on a released lock: got no error")
	}
	if _, err := os.Stat(filepath.Join(dir, PartName(0, 1))); errors.Is(err, os.ErrNotExist) {
		t.Error("the writer did not write its second part")
	}
}
