package dataset

import (
	"strings"
	"testing"
)

// TestCheck builds the datasets that Dataset.Check refuses, and checks that
// Open names the chains or parts, and that OpenOptions.SkipChecks reads
// them raw.
func TestCheck(t *testing.T) {
	spec := func(chain int, seed uint64) Spec {
		s := testSpec("u1", 4, chain)
		s.Meta.Seed = seed
		return s
	}
	for _, tc := range []struct {
		name string
		dirs func(t *testing.T) []string
		want func(dirs []string) []string
	}{
		{"same_seed_and_chain", func(t *testing.T) []string {
			a, b := t.TempDir(), t.TempDir()
			writeRows(t, a, spec(0, 1), WriterOptions{}, testRows(spec(0, 1), 0, 20, 0, 1))
			writeRows(t, b, spec(0, 1), WriterOptions{}, testRows(spec(0, 1), 0, 20, 0, 1))
			return []string{a, b}
		}, func(dirs []string) []string {
			return []string{"chain 0 of " + dirs[0], "chain 0 of " + dirs[1], "same seed 1", "not independent replicas"}
		}},
		{"mixed_seeds", func(t *testing.T) []string {
			a := t.TempDir()
			writeRows(t, a, spec(2, 1), WriterOptions{RowsPerPart: 10}, testRows(spec(2, 1), 0, 10, 0, 1))
			writeRows(t, a, spec(2, 5), WriterOptions{RowsPerPart: 10, FirstPart: 1}, testRows(spec(2, 5), 10, 10, 0, 2))
			return []string{a}
		}, func(dirs []string) []string {
			return []string{"chain 2 of " + dirs[0] + " mixes seeds", PartName(2, 0) + " has seed 1", PartName(2, 1) + " has seed 5"}
		}},
		{"gap", func(t *testing.T) []string {
			a := t.TempDir()
			writeRows(t, a, spec(0, 1), WriterOptions{RowsPerPart: 10}, testRows(spec(0, 1), 0, 10, 0, 1))
			writeRows(t, a, spec(0, 1), WriterOptions{RowsPerPart: 10, FirstPart: 1}, testRows(spec(0, 1), 20, 10, 0, 2))
			return []string{a}
		}, func(dirs []string) []string {
			return []string{"chain 0 of " + dirs[0] + " has a gap", "steps 10 to 19", PartName(0, 0), PartName(0, 1)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dirs := tc.dirs(t)
			_, err := Open(dirs...)
			if err == nil {
				t.Fatal("got no error, want one")
			}
			for _, want := range tc.want(dirs) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got %q, want it to contain %q", err, want)
				}
			}
			ds, err := OpenWith(OpenOptions{SkipChecks: true}, dirs...)
			if err != nil {
				t.Fatalf("Open with SkipChecks: %v", err)
			}
			if err := ds.Check(); err == nil {
				t.Errorf("Check of the dataset opened with SkipChecks: got nil, want the error")
			}
		})
	}
}

// TestCheckPasses checks the datasets that Dataset.Check accepts: the same
// chain id with different seeds in two directories (independent replicas),
// different chain ids with the same seed, and a chain that starts at a step
// other than 0.
func TestCheckPasses(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	s0 := testSpec("u1", 4, 0)
	s1 := testSpec("u1", 4, 1)
	s1.Meta.Seed = s0.Meta.Seed
	r0 := testSpec("u1", 4, 0)
	r0.Meta.Seed = 99
	writeRows(t, a, s0, WriterOptions{RowsPerPart: 7}, testRows(s0, 100, 30, 0, 1))
	writeRows(t, a, s1, WriterOptions{RowsPerPart: 7}, testRows(s1, 0, 30, 0, 2))
	writeRows(t, b, r0, WriterOptions{RowsPerPart: 7}, testRows(r0, 0, 30, 0, 3))
	ds, err := Open(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Chains) != 3 {
		t.Errorf("got %d chains, want 3", len(ds.Chains))
	}
}
