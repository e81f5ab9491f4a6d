package dataset

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// partBytes writes a one-part chain of format and returns the bytes of the
// part.
func partBytes(t testing.TB, format int, labels []string, float32 bool, rows, saveEvery int) []byte {
	t.Helper()
	dir := t.TempDir()
	spec := testSpec("u1", 2, 0)
	spec.Labels, spec.ConfigFloat32 = labels, float32
	writeRows(t, dir, spec, WriterOptions{Format: format}, testRows(spec, 0, rows, saveEvery, 1))
	b, err := os.ReadFile(filepath.Join(dir, PartName(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkDecode checks that decodePart of data either succeeds or fails with
// a one-line error naming the file, and never panics.
func checkDecode(t *testing.T, what string, data []byte) (*part, error) {
	t.Helper()
	const name = "part-c0000-00000.arrow"
	p, err := decodePart(name, data, true, memory.DefaultAllocator)
	if err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "dataset: "+name+": ") || strings.ContainsAny(msg, "\n\r") {
			t.Fatalf("%s: got error %q, want one line starting with \"dataset: %s: \"", what, msg, name)
		}
	}
	return p, err
}

// FuzzDecodePart feeds arbitrary bytes to the part decoder: it must return
// an error naming the file, never panic. Run with
//
//	go test -fuzz=FuzzDecodePart ./dataset/
//
// The seed corpus (real parts of both formats, cut short) runs with go test.
func FuzzDecodePart(f *testing.F) {
	for _, b := range [][]byte{
		partBytes(f, FormatVersion2, []string{"update"}, false, 6, 2),
		partBytes(f, FormatVersion2, nil, true, 3, 1),
		partBytes(f, FormatVersion1, nil, false, 4, 2),
	} {
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(b[:len(b)-10])
	}
	f.Add([]byte("ARROW1\x00\x00ARROW1"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, "fuzz input", data)
	})
}

// TestBitFlips flips bits of a real part of format 2, one at a time: every
// bit of its last bitFlipTail bytes (the footer and the end of the record
// batch) and one bit of every other byte. The decoder alone never panics
// and names the file in every error (issue 11 item 10: 81 of 200 flips near
// the end panicked); with the checksum, every flip is an error (item 9: 14
// of 500 flips changed a number silently).
func TestBitFlips(t *testing.T) {
	const bitFlipTail = 512
	orig := partBytes(t, FormatVersion2, []string{"update"}, false, 4, 2)
	want, err := decodePart("orig", orig, true, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]checksum{PartName(0, 0): sha256.Sum256(orig)}
	data := make([]byte, len(orig))
	var flips, decodeErrors, silent int
	for bit := range 8 * len(orig) {
		if at := bit / 8; at < len(orig)-bitFlipTail && bit%8 != at%8 {
			continue
		}
		flips++
		copy(data, orig)
		data[bit/8] ^= 1 << (bit % 8)
		what := "bit " + strconv.Itoa(bit)
		if got, err := checkDecode(t, what, data); err != nil {
			decodeErrors++
		} else if !samePart(got, want) {
			silent++
		}
		if _, err := verifyChecksum(PartName(0, 0), data, sums); err == nil || !strings.Contains(err.Error(), PartName(0, 0)) {
			t.Fatalf("%s: checksum: got %v, want a mismatch naming %s", what, err, PartName(0, 0))
		}
	}
	t.Logf("%d flips in a part of %d bytes: %d decoder errors, %d changed values silently without the checksum, all caught by it",
		flips, len(orig), decodeErrors, silent)
}

// samePart reports whether two decoded parts hold the same values.
func samePart(a, b *part) bool {
	eq := func(x, y []float64) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] && (x[i] == x[i] || y[i] == y[i]) {
				return false
			}
		}
		return true
	}
	if len(a.steps) != len(b.steps) || !eq(a.action, b.action) || !eq(a.configs, b.configs) ||
		len(a.configSteps) != len(b.configSteps) || a.spec.Meta.Seed != b.spec.Meta.Seed ||
		a.spec.Meta.Couplings["beta"] != b.spec.Meta.Couplings["beta"] {
		return false
	}
	for i := range a.steps {
		if a.steps[i] != b.steps[i] || a.accepted[i] != b.accepted[i] {
			return false
		}
	}
	for k := range a.obs {
		if !eq(a.obs[k], b.obs[k]) {
			return false
		}
	}
	for k := range a.labels {
		for i := range a.labels[k] {
			if a.labels[k][i] != b.labels[k][i] {
				return false
			}
		}
	}
	return true
}
