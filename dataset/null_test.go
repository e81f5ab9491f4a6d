package dataset

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// TestNullObservables writes rows whose second observable has no value on
// every third step (Row.Null) and checks that format 2 stores them as Arrow
// nulls, format 1 as NaN, and that Open reads both as NaN with the other
// values intact.
func TestNullObservables(t *testing.T) {
	for _, format := range []int{FormatVersion1, FormatVersion2} {
		t.Run(fmt.Sprintf("format=%d", format), func(t *testing.T) {
			dir := t.TempDir()
			spec := testSpec("u1", 4, 1)
			rows := testRows(spec, 0, 30, 0, 2)
			nulls := 0
			for i := range rows {
				if i%3 == 0 {
					rows[i].Null = []bool{false, true}
					nulls++
				}
			}
			writeRows(t, dir, spec, WriterOptions{Format: format, RowsPerPart: 100}, rows)

			f, err := os.Open(filepath.Join(dir, PartName(1, 0)))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := ipc.NewFileReader(f)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			rec, err := r.RecordBatch(0)
			if err != nil {
				t.Fatal(err)
			}
			at := numFixed + 1
			if format == FormatVersion2 {
				at += 2 + len(spec.Meta.Couplings)
			}
			if got, want := rec.ColumnName(at), spec.Observables[1]; got != want {
				t.Fatalf("column %d is %s, want %s", at, got, want)
			}
			wantNulls := nulls
			if format == FormatVersion1 {
				wantNulls = 0
			}
			if got := rec.Column(at).NullN(); got != wantNulls {
				t.Errorf("Arrow nulls in %s: got %d, want %d", spec.Observables[1], got, wantNulls)
			}
			if got := rec.Column(at - 1).NullN(); got != 0 {
				t.Errorf("Arrow nulls in %s: got %d, want 0", spec.Observables[0], got)
			}

			ds, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			c := ds.Chains[0]
			for i, row := range rows {
				if got := c.Obs[spec.Observables[0]][i]; got != row.Obs[0] {
					t.Errorf("row %d: %s = %v, want %v", i, spec.Observables[0], got, row.Obs[0])
				}
				got, want := c.Obs[spec.Observables[1]][i], row.Obs[1]
				if row.Null != nil {
					want = math.NaN()
				}
				if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
					t.Errorf("row %d: %s = %v, want %v", i, spec.Observables[1], got, want)
				}
			}
		})
	}
}
