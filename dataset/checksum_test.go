package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChecksumManifest checks that the manifest holds the SHA-256 of every
// part in the format of sha256sum.
func TestChecksumManifest(t *testing.T) {
	dir := t.TempDir()
	spec := testSpec("u1", 4, 3)
	writeRows(t, dir, spec, WriterOptions{RowsPerPart: 10}, testRows(spec, 0, 25, 5, 1))
	b, err := os.ReadFile(filepath.Join(dir, ChecksumName(3)))
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for k := range 3 {
		data, err := os.ReadFile(filepath.Join(dir, PartName(3, k)))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		want.WriteString(hex.EncodeToString(sum[:]) + "  " + PartName(3, k) + "\n")
	}
	if string(b) != want.String() {
		t.Errorf("manifest: got\n%s\nwant\n%s", b, want.String())
	}
}

// flipByte inverts one byte of a file.
func flipByte(t *testing.T, path string, at int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[at] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestChecksumMismatch changes an action value inside a part, as a flipped
// bit on disk would: Open refuses the part by name, and reads it (changed)
// with OpenOptions.SkipChecksums.
func TestChecksumMismatch(t *testing.T) {
	for _, format := range []int{FormatVersion1, FormatVersion2} {
		t.Run(fmt.Sprintf("format=%d", format), func(t *testing.T) {
			dir := t.TempDir()
			spec := testSpec("u1", 4, 3)
			rows := testRows(spec, 0, 25, 5, 1)
			writeRows(t, dir, spec, WriterOptions{RowsPerPart: 10, Format: format}, rows)
			path := filepath.Join(dir, PartName(3, 1))
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// The last byte of the action of row 12 (little endian: the
			// sign and exponent), found by its bits.
			var bits [8]byte
			for k := range bits {
				bits[k] = byte(math.Float64bits(rows[12].Action) >> (8 * k))
			}
			at := strings.Index(string(data), string(bits[:]))
			if at < 0 {
				t.Fatal("action of row 12 not found in the part")
			}
			flipByte(t, path, int64(at+7))

			_, err = Open(dir)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "checksum mismatch") {
				t.Fatalf("Open of a changed part: got %v, want a checksum mismatch naming %s", err, path)
			}
			ds, err := OpenWith(OpenOptions{SkipChecksums: true}, dir)
			if err != nil {
				t.Fatalf("Open with SkipChecksums: %v", err)
			}
			if got := ds.Chains[0].Action[12]; got == rows[12].Action {
				t.Errorf("action 12 with SkipChecksums: got %v unchanged, want the changed value", got)
			}
		})
	}
}

// TestMissingChecksum removes the manifest: a format 2 part without a
// checksum is refused, by name, unless OpenOptions.SkipChecksums.
func TestMissingChecksum(t *testing.T) {
	dir := t.TempDir()
	spec := testSpec("phi4", 4, 1)
	writeRows(t, dir, spec, WriterOptions{}, testRows(spec, 0, 5, 0, 1))
	if err := os.Remove(filepath.Join(dir, ChecksumName(1))); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir)
	if err == nil || !strings.Contains(err.Error(), PartName(1, 0)) || !strings.Contains(err.Error(), "no checksum") {
		t.Fatalf("Open without a manifest: got %v, want a missing checksum error naming %s", err, PartName(1, 0))
	}
	if _, err := OpenWith(OpenOptions{SkipChecksums: true}, dir); err != nil {
		t.Errorf("Open with SkipChecksums: %v", err)
	}
}

// TestChecksumAfterCrash leaves the directory as crashes leave it: a line
// for a part that was never renamed into place, its temporary file, then
// half a line. The resumed writer rewrites that part, and every part
// verifies.
func TestChecksumAfterCrash(t *testing.T) {
	dir := t.TempDir()
	spec := testSpec("u1", 4, 0)
	rows := testRows(spec, 0, 30, 5, 1)
	writeRows(t, dir, spec, WriterOptions{RowsPerPart: 10}, rows[:10])
	f, err := os.OpenFile(filepath.Join(dir, ChecksumName(0)), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(strings.Repeat("ab", 32) + "  " + PartName(0, 1) + "\n" + "0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.WriteFile(filepath.Join(dir, tempName(PartName(0, 1))), []byte("ARROW1"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatalf("Open after the crash: %v", err)
	}
	writeRows(t, dir, spec, WriterOptions{RowsPerPart: 10, FirstPart: 1}, rows[10:])
	ds, err := OpenWith(OpenOptions{Configs: true}, dir)
	if err != nil {
		t.Fatalf("Open after the resumed run: %v", err)
	}
	checkChain(t, ds.Chains[0], spec, rows)
	b, _ := os.ReadFile(filepath.Join(dir, ChecksumName(0)))
	if n := strings.Count(string(b), "\n"); n != 4 || !strings.HasSuffix(string(b), "\n") {
		t.Errorf("manifest: got %d lines\n%s\nwant 4 complete lines (parts 0, 1 stale, 1, 2)", n, b)
	}
}

// TestFormat1Golden reads parts written by format 1 writers (latflow
// f7ad7f9, before format 2, without checksums) and compares them bit for bit
// with the rows they were written from.
func TestFormat1Golden(t *testing.T) {
	for _, tc := range []struct {
		dir       string
		spec      Spec
		rows      []Row
		wantParts int
	}{
		{"testdata/format1/u1", testSpec("u1", 4, 2), testRows(testSpec("u1", 4, 2), 0, 25, 5, 42), 3},
		{"testdata/format1/phi4", noConfig(testSpec("phi4", 4, 0)), testRows(noConfig(testSpec("phi4", 4, 0)), 0, 15, 0, 43), 2},
	} {
		t.Run(filepath.Base(tc.dir), func(t *testing.T) {
			ds, err := OpenWith(OpenOptions{Configs: true}, tc.dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds.Chains) != 1 || len(ds.Chains[0].Parts) != tc.wantParts {
				t.Fatalf("got %d chains, want 1 with %d parts", len(ds.Chains), tc.wantParts)
			}
			for _, p := range ds.Chains[0].PartInfos {
				if p.Format != FormatVersion1 || p.Checksum {
					t.Errorf("%s: got format %d, checksum %v; want 1, false", p.Path, p.Format, p.Checksum)
				}
			}
			if ds.ConfigName != tc.spec.ConfigName || ds.ConfigSize != tc.spec.ConfigSize {
				t.Errorf("configuration: got %s[%d], want %s[%d]", ds.ConfigName, ds.ConfigSize, tc.spec.ConfigName, tc.spec.ConfigSize)
			}
			checkChain(t, ds.Chains[0], tc.spec, tc.rows)
		})
	}
}

// noConfig returns s without a configuration column.
func noConfig(s Spec) Spec {
	s.ConfigName, s.ConfigSize = "", 0
	return s
}
