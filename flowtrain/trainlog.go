package flowtrain

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// LogRow is one training step in the training log.
type LogRow struct {
	// Step is the step number, from 1; skipped steps have rows too.
	Step int64
	// Loss is the estimator's loss (NaN if the estimator failed).
	Loss float64
	// GradNorm is the L2 norm of the gradient before clipping.
	GradNorm float64
	// ESS is the effective sample size per sample (reverse: ESS_q/N,
	// forward: ESS_p/N).
	ESS float64
	// StdLogW is the standard deviation of log w = log p~ - log q over
	// the batch (dividing by the batch size): 0 for a perfect flow.
	StdLogW float64
	// LR is the learning rate of the step.
	LR float64
	// WallSeconds is the wall-clock time of training up to the end of the
	// step, summed over resumed sessions.
	WallSeconds float64
	// Skipped tells that the step made no update (non-finite loss or
	// gradient, or a failed estimator).
	Skipped bool
	// ESSFresh is ESS_q/N of a large fresh sample of the flow after the
	// step (TrainOptions.FreshEvery); 0 on the other steps (an ESS is
	// never 0), written as NaN in the log file. Unlike ESS,
	// which a batch of heavy-tailed weights overestimates, it is what a
	// sampler will see.
	ESSFresh float64
	// AccFresh is the acceptance rate of an independence-Metropolis chain
	// run over the same fresh samples as ESSFresh, in the order they were
	// drawn: the first sample starts the chain, each later one is
	// accepted with probability min(1, w'/w), w = exp(-S)/q, and AccFresh
	// is the fraction of the n-1 proposals accepted (the uniforms come
	// from the same stream as the samples, after them). It is set where
	// ESSFresh is (ESSFresh > 0) and 0 elsewhere, where the log file has
	// NaN; an acceptance can be 0, so only ESSFresh tells whether the
	// step was measured.
	AccFresh float64
	// CPUSeconds is the CPU time (user + system, getrusage RUSAGE_SELF) of
	// the training process up to the end of the step, summed over resumed
	// sessions like WallSeconds. With --threads 1 on a loaded machine it
	// is the honest time on one core, where the wall time counts the other
	// processes too. NaN where unknown: logs and checkpoints written
	// before the column, the steps of a run resumed from such a
	// checkpoint, and systems without getrusage.
	CPUSeconds float64
}

// Column names of the training log, in column order.
const (
	LogColStep        = "step"
	LogColLoss        = "loss"
	LogColGradNorm    = "grad_norm"
	LogColESS         = "ess"
	LogColStdLogW     = "std_logw"
	LogColLR          = "lr"
	LogColWallSeconds = "wall_seconds"
	LogColSkipped     = "skipped"
	LogColESSFresh    = "ess_fresh"
	LogColAccFresh    = "acc_fresh"
	LogColCPUSeconds  = "cpu_seconds"
)

// logSchema is the schema of the training log with metadata md.
func logSchema(md map[string]string) *arrow.Schema {
	f64 := arrow.PrimitiveTypes.Float64
	fields := []arrow.Field{
		{Name: LogColStep, Type: arrow.PrimitiveTypes.Int64},
		{Name: LogColLoss, Type: f64},
		{Name: LogColGradNorm, Type: f64},
		{Name: LogColESS, Type: f64},
		{Name: LogColStdLogW, Type: f64},
		{Name: LogColLR, Type: f64},
		{Name: LogColWallSeconds, Type: f64},
		{Name: LogColSkipped, Type: arrow.FixedWidthTypes.Boolean},
		{Name: LogColESSFresh, Type: f64},
		{Name: LogColAccFresh, Type: f64},
		{Name: LogColCPUSeconds, Type: f64},
	}
	meta := arrow.MetadataFrom(md)
	return arrow.NewSchema(fields, &meta)
}

// WriteLog writes the training log rows to path as an uncompressed Arrow
// IPC file (the random-access file format, readable by pyarrow, Polars
// and pandas), one record batch, with md as schema metadata (for example
// RunParams.LogMetadata). The columns are step int64, loss, grad_norm,
// ess, std_logw, lr, wall_seconds float64, skipped bool, ess_fresh,
// acc_fresh and cpu_seconds float64, without nulls (a quantity a step
// does not have is NaN: ess_fresh and acc_fresh off the measured steps). The file is rewritten
// whole and atomically (a temporary file renamed over path), so a reader
// never sees a partial log.
func WriteLog(path string, rows []LogRow, md map[string]string) error {
	mem := memory.DefaultAllocator
	schema := logSchema(md)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Reserve(len(rows))
	step := b.Field(0).(*array.Int64Builder)
	fs := make([]*array.Float64Builder, 6)
	for i := range fs {
		fs[i] = b.Field(1 + i).(*array.Float64Builder)
	}
	skipped := b.Field(7).(*array.BooleanBuilder)
	fresh := b.Field(8).(*array.Float64Builder)
	acc := b.Field(9).(*array.Float64Builder)
	cpu := b.Field(10).(*array.Float64Builder)
	for _, r := range rows {
		step.Append(r.Step)
		for i, v := range [...]float64{r.Loss, r.GradNorm, r.ESS, r.StdLogW, r.LR, r.WallSeconds} {
			fs[i].Append(v)
		}
		skipped.Append(r.Skipped)
		if r.ESSFresh == 0 {
			fresh.Append(math.NaN())
			acc.Append(math.NaN())
		} else {
			fresh.Append(r.ESSFresh)
			acc.Append(r.AccFresh)
		}
		cpu.Append(r.CPUSeconds)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return writeAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<16)
		fw, err := ipc.NewFileWriter(bw, ipc.WithSchema(schema), ipc.WithAllocator(mem))
		if err != nil {
			return err
		}
		err = fw.Write(rec)
		if cerr := fw.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		return bw.Flush()
	})
}

