package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/urfave/cli/v2"

	"latflow/ensemble"
	"latflow/flow"
	"latflow/flowtrain"
	"latflow/nn"
)

// benchOptions are the flags of latflow bench.
type benchOptions struct {
	target                 targetOptions
	arch                   archOptions
	batch, repeat, threads int
	seed                   uint64
	json, force            bool
	traceFile              string
	set                    flagSet
}

// maxRepeat bounds --repeat.
const maxRepeat = 1000

func benchCommand() *cli.Command {
	o := &benchOptions{}
	return &cli.Command{
		Name:  "bench",
		Usage: "time one training step of each of the six gradient estimators",
		Description: "Builds a flow (default architecture unless --layers etc. are given) and times one\n" +
			"Estimate (loss and gradient of one batch) of each objective (reverse, forward) and gradient\n" +
			"(standard, dropin-path, fast-path): one warm-up call, then --repeat timed calls, and prints\n" +
			"the median milliseconds per step (seconds in --json), the ratio to the standard estimator of the same objective and\n" +
			"the drop-in/fast ratio. The forward estimators run on a batch drawn from the flow itself,\n" +
			"which costs the same as HMC data.",
		Flags: append(append(o.target.flags(), o.arch.flags()...),
			&cli.IntFlag{Name: flagBatch, Value: 64, Destination: &o.batch, Usage: fmt.Sprintf("samples per step (1 to %d)", maxTrainBatch)},
			&cli.IntFlag{Name: flagRepeat, Value: 5, Destination: &o.repeat, Usage: fmt.Sprintf("timed steps per estimator (1 to %d); the median is reported", maxRepeat)},
			&cli.Uint64Flag{Name: flagSeed, Value: 1, Destination: &o.seed, Usage: "random seed of the flow and the samples"},
			&cli.IntFlag{Name: flagThreads, Destination: &o.threads, Usage: "worker goroutines (0: GOMAXPROCS)"},
			&cli.StringFlag{Name: flagTraceFile, Destination: &o.traceFile, Usage: "write OpenTelemetry spans as JSON lines to `FILE`, which must not exist unless --force"},
			&cli.BoolFlag{Name: flagForce, Destination: &o.force, Usage: "overwrite an existing --trace-file"},
			jsonFlag(&o.json),
		),
		Action: func(c *cli.Context) (err error) {
			if o.set, err = parsed(c, false); err != nil {
				return err
			}
			o.target.set, o.arch.set = o.set, o.set
			return runBench(c.Context, o, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// benchRow is the timing of one estimator.
type benchRow struct {
	Objective string    `json:"objective"`
	Gradient  string    `json:"gradient"`
	Median    float64   `json:"seconds_per_step"`
	Seconds   []float64 `json:"seconds"`
	// VsStandard is Median over that of the standard estimator of the
	// same objective.
	VsStandard float64 `json:"ratio_to_standard"`
	// DropInOverFast is, on the fast-path row, the drop-in path median
	// over the fast path median.
	DropInOverFast float64 `json:"dropin_over_fast,omitempty"`
}

// benchReport is the result of latflow bench.
type benchReport struct {
	Description string     `json:"description"`
	Flow        string     `json:"flow"`
	Theory      string     `json:"theory"`
	L           int        `json:"L"`
	Batch       int        `json:"batch"`
	Threads     int        `json:"threads"`
	GOMAXPROCS  int        `json:"gomaxprocs"`
	Precision   string     `json:"precision"`
	Repeat      int        `json:"repeat"`
	Rows        []benchRow `json:"estimators"`
}

func runBench(ctx context.Context, o *benchOptions, stdout, stderr io.Writer) (err error) {
	t, err := o.target.target()
	if err != nil {
		return err
	}
	arch, prec, err := o.arch.config(t)
	if err != nil {
		return err
	}
	batch, repeat, workers := o.batch, o.repeat, o.threads
	switch {
	case batch < 1 || batch > maxTrainBatch:
		return usagef("--%s must be between 1 and %d, got %d", flagBatch, maxTrainBatch, batch)
	case repeat < 1 || repeat > maxRepeat:
		return usagef("--%s must be between 1 and %d, got %d", flagRepeat, maxRepeat, repeat)
	case workers < 0 || workers > maxThreads:
		return usagef("--%s must be between 0 (GOMAXPROCS) and %d, got %d", flagThreads, maxThreads, workers)
	}
	if err := checkMemory(trainMemory(arch, prec, batch, 0)); err != nil {
		return err
	}
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	rep := benchReport{
		Description: t.String(), Theory: t.Theory, L: t.L, Batch: batch, Threads: workers,
		GOMAXPROCS: runtime.GOMAXPROCS(0), Precision: prec, Repeat: repeat,
	}
	ctx, tc, err := startTracing(ctx, o.traceFile, o.force, "bench", &t)
	if err != nil {
		return err
	}
	defer func() { err = tc.finish(err) }()
	if prec == precisionFloat32 {
		err = benchWith[float32](ctx, o, t, arch, &rep, stderr)
	} else {
		err = benchWith[float64](ctx, o, t, arch, &rep, stderr)
	}
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(stdout, rep)
	}
	return rep.write(stdout)
}

// benchWith times the six estimators on a flow of element type T.
func benchWith[T nn.Float](ctx context.Context, o *benchOptions, t ensemble.Target, arch flow.Config, rep *benchReport, stderr io.Writer) error {
	seed := o.seed
	f, err := flow.New[T](arch, rand.New(rand.NewPCG(seed, 0)))
	if err != nil {
		return usagef("flow architecture: %v", err)
	}
	rep.Flow = describeArch(arch, f.NumParams(), rep.Precision)
	B, workers := rep.Batch, rep.Threads
	fmt.Fprintf(stderr, "latflow bench: %s; %s; batch %d, %d threads, median of %d\n",
		rep.Description, rep.Flow, B, workers, rep.Repeat)

	// Forward data: one batch from the flow itself.
	xs := make([]T, B*f.Size)
	f.Sample(rand.New(rand.NewPCG(seed, 2)), xs, make([]float64, B), workers)
	data := make([]float64, len(xs))
	for i, v := range xs {
		data[i] = float64(v)
	}
	grad := make([]float64, f.NumParams())
	prog := newProgress(stderr, "bench", 6*int64(rep.Repeat+1))
	defer prog.finish()
	for _, obj := range []flowtrain.Objective{flowtrain.Reverse, flowtrain.Forward} {
		var std, dropIn float64
		for _, g := range []flowtrain.GradientType{flowtrain.Standard, flowtrain.DropInPath, flowtrain.FastPath} {
			if err := ctx.Err(); err != nil {
				return &interruptedError{msg: "bench: interrupted"}
			}
			est, err := flowtrain.NewEstimator(f, t.Action(t.Geometry()), obj, g, B, workers)
			if err != nil {
				return fmt.Errorf("bench: %v %v: %w", obj, g, err)
			}
			rng := rand.New(rand.NewPCG(seed, 3))
			var d []float64
			if obj == flowtrain.Forward {
				d = data
			}
			row := benchRow{Objective: obj.String(), Gradient: g.String()}
			prog.setStatus(obj.String() + " " + g.String())
			for i := 0; i <= rep.Repeat; i++ {
				t0 := time.Now()
				if _, err := est.Estimate(rng, d, grad); err != nil {
					return fmt.Errorf("bench: %v %v: %w", obj, g, err)
				}
				if i > 0 { // the first call is the warm-up
					row.Seconds = append(row.Seconds, time.Since(t0).Seconds())
				}
				prog.add(1)
			}
			row.Median = median(row.Seconds)
			switch g {
			case flowtrain.Standard:
				std = row.Median
			case flowtrain.DropInPath:
				dropIn = row.Median
			case flowtrain.FastPath:
				row.DropInOverFast = dropIn / row.Median
			}
			row.VsStandard = row.Median / std
			rep.Rows = append(rep.Rows, row)
		}
	}
	return nil
}

// median returns the median of xs (the mean of the two middle values for
// an even count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func (r benchReport) write(w io.Writer) error {
	fmt.Fprintln(w, r.Description)
	fmt.Fprintf(w, "%s; batch %d, %d threads (GOMAXPROCS %d), median of %d steps\n\n", r.Flow, r.Batch, r.Threads, r.GOMAXPROCS, r.Repeat)
	fmt.Fprintf(w, "%-22s %12s %12s %14s\n", "estimator", "ms/step", "x standard", "drop-in/fast")
	for _, row := range r.Rows {
		ratio := ""
		if row.DropInOverFast > 0 {
			ratio = fmt.Sprintf("%.2f", row.DropInOverFast)
		}
		fmt.Fprintf(w, "%-22s %12.3f %12.2f %14s\n", row.Objective+" "+row.Gradient, 1e3*row.Median, row.VsStandard, ratio)
	}
	return nil
}
