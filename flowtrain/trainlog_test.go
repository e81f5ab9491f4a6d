package flowtrain_test

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"latflow/flowtrain"
)

// TestTrainLogColumns trains a few steps with a log and reads the file
// with the plain Arrow IPC reader: the columns, their types, one row per
// step and the metadata.
func TestTrainLogColumns(t *testing.T) {
	s := setup{obj: flowtrain.Reverse, grad: flowtrain.Standard, schedule: "cosine", steps: 5, workers: 1}
	tr := newTrainer[float64](t, s)
	path := filepath.Join(t.TempDir(), "model.flow.log.arrow")
	if err := tr.Train(context.Background(), flowtrain.TrainOptions{Steps: s.steps, Run: s.run(), Log: path}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := []struct {
		name string
		typ  arrow.DataType
	}{
		{"step", arrow.PrimitiveTypes.Int64},
		{"loss", arrow.PrimitiveTypes.Float64},
		{"grad_norm", arrow.PrimitiveTypes.Float64},
		{"ess", arrow.PrimitiveTypes.Float64},
		{"std_logw", arrow.PrimitiveTypes.Float64},
		{"lr", arrow.PrimitiveTypes.Float64},
		{"wall_seconds", arrow.PrimitiveTypes.Float64},
		{"skipped", arrow.FixedWidthTypes.Boolean},
		{"ess_fresh", arrow.PrimitiveTypes.Float64},
		{"acc_fresh", arrow.PrimitiveTypes.Float64},
		{"cpu_seconds", arrow.PrimitiveTypes.Float64},
	}
	sc := r.Schema()
	if sc.NumFields() != len(want) {
		t.Fatalf("got %d columns, want %d", sc.NumFields(), len(want))
	}
	for i, w := range want {
		if f := sc.Field(i); f.Name != w.name || !arrow.TypeEqual(f.Type, w.typ) {
			t.Errorf("column %d: got %s %s, want %s %s", i, f.Name, f.Type, w.name, w.typ)
		}
	}
	var rows int64
	for i := 0; i < r.NumRecords(); i++ {
		rec, err := r.RecordBatchAt(i)
		if err != nil {
			t.Fatal(err)
		}
		rows += rec.NumRows()
		rec.Release()
	}
	if rows != int64(s.steps) {
		t.Errorf("got %d rows, want %d", rows, s.steps)
	}
	md := sc.Metadata().ToMap()
	for k, v := range map[string]string{"latflow.theory": "phi4", "latflow.objective": "reverse",
		"latflow.gradient": "standard", "latflow.schedule": "cosine", "latflow.coupling.m2": "-1"} {
		if md[k] != v {
			t.Errorf("metadata %s: got %q, want %q", k, md[k], v)
		}
	}

	logRows, _, err := flowtrain.ReadLog(path)
	if err != nil {
		t.Fatal(err)
	}
	var prevWall, prevCPU float64
	for i, lr := range logRows {
		if lr.Step != int64(i+1) || lr.Skipped || !(lr.ESS > 0 && lr.ESS <= 1) || !(lr.StdLogW >= 0) ||
			!(lr.GradNorm > 0) || !(lr.LR >= 0) || lr.WallSeconds < prevWall || math.IsNaN(lr.Loss) {
			t.Errorf("row %d: got %+v, want step %d, finite loss, ESS in (0, 1], positive norm, lr >= 0, wall time not decreasing", i, lr, i+1)
		}
		if runtime.GOOS == "linux" && !(lr.CPUSeconds >= prevCPU) {
			t.Errorf("row %d: cpu_seconds %g after %g, want a number, not decreasing", i, lr.CPUSeconds, prevCPU)
		}
		prevWall, prevCPU = lr.WallSeconds, lr.CPUSeconds
	}
	// Cosine schedule: the learning rate decreases.
	if n := len(logRows); n == s.steps && !(logRows[n-1].LR < logRows[0].LR) {
		t.Errorf("cosine schedule: lr %g at step 1, %g at step %d, want a decrease", logRows[0].LR, logRows[n-1].LR, n)
	}
}

// TestTrainLogRoundTrip writes rows with NaN and skipped steps and reads
// them back bit for bit.
func TestTrainLogRoundTrip(t *testing.T) {
	rows := []flowtrain.LogRow{
		{Step: 1, Loss: 1.5, GradNorm: 2.25, ESS: 0.5, StdLogW: 0.75, LR: 1e-3, WallSeconds: 0.01, CPUSeconds: 0.0125},
		{Step: 2, Loss: math.NaN(), GradNorm: math.Inf(1), ESS: math.NaN(), StdLogW: math.NaN(), LR: 1e-3, WallSeconds: 0.02, Skipped: true, CPUSeconds: 0.025},
		{Step: 3, Loss: -0.125, GradNorm: 1, ESS: 1, StdLogW: 0, LR: 5e-4, WallSeconds: 0.03, ESSFresh: 0.25, AccFresh: 0.375, CPUSeconds: 0.0375},
		{Step: 4, Loss: -0.25, GradNorm: 1, ESS: 1, StdLogW: 0, LR: 5e-4, WallSeconds: 0.04, ESSFresh: 0.5, AccFresh: 0, CPUSeconds: math.NaN()},
	}
	path := filepath.Join(t.TempDir(), "log.arrow")
	if err := flowtrain.WriteLog(path, rows, map[string]string{"latflow.theory": "u1"}); err != nil {
		t.Fatal(err)
	}
	got, md, err := flowtrain.ReadLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(logValues(got), logValues(rows)) {
		t.Errorf("got rows %+v, want %+v", got, rows)
	}
	for i := range rows {
		g, w := got[i], rows[i]
		if !sameBits([]float64{g.WallSeconds, g.ESSFresh, g.AccFresh, g.CPUSeconds}, []float64{w.WallSeconds, w.ESSFresh, w.AccFresh, w.CPUSeconds}) {
			t.Errorf("row %d wall_seconds, ess_fresh, acc_fresh, cpu_seconds: got %g %g %g %g, want %g %g %g %g", i,
				g.WallSeconds, g.ESSFresh, g.AccFresh, g.CPUSeconds, w.WallSeconds, w.ESSFresh, w.AccFresh, w.CPUSeconds)
		}
	}
	if md["latflow.theory"] != "u1" {
		t.Errorf("metadata: got %v, want latflow.theory=u1", md)
	}
	// Not a log.
	bad := filepath.Join(t.TempDir(), "bad.arrow")
	if err := os.WriteFile(bad, []byte("not arrow"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := flowtrain.ReadLog(bad); err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), bad) {
		t.Errorf("not an Arrow file: got %v, want a one-line error naming the file", err)
	}
}

// TestFreshESSColumn: with FreshEvery, every FreshEvery-th step of the log
// has a fresh-sample ESS in (0, 1] and the others none; the values do not
// depend on the number of workers, and the training itself is unchanged
// by the measurement (it draws from its own stream).
func TestFreshESSColumn(t *testing.T) {
	run := func(fresh, workers int) []flowtrain.LogRow {
		s := setup{obj: flowtrain.Reverse, grad: flowtrain.FastPath, schedule: "constant", steps: 6, workers: workers}
		tr := newTrainer[float64](t, s)
		path := filepath.Join(t.TempDir(), "log.arrow")
		if err := tr.Train(context.Background(), flowtrain.TrainOptions{Steps: 6, Run: s.run(), Log: path,
			FreshEvery: fresh, FreshSamples: 300, FreshSeed: 9}); err != nil {
			t.Fatal(err)
		}
		rows, _, err := flowtrain.ReadLog(path)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	a, b, plain := run(3, 1), run(3, 3), run(0, 1)
	for i, r := range a {
		measured := (i+1)%3 == 0
		if measured != (r.ESSFresh > 0) || r.ESSFresh > 1 {
			t.Errorf("step %d: got ess_fresh %v, want one in (0, 1] on every third step only", r.Step, r.ESSFresh)
		}
		if measured && !(r.AccFresh > 0 && r.AccFresh <= 1) || !measured && r.AccFresh != 0 {
			t.Errorf("step %d: got acc_fresh %v, want one in (0, 1] on every third step only", r.Step, r.AccFresh)
		}
		if b[i].ESSFresh != r.ESSFresh || b[i].AccFresh != r.AccFresh {
			t.Errorf("step %d: ess_fresh, acc_fresh %v %v with 1 worker, %v %v with 3", r.Step, r.ESSFresh, r.AccFresh, b[i].ESSFresh, b[i].AccFresh)
		}
		if plain[i].Loss != r.Loss {
			t.Errorf("step %d: the measurement changed the training (loss %v vs %v)", r.Step, r.Loss, plain[i].Loss)
		}
	}
}

func TestTailMeans(t *testing.T) {
	var log []flowtrain.LogRow
	for i := 1; i <= 20; i++ {
		log = append(log, flowtrain.LogRow{Step: int64(i), Loss: float64(i), StdLogW: 1, ESS: 0.5})
	}
	log[19].Skipped = true
	tm, ok := flowtrain.TailMeans(log)
	if !ok || tm.Steps != 1 || tm.Loss != 19 {
		t.Errorf("got %+v (%v), want the one unskipped step of the last two: loss 19", tm, ok)
	}
	if _, ok := flowtrain.TailMeans(nil); ok {
		t.Errorf("empty log: got ok")
	}
}

// writeOldLog writes rows as a log of an older latflow: the first ncol
// columns of today's schema (8: before ess_fresh, 9: before acc_fresh and
// cpu_seconds).
func writeOldLog(t *testing.T, path string, rows []flowtrain.LogRow, ncol int) {
	t.Helper()
	f64 := arrow.PrimitiveTypes.Float64
	fields := []arrow.Field{{Name: "step", Type: arrow.PrimitiveTypes.Int64}}
	for _, n := range []string{"loss", "grad_norm", "ess", "std_logw", "lr", "wall_seconds"} {
		fields = append(fields, arrow.Field{Name: n, Type: f64})
	}
	fields = append(fields, arrow.Field{Name: "skipped", Type: arrow.FixedWidthTypes.Boolean}, arrow.Field{Name: "ess_fresh", Type: f64})
	schema := arrow.NewSchema(fields[:ncol], nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.Int64Builder).Append(r.Step)
		for i, v := range []float64{r.Loss, r.GradNorm, r.ESS, r.StdLogW, r.LR, r.WallSeconds} {
			b.Field(1 + i).(*array.Float64Builder).Append(v)
		}
		if ncol > 7 {
			b.Field(7).(*array.BooleanBuilder).Append(r.Skipped)
		}
		if ncol > 8 {
			b.Field(8).(*array.Float64Builder).Append(r.ESSFresh)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := ipc.NewFileWriter(f, ipc.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReadOldLog: logs written before ess_fresh (8 columns) and before
// acc_fresh and cpu_seconds (9 columns) still load, the missing columns as
// not measured (ess_fresh and acc_fresh 0) and unknown (cpu_seconds NaN);
// a log with another number of columns is refused.
func TestReadOldLog(t *testing.T) {
	rows := []flowtrain.LogRow{
		{Step: 1, Loss: 1.5, GradNorm: 2, ESS: 0.5, StdLogW: 0.75, LR: 1e-3, WallSeconds: 0.5},
		{Step: 2, Loss: 1.25, GradNorm: 1, ESS: 0.625, StdLogW: 0.5, LR: 1e-3, WallSeconds: 1, ESSFresh: 0.125},
	}
	for _, ncol := range []int{8, 9} {
		path := filepath.Join(t.TempDir(), "old.arrow")
		writeOldLog(t, path, rows, ncol)
		got, _, err := flowtrain.ReadLog(path)
		if err != nil {
			t.Fatalf("%d columns: %v", ncol, err)
		}
		if !sameBits(logValues(got), logValues(rows)) {
			t.Errorf("%d columns: got rows %+v, want %+v", ncol, got, rows)
		}
		for i, r := range got {
			wantFresh := rows[i].ESSFresh
			if ncol == 8 {
				wantFresh = 0
			}
			if r.ESSFresh != wantFresh || r.AccFresh != 0 || !math.IsNaN(r.CPUSeconds) || r.WallSeconds != rows[i].WallSeconds {
				t.Errorf("%d columns, row %d: ess_fresh %g, acc_fresh %g, cpu_seconds %g, wall %g; want %g, 0, NaN, %g",
					ncol, i, r.ESSFresh, r.AccFresh, r.CPUSeconds, r.WallSeconds, wantFresh, rows[i].WallSeconds)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "seven.arrow")
	writeOldLog(t, path, rows, 7)
	if _, _, err := flowtrain.ReadLog(path); err == nil || !strings.Contains(err.Error(), "7 columns") {
		t.Errorf("7 columns: got %v, want an error saying 7 columns", err)
	}
}

// TestIMHAcceptance checks the fresh-sample acceptance against the exact
// acceptance rate of independence Metropolis with two weights: q puts 1/2
// on w = 1 and 1/2 on w = 2, so the chain sits at p(w) = w/3, and the rate
// is p(1) * 1 + p(2) * (1/2 * 1/2 + 1/2 * 1) = 5/6. It also checks the
// edge cases: rising weights are always accepted, falling ones by 1e3 in
// log never, and the chain leaves a zero weight.
func TestIMHAcceptance(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 200000
	logw := make([]float64, n)
	for i := range logw {
		if rng.IntN(2) == 1 {
			logw[i] = math.Ln2
		}
	}
	acc := flowtrain.IMHAcceptance(logw, rand.New(rand.NewPCG(3, 4)))
	// The binomial error is below 1e-3; the chain's correlation at most doubles it.
	if math.Abs(acc-5.0/6) > 5e-3 {
		t.Errorf("two weights: acceptance %.4f, want 5/6 = %.4f", acc, 5.0/6)
	}
	rising, falling := make([]float64, 50), make([]float64, 50)
	for i := range rising {
		rising[i], falling[i] = float64(i), -1e3*float64(i)
	}
	if a := flowtrain.IMHAcceptance(rising, rng); a != 1 {
		t.Errorf("rising weights: acceptance %g, want 1", a)
	}
	if a := flowtrain.IMHAcceptance(falling, rng); a != 0 {
		t.Errorf("falling weights: acceptance %g, want 0", a)
	}
	if a := flowtrain.IMHAcceptance([]float64{math.Inf(-1), -1e3, -2e3}, rng); a != 0.5 {
		t.Errorf("start at zero weight: acceptance %g, want 1/2 (leave the zero weight, then stay)", a)
	}
	if a := flowtrain.IMHAcceptance([]float64{1}, rng); !math.IsNaN(a) {
		t.Errorf("one sample: acceptance %g, want NaN", a)
	}
}
