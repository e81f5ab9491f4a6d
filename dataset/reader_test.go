package dataset

import (
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestOpenErrors(t *testing.T) {
	// write makes a one-chain dataset in a new directory.
	write := func(t *testing.T, spec Spec) string {
		dir := t.TempDir()
		writeRows(t, dir, spec, WriterOptions{}, testRows(spec, 0, 20, 10, 1))
		return dir
	}
	u1 := func(mod func(*Spec)) Spec { s := testSpec("u1", 4, 0); mod(&s); return s }
	for _, tc := range []struct {
		name string
		dirs func(t *testing.T) []string
		want []string // substrings of the error, besides the part names
	}{
		{"missing_directory", func(t *testing.T) []string {
			return []string{filepath.Join(t.TempDir(), "nope")}
		}, []string{"nope", "no such file or directory"}},
		{"empty_directory", func(t *testing.T) []string {
			return []string{t.TempDir()}
		}, []string{"holds no part-*.arrow file"}},
		{"garbage_part", func(t *testing.T) []string {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "part-00000.arrow"), []byte("step,action\n1,2\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{dir}
		}, []string{"part-00000.arrow", "not an Arrow IPC file"}},
		{"foreign_arrow_file", func(t *testing.T) []string {
			dir := t.TempDir()
			writeForeign(t, filepath.Join(dir, "part-00000.arrow"))
			return []string{dir}
		}, []string{"part-00000.arrow", "no latflow.format metadata"}},
		{"different_couplings", func(t *testing.T) []string {
			return []string{write(t, testSpec("u1", 4, 0)), write(t, u1(func(s *Spec) { s.Meta.Couplings["beta"] = 2.5 }))}
		}, []string{"parts of different ensembles", "beta=3", "beta=2.5"}},
		{"different_L", func(t *testing.T) []string {
			return []string{write(t, testSpec("u1", 4, 0)), write(t, testSpec("u1", 6, 0))}
		}, []string{"parts of different ensembles", "L=4", "L=6"}},
		{"different_theory", func(t *testing.T) []string {
			return []string{write(t, testSpec("u1", 4, 0)), write(t, testSpec("phi4", 4, 0))}
		}, []string{"parts of different ensembles", `theory="u1"`, `theory="phi4"`}},
		{"different_observables", func(t *testing.T) []string {
			return []string{write(t, testSpec("u1", 4, 0)), write(t, u1(func(s *Spec) { s.Observables = s.Observables[:1] }))}
		}, []string{"parts with different columns", "observables [plaquette,topological_charge]", "observables [plaquette]"}},
		{"repeated_step", func(t *testing.T) []string {
			dir := write(t, testSpec("u1", 4, 0))
			spec := testSpec("u1", 4, 0)
			writeRows(t, dir, spec, WriterOptions{FirstPart: 1}, testRows(spec, 19, 3, 0, 2))
			return []string{dir}
		}, []string{"chain 0: step 19 appears twice", PartName(0, 0), PartName(0, 1)}},
		{"directory_twice", func(t *testing.T) []string {
			dir := write(t, testSpec("u1", 4, 0))
			return []string{dir, dir + "/."}
		}, []string{"given twice"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dirs := tc.dirs(t)
			ds, err := Open(dirs...)
			if err == nil {
				t.Fatalf("got a dataset of %d rows, want an error", ds.Rows())
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			if strings.ContainsAny(msg, "\n\r") || !strings.HasPrefix(msg, "dataset: ") {
				t.Errorf("got %q, want one line starting with \"dataset: \"", msg)
			}
			for _, want := range tc.want {
				if !strings.Contains(msg, want) {
					t.Errorf("got %q, want it to contain %q", msg, want)
				}
			}
			if strings.Contains(tc.name, "different") && (!strings.Contains(msg, dirs[0]) || !strings.Contains(msg, dirs[1])) {
				t.Errorf("got %q, want it to name a file of %s and of %s", msg, dirs[0], dirs[1])
			}
		})
	}
}

// writeForeign writes a valid Arrow IPC file that latflow did not write.
func writeForeign(t *testing.T, path string) {
	t.Helper()
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Float64}}, nil)
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	b.AppendValues([]float64{1, 2, 3}, nil)
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, 3)
	defer rec.Release()
	if err := writePart(path, schema, rec, mem, nil); err != nil {
		t.Fatal(err)
	}
}