// ReadLog reads a training log written by WriteLog: its rows and its
// schema metadata. It returns a one-line error for a file that is not an
// Arrow IPC file or lacks a column of the right type.
//
// Logs of older latflow versions have fewer columns and still load: a log
// without ess_fresh (8 columns) reads ESSFresh 0 (not measured), one
// without acc_fresh and cpu_seconds (9 columns) reads AccFresh 0 and
// CPUSeconds NaN (unknown).
func ReadLog(path string) ([]LogRow, map[string]string, error) {
	fail := func(format string, a ...any) ([]LogRow, map[string]string, error) {
		msg := fmt.Sprintf(format, a...)
		return nil, nil, fmt.Errorf("flowtrain: training log %s: %s", path, strings.Join(strings.Fields(msg), " "))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("flowtrain: training log: %w", err)
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f)
	if err != nil {
		return fail("not an Arrow IPC file: %v", err)
	}
	defer r.Close()
	want := logSchema(nil)
	sc := r.Schema()
	// Logs written before ess_fresh have three columns less, those
	// written before acc_fresh and cpu_seconds two.
	ncol := sc.NumFields()
	if ncol != want.NumFields() && ncol != want.NumFields()-2 && ncol != want.NumFields()-3 {
		return fail("%d columns, want %d (or %d or %d for older logs)", ncol, want.NumFields(), want.NumFields()-2, want.NumFields()-3)
	}
	for i, fw := range want.Fields()[:sc.NumFields()] {
		if fg := sc.Field(i); fg.Name != fw.Name || !arrow.TypeEqual(fg.Type, fw.Type) {
			return fail("column %d is %s %s, want %s %s", i, fg.Name, fg.Type, fw.Name, fw.Type)
		}
	}
	md := sc.Metadata().ToMap()
	var rows []LogRow
	for i := 0; i < r.NumRecords(); i++ {
		rec, err := r.RecordBatchAt(i)
		if err != nil {
			return fail("record batch %d: %v", i, err)
		}
		step := rec.Column(0).(*array.Int64).Int64Values()
		var fs [6][]float64
		for k := range fs {
			fs[k] = rec.Column(1 + k).(*array.Float64).Float64Values()
		}
		sk := rec.Column(7).(*array.Boolean)
		var fresh, acc, cpu []float64
		if ncol > 8 {
			fresh = rec.Column(8).(*array.Float64).Float64Values()
		}
		if ncol > 9 {
			acc = rec.Column(9).(*array.Float64).Float64Values()
			cpu = rec.Column(10).(*array.Float64).Float64Values()
		}
		for j := range step {
			row := LogRow{Step: step[j], Loss: fs[0][j], GradNorm: fs[1][j], ESS: fs[2][j],
				StdLogW: fs[3][j], LR: fs[4][j], WallSeconds: fs[5][j], Skipped: sk.Value(j), CPUSeconds: math.NaN()}
			if fresh != nil && !math.IsNaN(fresh[j]) {
				row.ESSFresh = fresh[j]
				if acc != nil && !math.IsNaN(acc[j]) {
					row.AccFresh = acc[j]
				}
			}
			if cpu != nil {
				row.CPUSeconds = cpu[j]
			}
			rows = append(rows, row)
		}
		rec.Release()
	}
	return rows, md, nil
}

// Tail is the mean of the last tenth (at least one) of a training log's
// steps, over the steps that updated with finite values.
type Tail struct {
	Steps              int
	Loss, StdLogW, ESS float64
}

// TailMeans returns the means of the last tenth of log, with ok false if
// none of those steps has finite values.
func TailMeans(log []LogRow) (t Tail, ok bool) {
	if len(log) == 0 {
		return t, false
	}
	for _, row := range log[len(log)-max(1, len(log)/10):] {
		s := row.Loss + row.StdLogW + row.ESS
		if row.Skipped || math.IsNaN(s) || math.IsInf(s, 0) {
			continue
		}
		t.Steps++
		t.Loss, t.StdLogW, t.ESS = t.Loss+row.Loss, t.StdLogW+row.StdLogW, t.ESS+row.ESS
	}
	if t.Steps == 0 {
		return t, false
	}
	n := float64(t.Steps)
	t.Loss, t.StdLogW, t.ESS = t.Loss/n, t.StdLogW/n, t.ESS/n
	return t, true
}
