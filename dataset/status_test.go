package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestInspect summarizes a directory of two chains of format 2 from the
// footers alone: it still works after the rows of a part were damaged
// (which Open refuses), so it does not read them. Format 1 parts are read
// whole.
func TestInspect(t *testing.T) {
	dir := t.TempDir()
	s0, s1 := testSpec("u1", 4, 0), testSpec("u1", 4, 1)
	writeRows(t, dir, s0, WriterOptions{RowsPerPart: 100}, testRows(s0, 0, 250, 10, 1))
	writeRows(t, dir, s1, WriterOptions{RowsPerPart: 100}, testRows(s1, 5, 40, 4, 2))
	damaged := filepath.Join(dir, PartName(0, 1))
	st, err := os.Stat(damaged)
	if err != nil {
		t.Fatal(err)
	}
	flipByte(t, damaged, st.Size()/2) // inside the record batch body
	if _, err := Open(dir); err == nil {
		t.Fatal("Open of a damaged part: got no error")
	}
	chains, err := Inspect(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(chains) > 0 && len(chains[0].Corrupt) > 0 {
		t.Errorf("Inspect of a part damaged inside its rows: got corrupt %q, want none (the rows are not read)", chains[0].Corrupt)
	}
	type summary struct {
		id, parts, nextPart     int
		rows, configs           int64
		firstStep, lastStep     int64
		partRows, partLastSteps []int64
	}
	var got []summary
	for _, c := range chains {
		s := summary{id: c.ID, parts: len(c.Parts), nextPart: c.NextPart, rows: c.Rows, configs: c.Configs,
			firstStep: c.FirstStep, lastStep: c.LastStep}
		for _, p := range c.Parts {
			s.partRows = append(s.partRows, int64(p.Rows))
			s.partLastSteps = append(s.partLastSteps, p.LastStep)
		}
		got = append(got, s)
	}
	want := []summary{
		{0, 3, 3, 250, 25, 0, 249, []int64{100, 100, 50}, []int64{99, 199, 249}},
		{1, 1, 1, 40, 10, 5, 44, []int64{40}, []int64{44}},
	}
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) || !equalSummary(got[i].partRows, want[i].partRows) ||
			!equalSummary(got[i].partLastSteps, want[i].partLastSteps) ||
			got[i].id != want[i].id || got[i].parts != want[i].parts || got[i].nextPart != want[i].nextPart ||
			got[i].rows != want[i].rows || got[i].configs != want[i].configs ||
			got[i].firstStep != want[i].firstStep || got[i].lastStep != want[i].lastStep {
			t.Fatalf("Inspect: got %+v, want %+v", got, want)
		}
	}

	golden, err := Inspect("testdata/format1/u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(golden) != 1 || golden[0].Rows != 25 || golden[0].LastStep != 24 || golden[0].Configs != 5 || golden[0].NextPart != 3 {
		t.Errorf("Inspect of format 1: got %+v, want one chain of 25 rows, last step 24, 5 configurations, next part 3", golden)
	}
}

func equalSummary(a, b []int64) bool { return slices.Equal(a, b) }

// TestRemovePartsFrom drops the last parts of a chain, as a resumed run
// whose checkpoint is older than them does, and writes them again.
func TestRemovePartsFrom(t *testing.T) {
	dir := t.TempDir()
	spec, other := testSpec("phi4", 4, 2), testSpec("phi4", 4, 3)
	rows := testRows(spec, 0, 50, 5, 1)
	writeRows(t, dir, spec, WriterOptions{RowsPerPart: 10}, rows)
	writeRows(t, dir, other, WriterOptions{RowsPerPart: 10}, testRows(other, 0, 20, 5, 2))

	if err := RemovePartsFrom(dir, 2, 2); err != nil {
		t.Fatal(err)
	}
	next, err := NextPart(dir, 2)
	if err != nil || next != 2 {
		t.Fatalf("NextPart after RemovePartsFrom(2): got %d %v, want 2", next, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, ChecksumName(2)))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 2 || strings.Contains(string(b), PartName(2, 2)) {
		t.Errorf("manifest after RemovePartsFrom: got\n%s\nwant the lines of parts 0 and 1", b)
	}
	ds, err := OpenWith(OpenOptions{Configs: true}, dir)
	if err != nil {
		t.Fatal(err)
	}
	checkChain(t, ds.Chains[0], spec, rows[:20])
	if got := len(ds.Chains[1].Steps); got != 20 {
		t.Errorf("chain 3: got %d rows, want 20 (untouched)", got)
	}

	// Removing beyond the last part is not an error and removes nothing.
	if err := RemovePartsFrom(dir, 2, 7); err != nil {
		t.Fatal(err)
	}
	writeRows(t, dir, spec, WriterOptions{RowsPerPart: 10, FirstPart: next}, rows[20:])
	if ds, err = OpenWith(OpenOptions{Configs: true}, dir); err != nil {
		t.Fatal(err)
	}
	checkChain(t, ds.Chains[0], spec, rows)
	if err := RemovePartsFrom(dir, 2, -1); err == nil {
		t.Error("RemovePartsFrom(-1): got no error")
	}
}

