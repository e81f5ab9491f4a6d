package sampler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"latflow/dataset"
	"latflow/observables"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// TestRunOneSchema writes datasets of hmc, imh and the mix, with and
// without saved configurations, and checks that their parts have the same
// columns and types (so that Polars concatenates them), that an update
// column is null exactly on the rows whose update has no value for it, and
// that the configuration column is null on the rows not saved.
func TestRunOneSchema(t *testing.T) {
	var first []arrow.Field
	var firstName string
	for _, kind := range []string{"hmc", "imh", "mixed"} {
		for _, save := range []int{7, 0} {
			name := fmt.Sprintf("%s/save-every=%d", kind, save)
			dir := filepath.Join(t.TempDir(), "ds")
			r := testRun(kind, dir, 30)
			r.Therm, r.Chains, r.SaveEvery = 2, 1, save
			if _, err := r.Start(context.Background()); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			rec, fields := readPart(t, filepath.Join(dir, dataset.PartName(2, 0)))
			if first == nil {
				first, firstName = fields, name
			} else if got, want := fieldsText(fields), fieldsText(first); got != want {
				t.Errorf("%s: columns\n%s\ndiffer from those of %s:\n%s", name, got, firstName, want)
			}
			col := func(c string) arrow.Array {
				for i, f := range fields {
					if f.Name == c {
						return rec.Column(i)
					}
				}
				t.Fatalf("%s: no column %s", name, c)
				return nil
			}
			upd := col(ColUpdate).(*array.String)
			for i := 0; i < int(rec.NumRows()); i++ {
				kindOf := upd.Value(i)
				for _, c := range DatasetColumns(nil) {
					want := !(Step{Kind: kindOf}).has(c)
					if got := col(c).IsNull(i); got != want {
						t.Errorf("%s: row %d (%s): %s null = %v, want %v", name, i, kindOf, c, got, want)
					}
				}
				cfg := col(r.Target.ConfigName())
				if got, want := cfg.IsNull(i), save == 0 || i%save != 0; got != want {
					t.Errorf("%s: row %d: configuration null = %v, want %v", name, i, got, want)
				}
			}
		}
	}
}

// readPart returns the record batch and fields of a part.
func readPart(t *testing.T, path string) (arrow.RecordBatch, []arrow.Field) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r, err := ipc.NewFileReader(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	rec, err := r.RecordBatch(0)
	if err != nil {
		t.Fatal(err)
	}
	return rec, r.Schema().Fields()
}

// fieldsText lists the names, types and nullability of fields.
func fieldsText(fields []arrow.Field) string {
	s := ""
	for _, f := range fields {
		s += fmt.Sprintf("  %s %s nullable=%v\n", f.Name, f.Type, f.Nullable)
	}
	return s
}

// TestRunAddsToOldLayout adds a chain to a directory whose parts have the
// layout written before every dataset had the same columns (the
// measurements and the update's own columns, no nulls): the new chain
// writes that layout, so that the directory stays one table and Open reads
// both chains.
func TestRunAddsToOldLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ds")
	r := testRun("hmc", dir, 30)
	r.Therm, r.Chains = 2, 1
	upd, err := r.NewUpdate(2)
	if err != nil {
		t.Fatal(err)
	}
	mcols, ucols := observables.NewMeasurer(r.Target).Columns(), upd.Columns()
	old := r.spec(2, mcols, ucols)
	old.Observables = append(append([]string(nil), mcols...), ucols...)
	w, err := dataset.Create(dir, old, dataset.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		obs := make([]float64, len(old.Observables))
		if err := w.Append(dataset.Row{Step: int64(i), Action: 1, Obs: obs, Labels: []string{KindHMC}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	r.FirstChain = 3
	if _, err := r.Start(context.Background()); err != nil {
		t.Fatalf("adding chain 3 to a directory of the old layout: %v", err)
	}
	_, oldFields := readPart(t, filepath.Join(dir, dataset.PartName(2, 0)))
	_, newFields := readPart(t, filepath.Join(dir, dataset.PartName(3, 0)))
	if got, want := fieldsText(newFields), fieldsText(oldFields); got != want {
		t.Errorf("columns of the added chain:\n%s\nwant those of the directory:\n%s", got, want)
	}
	ds, err := dataset.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Chains) != 2 || len(ds.Chains[1].Steps) != 30 {
		t.Errorf("got %d chains, want 2 with 30 rows in chain 3", len(ds.Chains))
	}
}
