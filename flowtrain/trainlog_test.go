package flowtrain_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"

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
	var prevWall float64
	for i, lr := range logRows {
		if lr.Step != int64(i+1) || lr.Skipped || !(lr.ESS > 0 && lr.ESS <= 1) || !(lr.StdLogW >= 0) ||
			!(lr.GradNorm > 0) || !(lr.LR >= 0) || lr.WallSeconds < prevWall || math.IsNaN(lr.Loss) {
			t.Errorf("row %d: got %+v, want step %d, finite loss, ESS in (0, 1], positive norm, lr >= 0, wall time not decreasing", i, lr, i+1)
		}
		prevWall = lr.WallSeconds
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
		{Step: 1, Loss: 1.5, GradNorm: 2.25, ESS: 0.5, StdLogW: 0.75, LR: 1e-3, WallSeconds: 0.01},
		{Step: 2, Loss: math.NaN(), GradNorm: math.Inf(1), ESS: math.NaN(), StdLogW: math.NaN(), LR: 1e-3, WallSeconds: 0.02, Skipped: true},
		{Step: 3, Loss: -0.125, GradNorm: 1, ESS: 1, StdLogW: 0, LR: 5e-4, WallSeconds: 0.03},
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
		if got[i].WallSeconds != rows[i].WallSeconds {
			t.Errorf("row %d wall_seconds: got %g, want %g", i, got[i].WallSeconds, rows[i].WallSeconds)
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
		if b[i].ESSFresh != r.ESSFresh {
			t.Errorf("step %d: ess_fresh %v with 1 worker, %v with 3", r.Step, r.ESSFresh, b[i].ESSFresh)
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
