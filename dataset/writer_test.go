package dataset

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// testSpec returns the spec of a chain of theory ("u1" or "phi4") on an L x L
// lattice, with a configuration column.
func testSpec(theory string, l, chain int) Spec {
	v := l * l
	s := Spec{Meta: Meta{
		Theory:  theory,
		L:       l,
		Sampler: "hmc",
		SamplerSettings: map[string]string{
			"tau": "1", "steps": "10", "save_every": "10",
		},
		Seed:    0xdeadbeefcafe + uint64(chain),
		Chain:   chain,
		Version: "v0.0.0-test",
	}}
	switch theory {
	case "u1":
		s.Meta.Couplings = map[string]float64{"beta": 3}
		s.Observables = []string{"plaquette", "topological_charge"}
		s.ConfigName, s.ConfigSize = ConfigLinks, 2*v
	case "phi4":
		s.Meta.Parametrization = "hopping"
		s.Meta.Couplings = map[string]float64{"kappa": 0.3, "lambda": 0.022}
		s.Observables = []string{"magnetization", "abs_magnetization", "magnetization_sq"}
		s.ConfigName, s.ConfigSize = ConfigPhi, v
	default:
		panic("unknown theory " + theory)
	}
	return s
}

// testRows returns n rows for spec with steps first, first+1, ..., random
// values from seed, labels "hmc" every fifth step and "flow" otherwise, and
// a configuration every saveEvery steps (none if saveEvery is 0).
func testRows(spec Spec, first int64, n, saveEvery int, seed uint64) []Row {
	rng := rand.New(rand.NewPCG(seed, 1))
	rows := make([]Row, n)
	for i := range rows {
		step := first + int64(i)
		r := Row{Step: step, Accepted: rng.IntN(4) != 0, Action: -600 + 50*rng.NormFloat64()}
		r.Obs = make([]float64, len(spec.Observables))
		for k := range r.Obs {
			r.Obs[k] = rng.NormFloat64()
		}
		for range spec.Labels {
			label := "flow"
			if step%5 == 0 {
				label = "hmc"
			}
			r.Labels = append(r.Labels, label)
		}
		if saveEvery > 0 && step%int64(saveEvery) == 0 && spec.ConfigName != "" {
			r.Config = make([]float64, spec.ConfigSize)
			for k := range r.Config {
				r.Config[k] = 2 * math.Pi * rng.Float64()
			}
		}
		rows[i] = r
	}
	return rows
}

