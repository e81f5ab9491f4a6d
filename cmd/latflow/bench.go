package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"go.opentelemetry.io/otel/attribute"

	"latflow/ensemble"
	"latflow/flow"
	"latflow/flowtrain"
	"latflow/nn"
	"latflow/sampler"
)

// benchOptions are the flags of latflow bench.
type benchOptions struct {
	target                 targetOptions
	arch                   archOptions
	batch, repeat, threads int
	seed                   uint64
	json, force            bool
	traceFile              string
	// lList and layersList are --L and --layers as given: an integer or a
	// comma-separated list, parsed by bench itself so that the shared
	// target and architecture flags of the other commands stay integers.
	lList, layersList string
	// variance, samples and model are --variance, --samples and --model.
	variance bool
	samples  int
	model    string
	set      flagSet
}

// Bounds and defaults of latflow bench.
const (
	// maxRepeat bounds --repeat.
	maxRepeat = 1000
	// maxBenchConfigs bounds the number of (L, layers) pairs of a list run.
	maxBenchConfigs = 256
	// defaultVarianceSamples, minVarianceSamples and maxVarianceSamples
	// are the default and the bounds of --samples.
	defaultVarianceSamples = 256
	minVarianceSamples     = 256
	maxVarianceSamples     = 1 << 16
)

// The PCG streams (--seed, k) of latflow bench: the flow's initial
// parameters, the forward batch of the timings, the estimators' draws and
// the samples of the variance measurement.
const (
	streamBenchFlow    = 0
	streamBenchData    = 2
	streamBenchDraws   = 3
	streamBenchTarget  = 4
	streamBenchReverse = 5
)