func TestMetaRoundTrip(t *testing.T) {
	for _, m := range []Meta{
		testSpec("u1", 16, 3).Meta,
		testSpec("phi4", 8, 0).Meta,
		{Theory: "phi4", L: 8, Parametrization: "standard", Chain: math.MaxInt32, Seed: math.MaxUint64,
			Couplings: map[string]float64{"m2": -4, "lambda": 8, "tiny": 1e-300, "third": 1.0 / 3}},
	} {
		t.Run("theory="+m.Theory, func(t *testing.T) {
			for _, format := range []int{FormatVersion1, FormatVersion2} {
				got, gotFormat, err := metaFrom(arrow.MetadataFrom(m.metadataMap(format)))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, m) || gotFormat != format {
					t.Errorf("got %+v format %d, want %+v format %d", got, gotFormat, m, format)
				}
			}
		})
	}
	t.Run("format=3", func(t *testing.T) {
		kv := testSpec("u1", 4, 0).Meta.metadataMap(FormatVersion)
		kv[KeyFormat] = "3"
		_, _, err := metaFrom(arrow.MetadataFrom(kv))
		if err == nil || !strings.Contains(err.Error(), `unsupported latflow.format "3"`) {
			t.Errorf("got %v, want an unsupported format error", err)
		}
	})
}

// TestWrittenFile reads a part of each format with arrow-go alone and checks
// the layout the package documentation promises.
func TestWrittenFile(t *testing.T) {
	for _, tc := range []struct {
		format int
		schema string
		nulls  int
		meta   map[string]string
	}{
		{FormatVersion1, "schema:\n  fields: 7\n" +
			"    - chain: type=int32\n    - step: type=int64\n    - accepted: type=bool\n    - action: type=float64\n" +
			"    - plaquette: type=float64\n    - topological_charge: type=float64\n" +
			"    - links: type=fixed_size_list<item: float64, nullable>[32], nullable\n", 27,
			map[string]string{KeyFormat: "1"}},
		{FormatVersion2, "schema:\n  fields: 11\n" +
			"    - chain: type=int32\n    - step: type=int64\n    - accepted: type=bool\n    - action: type=float64\n" +
			"    - L: type=int32\n    - seed: type=uint64\n    - beta: type=float64\n" +
			"    - plaquette: type=float64, nullable\n    - topological_charge: type=float64, nullable\n" +
			"    - update: type=utf8\n" +
			"    - links: type=list<item: float64>, nullable\n", 27,
			map[string]string{KeyFormat: "2", KeyConfigSize: "32", KeyPartRows: "30", KeyPartFirstStep: "0",
				KeyPartLastStep: "29", KeyPartConfigs: "3"}},
	} {
		t.Run(fmt.Sprintf("format=%d", tc.format), func(t *testing.T) {
			dir := t.TempDir()
			spec := testSpec("u1", 4, 5)
			if tc.format == FormatVersion2 {
				spec.Labels = []string{"update"}
			}
			rows := testRows(spec, 0, 30, 10, 1)
			writeRows(t, dir, spec, WriterOptions{Format: tc.format}, rows)
			f, err := os.Open(filepath.Join(dir, "part-c0005-00000.arrow"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := ipc.NewFileReader(f)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got := r.Schema().String(); !strings.HasPrefix(got, tc.schema) {
				t.Errorf("schema: got\n%s\nwant it to start with\n%s", got, tc.schema)
			}
			if got, want := r.NumRecords(), 1; got != want {
				t.Fatalf("record batches: got %d, want %d", got, want)
			}
			rec, err := r.RecordBatch(0)
			if err != nil {
				t.Fatal(err)
			}
			cfg := rec.Column(int(rec.NumCols()) - 1)
			if got := cfg.NullN(); got != tc.nulls {
				t.Errorf("null configurations: got %d, want %d", got, tc.nulls)
			}
			if tc.format == FormatVersion2 {
				// Null configurations take no space: the child array holds
				// the 3 saved configurations only.
				if got, want := cfg.(*array.List).ListValues().Len(), 3*spec.ConfigSize; got != want {
					t.Errorf("configuration values: got %d, want %d", got, want)
				}
				for i, want := range map[int]any{4: int32(4), 5: spec.Meta.Seed, 6: 3.0} {
					if got := rec.Column(i).GetOneForMarshal(29); got != want {
						t.Errorf("column %s row 29: got %v (%T), want %v (%T)", rec.ColumnName(i), got, got, want, want)
					}
				}
			}
			want := map[string]string{KeyL: "4", KeyCouplingPrefix + "beta": "3", KeyChain: "5",
				KeySamplerPrefix + "save_every": "10", KeyTheory: "u1"}
			maps.Copy(want, tc.meta)
			for key, want := range want {
				if got, _ := r.Schema().Metadata().GetValue(key); got != want {
					t.Errorf("metadata %s: got %q, want %q", key, got, want)
				}
			}
		})
	}
}