// writeRows writes rows as one chain of dir and closes the writer.
func writeRows(t testing.TB, dir string, spec Spec, opt WriterOptions, rows []Row) {
	t.Helper()
	w, err := Create(dir, spec, opt)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	for _, r := range rows {
		if err := w.Append(r); err != nil {
			t.Fatalf("Append step %d: %v", r.Step, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// checkChain compares a chain read back with the rows written, bit for bit.
func checkChain(t *testing.T, c Chain, spec Spec, rows []Row) {
	t.Helper()
	if len(c.Steps) != len(rows) {
		t.Fatalf("chain %d: got %d rows, want %d", c.ID, len(c.Steps), len(rows))
	}
	if len(c.Labels) != len(spec.Labels) {
		t.Fatalf("chain %d: got labels %v, want %v", c.ID, slices.Sorted(maps.Keys(c.Labels)), spec.Labels)
	}
	var cfgSteps []int64
	var cfgs [][]float64
	for i, r := range rows {
		if c.Steps[i] != r.Step || c.Accepted[i] != r.Accepted ||
			math.Float64bits(c.Action[i]) != math.Float64bits(r.Action) {
			t.Fatalf("chain %d row %d: got step %d accepted %v action %v, want %d %v %v",
				c.ID, i, c.Steps[i], c.Accepted[i], c.Action[i], r.Step, r.Accepted, r.Action)
		}
		for k, name := range spec.Observables {
			if got := c.Obs[name][i]; math.Float64bits(got) != math.Float64bits(r.Obs[k]) {
				t.Fatalf("chain %d row %d: got %s %v, want %v", c.ID, i, name, got, r.Obs[k])
			}
		}
		for k, name := range spec.Labels {
			if got := c.Labels[name][i]; got != r.Labels[k] {
				t.Fatalf("chain %d row %d: got %s %q, want %q", c.ID, i, name, got, r.Labels[k])
			}
		}
		if r.Config != nil {
			cfg := r.Config
			if spec.ConfigFloat32 {
				cfg = make([]float64, len(r.Config))
				for k, v := range r.Config {
					cfg[k] = float64(float32(v))
				}
			}
			cfgSteps = append(cfgSteps, r.Step)
			cfgs = append(cfgs, cfg)
		}
	}
	if !slices.Equal(c.ConfigSteps, cfgSteps) {
		t.Fatalf("chain %d: got %d configurations at steps %v..., want %d at %v...",
			c.ID, len(c.ConfigSteps), head(c.ConfigSteps), len(cfgSteps), head(cfgSteps))
	}
	for j := range cfgs {
		if !slices.Equal(c.Configs[j], cfgs[j]) {
			t.Fatalf("chain %d: configuration at step %d differs: got %v..., want %v...",
				c.ID, cfgSteps[j], head(c.Configs[j]), head(cfgs[j]))
		}
	}
}

func head[T any](x []T) []T { return x[:min(len(x), 4)] }

func TestRoundTrip(t *testing.T) {
	const (
		nRows       = 2500
		rowsPerPart = 600
		saveEvery   = 10
	)
	type variant struct {
		format  int
		labels  []string
		float32 bool
	}
	for _, theory := range []string{"u1", "phi4"} {
		for _, v := range []variant{{FormatVersion1, nil, false}, {FormatVersion2, nil, false}, {FormatVersion2, []string{"update", "note"}, true}} {
			const l = 4
			t.Run(fmt.Sprintf("theory=%s/L=%d/format=%d/labels=%d/float32=%v", theory, l, v.format, len(v.labels), v.float32), func(t *testing.T) {
				roundTrip(t, theory, l, v.format, v.labels, v.float32, nRows, rowsPerPart, saveEvery)
			})
		}
	}
}

// roundTrip writes a chain with Create and Append, reads it back with Open
// and compares.
func roundTrip(t *testing.T, theory string, l, format int, labels []string, float32 bool, nRows, rowsPerPart, saveEvery int) {
	dir := t.TempDir()
	spec := testSpec(theory, l, 7)
	spec.Labels, spec.ConfigFloat32 = labels, float32
	rows := testRows(spec, 0, nRows, saveEvery, 1)

	wmem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	var partRows []int
	var partPaths []string
	opt := WriterOptions{RowsPerPart: rowsPerPart, Allocator: wmem, Format: format,
		OnPart: func(path string, rows int, dur time.Duration) {
			partPaths = append(partPaths, path)
			partRows = append(partRows, rows)
		}}
	w, err := Create(dir, spec, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := w.RowsSaved(), int64(nRows/rowsPerPart*rowsPerPart); got != want {
		t.Errorf("RowsSaved before Close: got %d, want %d", got, want)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := w.RowsSaved(); got != int64(nRows) {
		t.Errorf("RowsSaved after Close: got %d, want %d", got, nRows)
	}
	wmem.AssertSize(t, 0)

	wantParts := []string{}
	wantRows := []int{}
	for k, left := 0, nRows; left > 0; k, left = k+1, left-rowsPerPart {
		wantParts = append(wantParts, filepath.Join(dir, PartName(7, k)))
		wantRows = append(wantRows, min(left, rowsPerPart))
	}
	if !slices.Equal(partPaths, wantParts) || !slices.Equal(partRows, wantRows) {
		t.Errorf("OnPart: got %v %v, want %v %v", partPaths, partRows, wantParts, wantRows)
	}

	rmem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	ds, err := OpenWith(OpenOptions{Configs: true, Allocator: rmem}, dir)
	if err != nil {
		t.Fatal(err)
	}
	rmem.AssertSize(t, 0)
	if !reflect.DeepEqual(ds.Meta, spec.Meta) {
		t.Errorf("Meta: got %+v, want %+v", ds.Meta, spec.Meta)
	}
	if !slices.Equal(ds.Observables, spec.Observables) || !slices.Equal(ds.Labels, spec.Labels) ||
		ds.ConfigName != spec.ConfigName || ds.ConfigSize != spec.ConfigSize {
		t.Errorf("columns: got %v %v %s[%d], want %v %v %s[%d]", ds.Observables, ds.Labels, ds.ConfigName, ds.ConfigSize,
			spec.Observables, spec.Labels, spec.ConfigName, spec.ConfigSize)
	}
	for _, p := range ds.Chains[0].PartInfos {
		if p.Format != format || p.ConfigFloat32 != float32 || !p.Checksum {
			t.Errorf("%s: got format %d float32 %v checksum %v, want %d %v true", p.Path, p.Format, p.ConfigFloat32,
				p.Checksum, format, float32)
		}
	}
	if len(ds.Chains) != 1 {
		t.Fatalf("got %d chains, want 1", len(ds.Chains))
	}
	c := ds.Chains[0]
	if c.ID != 7 || c.Dir != dir || !reflect.DeepEqual(c.Meta, spec.Meta) || !slices.Equal(c.Parts, wantParts) {
		t.Errorf("chain: got id %d dir %s parts %v meta %+v, want 7 %s %v %+v", c.ID, c.Dir, c.Parts, c.Meta,
			dir, wantParts, spec.Meta)
	}
	checkChain(t, c, spec, rows)
	if got, want := len(ds.Configs()), nRows/saveEvery; got != want {
		t.Errorf("Configs: got %d, want %d", got, want)
	}

	// Without OpenOptions.Configs, no configuration is loaded.
	ds, err = OpenWith(OpenOptions{Allocator: rmem}, dir)
	if err != nil {
		t.Fatal(err)
	}
	rmem.AssertSize(t, 0)
	if c := ds.Chains[0]; len(c.Configs) != 0 || len(c.ConfigSteps) != 0 || len(c.Steps) != nRows {
		t.Errorf("Open without configs: got %d configurations, %d rows, want 0, %d", len(c.Configs), len(c.Steps), nRows)
	}
}

// TestShardsAndResume writes two chains into one directory, resumes one of
// them, and reads them with a replica of chain 0 in a second directory.
func TestShardsAndResume(t *testing.T) {
	const rowsPerPart = 40
	dirA, dirB := t.TempDir(), t.TempDir()
	spec0, spec1 := testSpec("u1", 4, 0), testSpec("u1", 4, 1)
	rows0 := testRows(spec0, 0, 100, 10, 10)
	rows1 := testRows(spec1, 0, 150, 10, 11)
	replica := testRows(spec0, 0, 30, 0, 12)

	writeRows(t, dirA, spec1, WriterOptions{RowsPerPart: rowsPerPart}, rows1)
	writeRows(t, dirA, spec0, WriterOptions{RowsPerPart: rowsPerPart}, rows0[:70])
	next, err := NextPart(dirA, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2; next != want { // 40 + 30 rows
		t.Fatalf("NextPart: got %d, want %d", next, want)
	}
	if _, err := Create(dirA, spec0, WriterOptions{FirstPart: next - 1}); err == nil ||
		!strings.Contains(err.Error(), PartName(0, 1)) {
		t.Fatalf("Create over an existing part: got error %v, want one naming %s", err, PartName(0, 1))
	}
	writeRows(t, dirA, spec0, WriterOptions{RowsPerPart: rowsPerPart, FirstPart: next}, rows0[70:])
	replicaSpec := spec0
	replicaSpec.Meta.Seed++ // an independent replica of chain 0
	writeRows(t, dirB, replicaSpec, WriterOptions{}, replica)

	ds, err := OpenWith(OpenOptions{Configs: true}, dirA, dirB)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Chains) != 3 {
		t.Fatalf("got %d chains, want 3", len(ds.Chains))
	}
	for i, want := range []struct {
		id   int
		dir  string
		spec Spec
		rows []Row
	}{{0, dirA, spec0, rows0}, {1, dirA, spec1, rows1}, {0, dirB, replicaSpec, replica}} {
		c := ds.Chains[i]
		if c.ID != want.id || c.Dir != want.dir {
			t.Errorf("chain %d: got id %d in %s, want %d in %s", i, c.ID, c.Dir, want.id, want.dir)
		}
		checkChain(t, c, want.spec, want.rows)
	}
	if ds.Meta.Seed != 0 || ds.Meta.Sampler != "hmc" || ds.Meta.L != 4 {
		t.Errorf("common Meta: got seed %d sampler %q L %d, want 0 (chains differ) \"hmc\" 4",
			ds.Meta.Seed, ds.Meta.Sampler, ds.Meta.L)
	}
	if got, want := ds.Rows(), len(rows0)+len(rows1)+len(replica); got != want {
		t.Errorf("Rows: got %d, want %d", got, want)
	}
}

// TestCrash abandons a writer without closing it, as a killed process does,
// and checks that only complete parts carry the part- name.
func TestCrash(t *testing.T) {
	const rowsPerPart = 100
	dir := t.TempDir()
	spec := testSpec("phi4", 4, 3)
	rows := testRows(spec, 0, 250, 10, 2)
	var tmpSeen []string
	w, err := Create(dir, spec, WriterOptions{RowsPerPart: rowsPerPart,
		OnPart: func(string, int, time.Duration) { tmpSeen = append(tmpSeen, tempFiles(t, dir)...) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	// w is abandoned with 50 rows buffered, and its lock released as the
	// kernel releases it when a process dies; a crash in the middle of the
	// next write leaves a truncated temporary file (named as by this
	// version and as by format 1 writers).
	w.lock.unlock()
	for _, stale := range []string{tempName(PartName(3, 2)), "." + PartName(3, 2) + ".tmp"} {
		if err := os.WriteFile(filepath.Join(dir, stale), []byte("ARROW1\x00\x00truncated"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if len(tmpSeen) != 0 {
		t.Errorf("temporary files after a part was written: got %v, want none", tmpSeen)
	}
	names, err := listParts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{PartName(3, 0), PartName(3, 1)}; !slices.Equal(names, want) {
		t.Errorf("parts: got %v, want %v", names, want)
	}
	ds, err := OpenWith(OpenOptions{Configs: true}, dir)
	if err != nil {
		t.Fatalf("Open after crash: %v", err)
	}
	checkChain(t, ds.Chains[0], spec, rows[:2*rowsPerPart])

	// The resumed writer removes the stale temporary file; Discard writes
	// nothing and leaves no temporary file.
	next, err := NextPart(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	w, err = Create(dir, spec, WriterOptions{RowsPerPart: rowsPerPart, FirstPart: next})
	if err != nil {
		t.Fatal(err)
	}
	if tmp := tempFiles(t, dir); len(tmp) != 0 {
		t.Errorf("temporary files after Create: got %v, want none", tmp)
	}
	for _, r := range rows[2*rowsPerPart:] {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Discard(); err != nil {
		t.Fatal(err)
	}
	if tmp := tempFiles(t, dir); len(tmp) != 0 {
		t.Errorf("temporary files after Discard: got %v, want none", tmp)
	}
	if names, _ := listParts(dir); len(names) != 2 {
		t.Errorf("parts after Discard: got %v, want 2", names)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close after Discard: got %v, want nil", err)
	}
}

// tempFiles lists the files of dir that are not parts, checksum manifests
// or locks.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var tmp []string
	for _, e := range entries {
		name := e.Name()
		if _, ok := parseChecksumName(name); !ok && !isPart(name) && !strings.HasPrefix(name, lockPrefix) {
			tmp = append(tmp, name)
		}
	}
	return tmp
}

func TestCreateErrors(t *testing.T) {
	good := testSpec("u1", 4, 0)
	existing := t.TempDir()
	writeRows(t, existing, good, WriterOptions{}, testRows(good, 0, 5, 0, 1))
	for _, tc := range []struct {
		name string
		dir  string
		spec func(s *Spec)
		want string
	}{
		{"observable=step", "", func(s *Spec) { s.Observables = []string{"step"} }, `"step" used twice`},
		{"config_size=0", "", func(s *Spec) { s.ConfigSize = 0 }, "ConfigSize = 0"},
		{"L=0", "", func(s *Spec) { s.Meta.L = 0 }, "Meta.L = 0"},
		{"coupling=NaN", "", func(s *Spec) { s.Meta.Couplings["beta"] = math.NaN() }, "beta is NaN"},
		{"existing_part", existing, func(s *Spec) {}, PartName(0, 0)},
		{"other_beta", existing, func(s *Spec) { s.Meta.Chain = 1; s.Meta.Couplings["beta"] = 2 }, "beta=2"},
		{"other_observables", existing, func(s *Spec) { s.Meta.Chain = 1; s.Observables = []string{"plaquette"} }, "observables [plaquette]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testSpec("u1", 4, 0)
			tc.spec(&s)
			dir := tc.dir
			if dir == "" {
				dir = t.TempDir()
			}
			w, err := Create(dir, s, WriterOptions{})
			if err == nil {
				w.Discard()
				t.Fatalf("got no error, want one containing %q", tc.want)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.HasPrefix(msg, "dataset: ") {
				t.Fatalf("got %q, want a dataset error containing %q", msg, tc.want)
			}
		})
	}
}

func TestAppendPanics(t *testing.T) {
	spec := testSpec("u1", 4, 0)
	for _, tc := range []struct {
		name string
		row  Row
	}{
		{"obs=1", Row{Obs: []float64{1}}},
		{"config=3", Row{Obs: []float64{1, 2}, Config: []float64{1, 2, 3}}},
		{"labels=1", Row{Obs: []float64{1, 2}, Labels: []string{"hmc"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Create(t.TempDir(), spec, WriterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Discard()
			defer func() {
				msg, _ := recover().(string)
				if !strings.HasPrefix(msg, "dataset: ") {
					t.Errorf("got panic %q, want a panic prefixed by \"dataset: \"", msg)
				}
			}()
			w.Append(tc.row)
		})
	}
}

func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct{ l, saveEvery int }{{16, 1}, {16, 10}} {
		b.Run(fmt.Sprintf("L=%d/save_every=%d", bc.l, bc.saveEvery), func(b *testing.B) {
			benchAppend(b, bc.l, bc.saveEvery)
		})
	}
}

// benchAppend appends U(1) rows with a configuration every saveEvery steps
// and reports rows/s and the bytes written per row.
func benchAppend(b *testing.B, l, saveEvery int) {
	b.ReportAllocs()
	dir := b.TempDir()
	spec := testSpec("u1", l, 0)
	rows := testRows(spec, 0, 1000, saveEvery, 1)
	w, err := Create(dir, spec, WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := rows[i%len(rows)]
		r.Step = int64(i)
		if err := w.Append(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	names, err := listParts(dir)
	if err != nil {
		b.Fatal(err)
	}
	var size int64
	for _, name := range names {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		size += st.Size()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(size)/float64(b.N), "disk-B/row")
}