// TestInspectFlippedFooter flips every bit of the footer and of the schema
// message at the start of a part, one at a time: Inspect either reports the
// part corrupt, or the part still reads as the original (the bit was
// padding). Before Inspect checked the framing, flips of the part's row
// count, its steps or its column names passed as an intact chain.
func TestInspectFlippedFooter(t *testing.T) {
	dir := t.TempDir()
	spec := testSpec("u1", 4, 0)
	writeRows(t, dir, spec, WriterOptions{RowsPerPart: 20}, testRows(spec, 0, 40, 5, 1))
	path := filepath.Join(dir, PartName(0, 1))
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := OpenWith(OpenOptions{Configs: true, SkipChecksums: true}, dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := readLayout(f, int64(len(orig)))
	f.Close()
	if err != nil || len(l.blocks) != 1 {
		t.Fatalf("layout: got %+v, %v; want one record batch", l, err)
	}
	ranges := [][2]int64{{8, l.blocks[0].offset}, {l.footerStart, int64(len(orig))}} // schema message, footer
	flagged, passed, harmful := 0, 0, 0
	stride := int64(3) // every third byte, one bit of each (the bit rotates with the byte)
	if testing.Short() {
		stride = 7
	}
	for _, r := range ranges {
		for at := r[0]; at < r[1]; at += stride {
			for _, bit := range []int64{at % 8} {
				b := slices.Clone(orig)
				b[at] ^= 1 << bit
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
				chains, err := Inspect(dir)
				if err != nil {
					t.Fatalf("byte %d bit %d: Inspect: %v", at, bit, err)
				}
				if len(chains) == 1 && len(chains[0].Corrupt) > 0 {
					flagged++
					if !strings.Contains(chains[0].Corrupt[0], PartName(0, 1)) {
						t.Errorf("byte %d bit %d: got %q, want it to name %s", at, bit, chains[0].Corrupt[0], PartName(0, 1))
					}
					continue
				}
				passed++
				got, err := OpenWith(OpenOptions{Configs: true, SkipChecksums: true}, dir)
				if err != nil || !sameDataset(got, want) {
					harmful++
					if harmful <= 5 {
						t.Errorf("byte %d (of %d) bit %d: Inspect reports no corruption, but the part reads differently (%v)", at, len(orig), bit, err)
					}
				}
			}
		}
	}
	if harmful > 0 {
		t.Errorf("%d flips that change the part passed Inspect", harmful)
	}
	t.Logf("%d flips reported corrupt, %d harmless passed", flagged, passed)
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sameDataset reports whether two readings of a dataset agree in their
// metadata, columns and rows.
func sameDataset(a, b *Dataset) bool {
	if !reflect.DeepEqual(a.Meta, b.Meta) || !slices.Equal(a.Observables, b.Observables) || !slices.Equal(a.Labels, b.Labels) ||
		a.ConfigName != b.ConfigName || a.ConfigSize != b.ConfigSize || len(a.Chains) != len(b.Chains) {
		return false
	}
	for i := range a.Chains {
		x, y := a.Chains[i], b.Chains[i]
		x.PartInfos, y.PartInfos = nil, nil
		for k := range x.Parts {
			if x.Parts[k] != y.Parts[k] {
				return false
			}
		}
		if !reflect.DeepEqual(fmt.Sprint(x), fmt.Sprint(y)) {
			return false
		}
	}
	return true
}