func benchCommand() *cli.Command {
	o := &benchOptions{}
	return &cli.Command{
		Name:      "bench",
		UsageText: benchUsage,
		Usage:     "time the six gradient estimators, or measure their per-sample gradient variance",
		Description: "Builds a flow (default architecture unless --layers etc. are given) and times one\n" +
			"Estimate (loss and gradient of one batch) of each objective (reverse, forward) and gradient\n" +
			"(standard, dropin-path, fast-path): one warm-up call, then --repeat timed calls, and prints\n" +
			"the median milliseconds per step (seconds in --json), the ratio to the standard estimator of the same objective and\n" +
			"the drop-in/fast ratio. The forward estimators run on a batch drawn from the flow itself,\n" +
			"which costs the same as HMC data.\n\n" +
			"Scaling: --L and --layers take comma-separated lists (--L 8,16,32 --layers 8,16,24); every\n" +
			"pair is timed and a table per objective shows ms/step of each gradient, fast/standard and\n" +
			"drop-in/fast by L and layers (--json: all rows under \"runs\").\n\n" +
			"--variance measures instead the per-sample gradient variance of the six estimators at the\n" +
			"current parameters of --model FILE (built at --L) or of a fresh flow: the trace of the\n" +
			"covariance of --samples single-sample gradients, with its error from blocks of samples, and\n" +
			"the ratio of the standard estimator's trace to each path estimator's, on the same samples (a\n" +
			"batch of B samples has trace/B). The reverse samples come from the flow; the forward ones are\n" +
			"exact samples for u1 (independent plaquettes with rejection) and, for phi4, configurations\n" +
			"of one HMC chain (thermalized, then every tenth trajectory). --json carries them under\n" +
			"\"variance\".",
		Flags: o.flags(),
		Action: func(c *cli.Context) (err error) {
			if o.set, err = parsed(c, false); err != nil {
				return err
			}
			o.target.set, o.arch.set = o.set, o.set
			return runBench(c.Context, o, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// flags returns the flags of latflow bench: the shared target and
// architecture flags with --L and --layers as string flags that take lists
// (same names, defaults and usage), and bench's own.
func (o *benchOptions) flags() []cli.Flag {
	var fl []cli.Flag
	for _, f := range append(o.target.flags(), o.arch.flags()...) {
		switch f.Names()[0] {
		case flagL:
			i := f.(*cli.IntFlag)
			f = &cli.StringFlag{Name: flagL, Value: strconv.Itoa(i.Value), Destination: &o.lList,
				Usage: i.Usage + ", or a comma-separated list such as 8,16,32 (timings only)"}
		case flagLayers:
			i := f.(*cli.IntFlag)
			f = &cli.StringFlag{Name: flagLayers, Destination: &o.layersList, DefaultText: i.DefaultText,
				Usage: i.Usage + ", or a comma-separated list such as 8,16,24 (timings only)"}
		}
		fl = append(fl, f)
	}
	return append(fl,
		&cli.IntFlag{Name: flagBatch, Value: 64, Destination: &o.batch, Usage: fmt.Sprintf("samples per step (1 to %d)", maxTrainBatch)},
		&cli.IntFlag{Name: flagRepeat, Value: 5, Destination: &o.repeat, Usage: fmt.Sprintf("timed steps per estimator (1 to %d); the median is reported", maxRepeat)},
		&cli.BoolFlag{Name: flagVariance, Destination: &o.variance, Usage: "measure the per-sample gradient variance of the estimators instead of timing them"},
		&cli.IntFlag{Name: flagSamples, Value: defaultVarianceSamples, Destination: &o.samples, Usage: fmt.Sprintf("with --%s: single-sample gradients per estimator (%d to %d)", flagVariance, minVarianceSamples, maxVarianceSamples)},
		&cli.StringFlag{Name: flagModel, Destination: &o.model, Usage: fmt.Sprintf("with --%s: measure at the trained model `FILE` (built at --%s) instead of a fresh flow", flagVariance, flagL)},
		&cli.Uint64Flag{Name: flagSeed, Value: 1, Destination: &o.seed, Usage: "random seed of the flow and the samples"},
		&cli.IntFlag{Name: flagThreads, Destination: &o.threads, Usage: "worker goroutines (0: GOMAXPROCS)"},
		&cli.StringFlag{Name: flagTraceFile, Destination: &o.traceFile, Usage: "write OpenTelemetry spans to `FILE` as OTLP JSON lines (the Collector's otlpjsonfile format), which must not exist unless --force"},
		&cli.BoolFlag{Name: flagForce, Destination: &o.force, Usage: "overwrite an existing --trace-file"},
		jsonFlag(&o.json),
	)
}

// benchConfig is one (L, layers) pair of a run: its target and flow
// architecture.
type benchConfig struct {
	target ensemble.Target
	arch   flow.Config
}

// parseIntList parses the comma-separated integers s of flag name.
func parseIntList(name, s string) ([]int, error) {
	var out []int
	for _, w := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil {
			return nil, usagef("--%s must be an integer or a comma-separated list of integers such as 8,16,32, got %q", name, s)
		}
		out = append(out, v)
	}
	return out, nil
}

// configs validates the target and architecture flags and returns every
// (L, layers) pair, L major, and the precision.
func (o *benchOptions) configs() ([]benchConfig, string, error) {
	Ls, err := parseIntList(flagL, o.lList)
	if err != nil {
		return nil, "", err
	}
	layers := []int{0} // the architecture's default
	if o.set[flagLayers] {
		if layers, err = parseIntList(flagLayers, o.layersList); err != nil {
			return nil, "", err
		}
		for _, n := range layers {
			if n < 1 || n > maxLayers {
				return nil, "", usagef("--%s must be between 1 and %d, got %d", flagLayers, maxLayers, n)
			}
		}
	}
	if len(Ls)*len(layers) > maxBenchConfigs {
		return nil, "", usagef("--%s and --%s give %d x %d pairs, at most %d", flagL, flagLayers, len(Ls), len(layers), maxBenchConfigs)
	}
	var out []benchConfig
	var prec string
	for _, L := range Ls {
		to := o.target
		to.L = L
		t, err := to.target()
		if err != nil {
			return nil, "", err
		}
		if t.Theory == theorySchwinger {
			return nil, "", usagef("--%s %s: bench does not time the Schwinger model yet (the exact determinant dominates); train it with latflow train --%s %s", flagTheory, theorySchwinger, flagTheory, theorySchwinger)
		}
		for _, n := range layers {
			ao := o.arch
			ao.layers = n
			arch, p, err := ao.config(t)
			if err != nil {
				return nil, "", err
			}
			out = append(out, benchConfig{target: t, arch: arch})
			prec = p
		}
	}
	return out, prec, nil
}

// validate checks the flags that do not depend on the target; configs is
// the number of (L, layers) pairs.
func (o *benchOptions) validate(configs int) error {
	if o.threads < 0 || o.threads > maxThreads {
		return usagef("--%s must be between 0 (GOMAXPROCS) and %d, got %d", flagThreads, maxThreads, o.threads)
	}
	if !o.variance {
		for _, f := range []string{flagSamples, flagModel} {
			if o.set[f] {
				return usagef("--%s applies with --%s only", f, flagVariance)
			}
		}
		switch {
		case o.batch < 1 || o.batch > maxTrainBatch:
			return usagef("--%s must be between 1 and %d, got %d", flagBatch, maxTrainBatch, o.batch)
		case o.repeat < 1 || o.repeat > maxRepeat:
			return usagef("--%s must be between 1 and %d, got %d", flagRepeat, maxRepeat, o.repeat)
		}
		return nil
	}
	for _, f := range []string{flagBatch, flagRepeat} {
		if o.set[f] {
			return usagef("--%s applies to the timings, not to --%s (single-sample gradients)", f, flagVariance)
		}
	}
	if configs > 1 {
		return usagef("--%s measures one flow: give one --%s and at most one --%s, not lists", flagVariance, flagL, flagLayers)
	}
	if o.samples < minVarianceSamples || o.samples > maxVarianceSamples {
		return usagef("--%s must be between %d and %d, got %d", flagSamples, minVarianceSamples, maxVarianceSamples, o.samples)
	}
	if o.set[flagModel] {
		if o.model == "" {
			return usagef("--%s needs a model FILE", flagModel)
		}
		for _, f := range []string{flagLayers, flagMixtures, flagHidden, flagKernel, flagBase, flagBaseBeta, flagBaseMode, flagLayerInit, flagBasePropagator, flagZ2, flagCoupling, flagSplineBins, flagSplineBound, flagZeroModeBins, flagZeroModeBound, flagBlocks, flagSpectral} {
			if o.set[f] {
				return usagef("--%s and --%s exclude each other: the architecture comes from the model", f, flagModel)
			}
		}
	}
	return nil
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

// benchReport is the result of latflow bench for one (L, layers) pair.
type benchReport struct {
	Description string     `json:"description"`
	Flow        string     `json:"flow"`
	Theory      string     `json:"theory"`
	L           int        `json:"L"`
	Layers      int        `json:"layers"`
	Params      int        `json:"parameters"`
	Batch       int        `json:"batch"`
	Threads     int        `json:"threads"`
	GOMAXPROCS  int        `json:"gomaxprocs"`
	Precision   string     `json:"precision"`
	Repeat      int        `json:"repeat"`
	Rows        []benchRow `json:"estimators"`
}

// benchScaling is the result of latflow bench with lists of --L or
// --layers: one report per (L, layers) pair, L major.
type benchScaling struct {
	Description string        `json:"description"`
	Flow        string        `json:"flow"`
	Theory      string        `json:"theory"`
	Batch       int           `json:"batch"`
	Threads     int           `json:"threads"`
	GOMAXPROCS  int           `json:"gomaxprocs"`
	Precision   string        `json:"precision"`
	Repeat      int           `json:"repeat"`
	Runs        []benchReport `json:"runs"`
}

func runBench(ctx context.Context, o *benchOptions, stdout, stderr io.Writer) (err error) {
	cfgs, prec, err := o.configs()
	if err != nil {
		return err
	}
	if err := o.validate(len(cfgs)); err != nil {
		return err
	}
	workers := o.threads
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if o.variance {
		return runVariance(ctx, o, cfgs[0], prec, workers, stdout, stderr)
	}
	if err := checkMemory(benchMemory(cfgs, prec, o.batch)); err != nil {
		return err
	}
	var tt *ensemble.Target
	if len(cfgs) == 1 {
		tt = &cfgs[0].target
	}
	ctx, tc, err := startTracing(ctx, o.traceFile, o.force, "bench", tt)
	if err != nil {
		return err
	}
	defer func() { err = tc.finish(err) }()
	tc.Span().SetAttributes(attribute.Int("latflow.bench.configurations", len(cfgs)))

	prog := newProgress(stderr, "bench", int64(len(cfgs))*6*int64(o.repeat+1))
	defer prog.finish()
	reps := make([]benchReport, len(cfgs))
	for i, c := range cfgs {
		t := c.target
		reps[i] = benchReport{
			Description: t.String(), Theory: t.Theory, L: t.L, Layers: c.arch.Layers, Batch: o.batch, Threads: workers,
			GOMAXPROCS: runtime.GOMAXPROCS(0), Precision: prec, Repeat: o.repeat,
		}
		if prec == precisionFloat32 {
			err = benchWith[float32](ctx, o, c, &reps[i], prog)
		} else {
			err = benchWith[float64](ctx, o, c, &reps[i], prog)
		}
		if err != nil {
			return err
		}
	}
	if len(reps) == 1 {
		if o.json {
			return writeJSON(stdout, reps[0])
		}
		return reps[0].write(stdout)
	}
	t, a := cfgs[0].target, cfgs[0].arch
	sc := benchScaling{
		// The target and the flow without L and layers, which vary.
		Description: strings.Replace(t.String(), fmt.Sprintf("L=%d, ", t.L), "", 1),
		Flow:        strings.Replace(describeArch(a, -1, prec), fmt.Sprintf("flow %d layers, ", a.Layers), "flow ", 1),
		Theory:      t.Theory, Batch: o.batch, Threads: workers, GOMAXPROCS: runtime.GOMAXPROCS(0),
		Precision: prec, Repeat: o.repeat, Runs: reps,
	}
	if o.json {
		return writeJSON(stdout, sc)
	}
	return sc.write(stdout)
}

// benchMemory returns the memory terms of timing the largest of the
// (L, layers) pairs: the pairs are timed one after the other.
func benchMemory(cfgs []benchConfig, prec string, batch int) []memTerm {
	big := cfgs[0]
	for _, c := range cfgs[1:] {
		if flowMemory(c.arch, batch, 8) > flowMemory(big.arch, batch, 8) {
			big = c
		}
	}
	return trainMemory(big.arch, prec, batch, 0)
}

// benchWith times the six estimators on a flow of element type T.
func benchWith[T nn.Float](ctx context.Context, o *benchOptions, c benchConfig, rep *benchReport, prog *progress) error {
	seed, t := o.seed, c.target
	f, err := flow.New[T](c.arch, rand.New(rand.NewPCG(seed, streamBenchFlow)))
	if err != nil {
		return usagef("flow architecture: %v", err)
	}
	rep.Params = f.NumParams()
	rep.Flow = describeArch(c.arch, f.NumParams(), rep.Precision)
	B, workers := rep.Batch, rep.Threads
	prog.printf("latflow bench: %s; %s; batch %d, %d threads, median of %d\n",
		rep.Description, rep.Flow, B, workers, rep.Repeat)

	// Forward data: one batch from the flow itself.
	xs := make([]T, B*f.Size)
	f.Sample(rand.New(rand.NewPCG(seed, streamBenchData)), xs, make([]float64, B), workers)
	data := make([]float64, len(xs))
	for i, v := range xs {
		data[i] = float64(v)
	}
	timings, err := flowtrain.TimeEstimators(ctx, f, t.Action(t.Geometry()), data, B, workers, rep.Repeat,
		func() *rand.Rand { return rand.New(rand.NewPCG(seed, streamBenchDraws)) },
		func(obj flowtrain.Objective, g flowtrain.GradientType) {
			prog.setStatus(fmt.Sprintf("L=%d layers=%d %v %v", t.L, c.arch.Layers, obj, g))
			prog.add(1)
		})
	if ctx.Err() != nil {
		return &interruptedError{msg: "bench: interrupted"}
	}
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	var std, dropIn float64
	for _, tm := range timings {
		row := benchRow{Objective: tm.Objective.String(), Gradient: tm.Gradient.String(), Seconds: tm.Seconds, Median: tm.Median}
		switch tm.Gradient {
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
	return nil
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

// write prints a table per objective: a row per (L, layers) pair with the
// milliseconds per step of each gradient, fast/standard and drop-in/fast.
func (s benchScaling) write(w io.Writer) error {
	fmt.Fprintln(w, s.Description)
	fmt.Fprintf(w, "%s; batch %d, %d threads (GOMAXPROCS %d), median of %d steps\n", s.Flow, s.Batch, s.Threads, s.GOMAXPROCS, s.Repeat)
	for _, obj := range []flowtrain.Objective{flowtrain.Reverse, flowtrain.Forward} {
		fmt.Fprintf(w, "\n%s KL, ms/step\n", obj)
		fmt.Fprintf(w, "%5s %7s %11s %11s %12s %11s %14s %13s\n", "L", "layers", "parameters",
			flowtrain.Standard, flowtrain.DropInPath, flowtrain.FastPath, "fast/standard", "drop-in/fast")
		for _, r := range s.Runs {
			ms := map[string]float64{}
			var fastStd, dropFast float64
			for _, row := range r.Rows {
				if row.Objective != obj.String() {
					continue
				}
				ms[row.Gradient] = 1e3 * row.Median
				if row.Gradient == flowtrain.FastPath.String() {
					fastStd, dropFast = row.VsStandard, row.DropInOverFast
				}
			}
			fmt.Fprintf(w, "%5d %7d %11d %11.3f %12.3f %11.3f %14.2f %13.2f\n", r.L, r.Layers, r.Params,
				ms[flowtrain.Standard.String()], ms[flowtrain.DropInPath.String()], ms[flowtrain.FastPath.String()], fastStd, dropFast)
		}
	}
	return nil
}

// varianceRow is the per-sample gradient variance of one estimator
// (flowtrain.Variance); nil stands for a value that is not finite.
type varianceRow struct {
	Objective string   `json:"objective"`
	Gradient  string   `json:"gradient"`
	Trace     *float64 `json:"trace"`
	TraceErr  *float64 `json:"trace_error"`
	MeanNorm  *float64 `json:"mean_norm"`
	// StandardOver is the standard estimator's trace over this one's (on
	// the same samples), with an error propagated from the two errors as
	// if they were independent.
	StandardOver    *float64 `json:"standard_over_this"`
	StandardOverErr *float64 `json:"standard_over_this_error"`
}

// varianceReport is the result of latflow bench --variance.
type varianceReport struct {
	Description string `json:"description"`
	Flow        string `json:"flow"`
	// Model is the model file (absent for a fresh flow), ModelSHA256 its
	// checksum and ModelTarget what it was trained for.
	Model       string `json:"model,omitempty"`
	ModelSHA256 string `json:"model_sha256,omitempty"`
	ModelTarget string `json:"model_target,omitempty"`
	Theory      string `json:"theory"`
	L           int    `json:"L"`
	Precision   string `json:"precision"`
	Threads     int    `json:"threads"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	Seed        uint64 `json:"seed"`
	// Samples is the number of single-sample gradients per estimator.
	Samples int `json:"samples"`
	// ReverseData and ForwardData say where the samples came from.
	ReverseData string        `json:"reverse_samples"`
	ForwardData string        `json:"forward_samples"`
	Seconds     float64       `json:"seconds"`
	Variance    []varianceRow `json:"variance"`
}

// runVariance measures the per-sample gradient variance of the six
// estimators for one (L, layers) pair.
func runVariance(ctx context.Context, o *benchOptions, c benchConfig, prec string, workers int, stdout, stderr io.Writer) (err error) {
	t := c.target
	rep := varianceReport{
		Description: t.String(), Theory: t.Theory, L: t.L, Precision: prec, Threads: workers,
		GOMAXPROCS: runtime.GOMAXPROCS(0), Seed: o.seed, Samples: o.samples,
	}
	var m *loadedModel
	arch := c.arch
	if o.set[flagModel] {
		if m, err = loadModel(o.model, t.Theory, flagModel); err != nil {
			return err
		}
		if m.Target.Theory != t.Theory {
			return usagef("--%s %s is a flow for --%s %s, this run has --%s %s", flagModel, m.name, flagTheory, m.Target.Theory, flagTheory, t.Theory)
		}
		arch = m.Config
		arch.L = t.L
		if err := arch.Validate(); err != nil {
			return usagef("--%s %s cannot serve --%s %d: %v", flagModel, m.name, flagL, t.L, err)
		}
		rep.Model, rep.ModelSHA256, rep.ModelTarget = m.name, m.sha256, m.Target.String()
	}
	// Per worker a single-sample estimator of each gradient type, and the
	// forward samples.
	elem := 8
	if prec == precisionFloat32 {
		elem = 4
	}
	if err := checkMemory([]memTerm{
		{flagL, strconv.Itoa(t.L), flowMemory(arch, 3*workers, elem), "the flow's passes of three single-sample estimators per thread"},
		{flagSamples, strconv.Itoa(o.samples), 8 * float64(o.samples) * float64(t.Size()), "the forward samples"},
	}); err != nil {
		return err
	}
	ctx, tc, err := startTracing(ctx, o.traceFile, o.force, "bench", &t)
	if err != nil {
		return err
	}
	defer func() { err = tc.finish(err) }()
	tc.Span().SetAttributes(attribute.Int("latflow.bench.samples", o.samples))
	if prec == precisionFloat32 {
		err = varianceWith[float32](ctx, o, t, arch, m, &rep, stderr)
	} else {
		err = varianceWith[float64](ctx, o, t, arch, m, &rep, stderr)
	}
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(stdout, rep)
	}
	return rep.write(stdout)
}

// varianceWith measures the variance on a flow of element type T: the
// model m at t.L, or a fresh flow of arch if m is nil.
func varianceWith[T nn.Float](ctx context.Context, o *benchOptions, t ensemble.Target, arch flow.Config, m *loadedModel, rep *varianceReport, stderr io.Writer) error {
	var f *flow.Flow[T]
	var err error
	if m != nil {
		if f, err = flow.BuildAt[T](m.Model, t.L); err != nil {
			return usagef("--%s %s cannot serve --%s %d: %v", flagModel, m.name, flagL, t.L, err)
		}
	} else if f, err = flow.New[T](arch, rand.New(rand.NewPCG(o.seed, streamBenchFlow))); err != nil {
		return usagef("flow architecture: %v", err)
	}
	rep.Flow = describeArch(f.Config, f.NumParams(), rep.Precision)
	source := "fresh flow"
	if m != nil {
		source = "model " + m.name
		if !m.Target.Equal(t) {
			source += " (trained for " + m.Target.String() + ")"
		}
	}
	n, workers := o.samples, rep.Threads
	fmt.Fprintf(stderr, "latflow bench --variance: %s; %s: %s; %d single-sample gradients per estimator, %d threads, seed %d\n",
		t, source, rep.Flow, n, workers, o.seed)
	start := time.Now()
	prog := newProgress(stderr, "bench --variance", 3*int64(n))
	defer prog.finish()
	interrupted := func() error {
		if ctx.Err() != nil {
			return &interruptedError{msg: "bench: interrupted"}
		}
		return nil
	}
	grads := []flowtrain.GradientType{flowtrain.Standard, flowtrain.DropInPath, flowtrain.FastPath}
	act := t.Action(t.Geometry())

	prog.setStatus("reverse")
	rep.ReverseData = fmt.Sprintf("%d samples of the flow (seed %d)", n, o.seed)
	rev, err := flowtrain.GradientVariance(f, act, flowtrain.Reverse, grads, rand.New(rand.NewPCG(o.seed, streamBenchReverse)), nil, n, workers)
	if err != nil {
		return fmt.Errorf("bench: reverse: %w", err)
	}
	prog.add(int64(n))
	if err := interrupted(); err != nil {
		return err
	}

	prog.setStatus("forward samples")
	data := make([]float64, n*f.Size)
	src := rand.NewPCG(o.seed, streamBenchTarget)
	if rep.ForwardData, err = sampler.TargetSamples(ctx, t, data, src, func() { prog.add(1) }); err != nil {
		if ctx.Err() != nil {
			return &interruptedError{msg: "bench: interrupted"}
		}
		return fmt.Errorf("bench: %w", err)
	}
	rep.ForwardData += fmt.Sprintf(" (seed %d)", o.seed)
	if err := interrupted(); err != nil {
		return err
	}
	prog.setStatus("forward")
	fwd, err := flowtrain.GradientVariance(f, act, flowtrain.Forward, grads, nil, data, n, workers)
	if err != nil {
		return fmt.Errorf("bench: forward: %w", err)
	}
	prog.add(int64(n))
	rep.Seconds = time.Since(start).Seconds()

	for _, vs := range [][]flowtrain.Variance{rev, fwd} {
		std := vs[0]
		for _, v := range vs {
			row := varianceRow{
				Objective: v.Objective.String(), Gradient: v.Gradient.String(),
				Trace: finite(v.Trace), TraceErr: finite(v.TraceErr), MeanNorm: finite(v.MeanNorm),
			}
			r, rErr := 1.0, 0.0 // the standard row's ratio is 1 exactly
			if v.Gradient != flowtrain.Standard {
				r = std.Trace / v.Trace
				rErr = r * math.Hypot(std.TraceErr/std.Trace, v.TraceErr/v.Trace)
			}
			row.StandardOver, row.StandardOverErr = finite(r), finite(rErr)
			rep.Variance = append(rep.Variance, row)
		}
	}
	return nil
}

func (r varianceReport) write(w io.Writer) error {
	fmt.Fprintln(w, r.Description)
	src := "fresh flow"
	if r.Model != "" {
		src = "model " + r.Model
		if r.ModelTarget != r.Description {
			src += " (trained for " + r.ModelTarget + ")"
		}
	}
	fmt.Fprintf(w, "%s: %s; %d threads (GOMAXPROCS %d)\n", src, r.Flow, r.Threads, r.GOMAXPROCS)
	fmt.Fprintf(w, "per-sample gradient variance: trace of the covariance of %d single-sample gradients at fixed parameters\n"+
		"(a batch of B has trace/B), error from its spread over blocks of samples; %.1f s\n", r.Samples, r.Seconds)
	fmt.Fprintf(w, "standard/this: on the same samples, its error propagated as if the two traces were independent\n")
	fmt.Fprintf(w, "reverse samples: %s\n", r.ReverseData)
	fmt.Fprintf(w, "forward samples: %s\n\n", r.ForwardData)
	num := func(v *float64, format string) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprintf(format, *v)
	}
	fmt.Fprintf(w, "%-22s %11s %10s %10s %20s\n", "estimator", "trace", "error", "|mean|", "standard/this")
	for _, row := range r.Variance {
		ratio := num(row.StandardOver, "%.3g") + " +- " + num(row.StandardOverErr, "%.2g")
		switch {
		case row.Gradient == flowtrain.Standard.String():
			ratio = "1"
		case row.Trace != nil && *row.Trace == 0:
			ratio = "inf (path trace 0)"
		}
		fmt.Fprintf(w, "%-22s %11s %10s %10s %20s\n", row.Objective+" "+row.Gradient,
			num(row.Trace, "%.4g"), num(row.TraceErr, "%.2g"), num(row.MeanNorm, "%.3g"), ratio)
	}
	return nil
}
