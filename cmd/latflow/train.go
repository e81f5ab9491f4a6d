package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"latflow/dataset"
	"latflow/flow"
	"latflow/flowtrain"
	"latflow/internal/couplings"
	"latflow/nn"
	"latflow/telemetry"
)

// Files of a training run, derived from --out.
const (
	checkpointSuffix = ".ckpt"      // OUT.ckpt
	trainLogSuffix   = ".log.arrow" // OUT.log.arrow
)

// Precisions accepted by --precision.
const (
	precisionFloat64 = "float64"
	precisionFloat32 = "float32"
)

func trainCommand() *cli.Command {
	return &cli.Command{
		Name:  "train",
		Usage: "train a normalizing flow for U(1) gauge theory or phi^4 theory",
		Description: "Trains the gauge-equivariant flow (u1) or the RealNVP flow (phi4) by Adam on the reverse KL\n" +
			"(samples from the flow) or the forward KL (configurations of an HMC dataset, --data), with the\n" +
			"standard, drop-in path or fast path gradient, and saves the model to --out.\n\n" +
			"Files: --out OUT is the model; OUT.ckpt is the checkpoint, written every --checkpoint-every\n" +
			"steps and on SIGINT/SIGTERM (a finished run keeps the one of the last multiple); OUT.log.arrow\n" +
			"is the training log (Arrow IPC: step, loss, grad_norm, ess, std_logw, lr, wall_seconds,\n" +
			"skipped), rewritten whole with each checkpoint and at the end. An existing OUT, OUT.ckpt or\n" +
			"OUT.log.arrow is not overwritten unless --force (which starts afresh) or --resume (which\n" +
			"continues from OUT.ckpt and needs the same parameters; the result equals an uninterrupted\n" +
			"run bit for bit; --threads, --checkpoint-every and --max-skips may change).\n\n" +
			"A step whose loss or gradient is not finite is skipped (reported on stderr, counted in the\n" +
			"log); --max-skips in a row stop the run and keep the last checkpoint. The forward objective\n" +
			"draws each batch uniformly at random, with replacement, from all saved configurations.\n" +
			"The flow is initialized from the PCG stream (--seed, 0) and trained with (--seed, 1).",
		Flags: append(append(theoryFlags(), archFlags()...),
			&cli.StringFlag{Name: flagObjective, Value: flowtrain.Reverse.String(), Usage: "KL direction: reverse (samples from the flow) or forward (samples from --data)"},
			&cli.StringFlag{Name: flagGradient, Value: flowtrain.FastPath.String(), Usage: "gradient estimator: standard, dropin-path or fast-path"},
			&cli.IntFlag{Name: flagSteps, Value: 1000, Usage: "training steps (> 0)"},
			&cli.IntFlag{Name: flagBatch, Value: 64, Usage: "samples per step (> 0)"},
			&cli.Float64Flag{Name: flagLR, Value: 1e-3, Usage: "Adam learning rate (> 0)"},
			&cli.StringFlag{Name: flagSchedule, Value: "constant", Usage: "learning-rate schedule: " + flowtrain.ScheduleNames},
			&cli.Float64Flag{Name: flagClip, Usage: "clip the gradient norm to this value (0: no clipping)"},
			&cli.StringSliceFlag{Name: flagData, Usage: "forward objective: dataset `DIR` written by latflow hmc --save-every K --out DIR (repeatable)"},
			&cli.StringFlag{Name: flagOut, Usage: "model file to write (required); the checkpoint and the log are named after it"},
			&cli.IntFlag{Name: flagCheckpointEvery, Value: 100, Usage: "write the checkpoint every K steps (0: only on interrupt)"},
			&cli.BoolFlag{Name: flagResume, Usage: "continue from the checkpoint OUT.ckpt"},
			&cli.BoolFlag{Name: flagForce, Usage: "overwrite an existing model, checkpoint and log and start afresh"},
			&cli.IntFlag{Name: flagMaxSkips, Value: flowtrain.DefaultMaxSkips, Usage: "skipped (non-finite) steps in a row that stop the run (>= 1)"},
			&cli.Uint64Flag{Name: flagSeed, Value: 1, Usage: "random seed; the same seed gives the same model bit for bit"},
			&cli.IntFlag{Name: flagThreads, Usage: "worker goroutines (0: GOMAXPROCS); results do not depend on it"},
			&cli.StringFlag{Name: flagTraceFile, Usage: "write OpenTelemetry spans as JSON lines to `FILE` (OTLP/HTTP: set OTEL_EXPORTER_OTLP_ENDPOINT)"},
			&cli.DurationFlag{Name: flagMaxTime, Usage: "stop training normally after this wall time (e.g. 10m; 0: no limit); the model records the steps done"},
			&cli.IntFlag{Name: flagEval, Usage: "after training, draw N samples from the flow and report ESS and independence-Metropolis acceptance (0: none)"},
			jsonFlag(),
		),
		Action: runTrain,
	}
}

// theoryFlags are the theory, lattice and coupling flags of hmc, for
// train and bench.
func theoryFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagTheory, Value: theoryU1, Usage: "theory: u1 or phi4"},
		&cli.IntFlag{Name: flagL, Value: 16, Usage: "lattice extent L (u1: multiple of 4; phi4: even; >= 4)"},
		&cli.Float64Flag{Name: flagBeta, Value: 3.0, Usage: "u1: gauge coupling beta > 0"},
		&cli.Float64Flag{Name: flagM2, Value: -4, Usage: "phi4 standard parametrization: mass term m2"},
		&cli.Float64Flag{Name: flagLambda, Value: 8, Usage: "phi4: quartic coupling lambda >= 0"},
		&cli.Float64Flag{Name: flagKappa, Usage: "phi4 hopping parametrization: hopping parameter kappa (use with --lambda)"},
	}
}

// archFlags are the flow architecture flags; unset ones take
// flow.DefaultConfig.
func archFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: flagLayers, Usage: "coupling layers (default: 24 for u1, 16 for phi4)"},
		&cli.IntFlag{Name: flagMixtures, Usage: "u1: non-compact projections mixed per coupling (default 6)"},
		&cli.StringFlag{Name: flagHidden, Value: "8,8", Usage: "hidden channels of each conditioner CNN, comma-separated (\"\": none)"},
		&cli.IntFlag{Name: flagKernel, Value: 3, Usage: "odd convolution kernel size, at most L"},
		&cli.StringFlag{Name: flagPrecision, Value: precisionFloat64, Usage: "flow arithmetic: float64 or float32 (parameters are kept in float64)"},
	}
}

// archFromFlags returns the flow architecture of the flags for theory name
// on an L x L lattice, and the precision.
func archFromFlags(c *cli.Context, name string, L int) (flow.Config, string, error) {
	cfg := flow.DefaultConfig(name, L)
	if c.IsSet(flagLayers) {
		cfg.Layers = c.Int(flagLayers)
		if cfg.Layers < 1 {
			return cfg, "", usagef("--%s must be at least 1, got %d", flagLayers, cfg.Layers)
		}
	}
	if c.IsSet(flagMixtures) {
		if name != theoryU1 {
			return cfg, "", usagef("--%s applies to --%s %s only", flagMixtures, flagTheory, theoryU1)
		}
		cfg.Mixtures = c.Int(flagMixtures)
		if cfg.Mixtures < 1 {
			return cfg, "", usagef("--%s must be at least 1, got %d", flagMixtures, cfg.Mixtures)
		}
	}
	hidden, err := parseHidden(c.String(flagHidden))
	if err != nil {
		return cfg, "", err
	}
	cfg.Hidden = hidden
	cfg.Kernel = c.Int(flagKernel)
	if cfg.Kernel < 1 || cfg.Kernel%2 == 0 || cfg.Kernel > L {
		return cfg, "", usagef("--%s must be odd with 1 <= kernel <= L=%d, got %d", flagKernel, L, cfg.Kernel)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, "", usagef("flow architecture: %v", err)
	}
	prec := c.String(flagPrecision)
	if prec != precisionFloat64 && prec != precisionFloat32 {
		return cfg, "", usagef("--%s must be %s or %s, got %q", flagPrecision, precisionFloat64, precisionFloat32, prec)
	}
	return cfg, prec, nil
}

// parseHidden parses --hidden "8,8" (empty: no hidden layer).
func parseHidden(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return []int{}, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, usagef("--%s must be comma-separated positive channel counts such as 8,8, got %q", flagHidden, s)
		}
		out = append(out, n)
	}
	return out, nil
}

// trainConfig is a validated train run.
type trainConfig struct {
	th        *theory
	run       flowtrain.RunParams
	obj       flowtrain.Objective
	grad      flowtrain.GradientType
	workers   int
	every     int
	maxSkips  int
	out       string
	ckpt      string
	logPath   string
	resume    bool
	force     bool
	dataDirs  []string
	data      [][]float64
	estimator string // "reverse fast-path"
}

// parseTrain validates the flags of latflow train (not yet the files).
func parseTrain(c *cli.Context) (*trainConfig, error) {
	th, err := theoryFromFlags(c)
	if err != nil {
		return nil, err
	}
	name, L := th.name, th.geom.L
	arch, prec, err := archFromFlags(c, name, L)
	if err != nil {
		return nil, err
	}
	obj, err := flowtrain.ParseObjective(c.String(flagObjective))
	if err != nil {
		return nil, usagef("--%s must be reverse or forward, got %q", flagObjective, c.String(flagObjective))
	}
	grad, err := flowtrain.ParseGradient(c.String(flagGradient))
	if err != nil {
		return nil, usagef("--%s must be standard, dropin-path or fast-path, got %q", flagGradient, c.String(flagGradient))
	}
	steps, batch, lr, clip := c.Int(flagSteps), c.Int(flagBatch), c.Float64(flagLR), c.Float64(flagClip)
	switch {
	case steps < 1:
		return nil, usagef("--%s must be positive, got %d", flagSteps, steps)
	case batch < 1:
		return nil, usagef("--%s must be positive, got %d", flagBatch, batch)
	case !(lr > 0) || math.IsInf(lr, 1):
		return nil, usagef("--%s must be positive and finite, got %g", flagLR, lr)
	case !(clip >= 0) || math.IsInf(clip, 1):
		return nil, usagef("--%s must be zero (no clipping) or positive, got %g", flagClip, clip)
	case c.Duration(flagMaxTime) < 0:
		return nil, usagef("--%s must be zero (no limit) or positive, got %v", flagMaxTime, c.Duration(flagMaxTime))
	case c.Int(flagEval) < 0:
		return nil, usagef("--%s must be zero (none) or positive, got %d", flagEval, c.Int(flagEval))
	}
	schedName := c.String(flagSchedule)
	if _, err := flowtrain.ParseSchedule(schedName, lr, steps); err != nil {
		return nil, usagef("--%s must be one of %s, got %q", flagSchedule, flowtrain.ScheduleNames, schedName)
	}
	cfg := &trainConfig{
		th: th, obj: obj, grad: grad,
		workers: c.Int(flagThreads), every: c.Int(flagCheckpointEvery), maxSkips: c.Int(flagMaxSkips),
		out: c.String(flagOut), resume: c.Bool(flagResume), force: c.Bool(flagForce),
		dataDirs:  c.StringSlice(flagData),
		estimator: obj.String() + " " + grad.String(),
	}
	switch {
	case cfg.workers < 0:
		return nil, usagef("--%s must be zero (GOMAXPROCS) or positive, got %d", flagThreads, cfg.workers)
	case cfg.every < 0:
		return nil, usagef("--%s must be zero (only on interrupt) or positive, got %d", flagCheckpointEvery, cfg.every)
	case cfg.maxSkips < 1:
		return nil, usagef("--%s must be at least 1, got %d", flagMaxSkips, cfg.maxSkips)
	case obj == flowtrain.Forward && len(cfg.dataDirs) == 0:
		return nil, usagef("--%s forward needs --%s DIR (a dataset written by latflow hmc --save-every K --out DIR)", flagObjective, flagData)
	case obj == flowtrain.Reverse && len(cfg.dataDirs) > 0:
		return nil, usagef("--%s is used by --%s forward only; the reverse objective samples from the flow", flagData, flagObjective)
	case cfg.out == "":
		return nil, usagef("--%s FILE is required (the model file to write)", flagOut)
	case cfg.resume && cfg.force:
		return nil, usagef("--%s and --%s exclude each other: --%s continues the run, --%s starts afresh", flagResume, flagForce, flagResume, flagForce)
	}
	if cfg.workers == 0 {
		cfg.workers = runtime.GOMAXPROCS(0)
	}
	cfg.ckpt, cfg.logPath = cfg.out+checkpointSuffix, cfg.out+trainLogSuffix
	parametrization := th.parametrization
	if name == theoryU1 {
		parametrization = "" // as in datasets
	}
	cfg.run = flowtrain.RunParams{
		Version: Version, Theory: name, L: L, Couplings: maps.Clone(th.couplings), Parametrization: parametrization,
		Config: arch, Precision: prec, Objective: obj.String(), Gradient: grad.String(),
		Batch: batch, LR: lr, Schedule: schedName, Steps: steps, Clip: clip, Seed: c.Uint64(flagSeed),
	}
	return cfg, nil
}

// checkTrainFiles refuses to overwrite a previous run's files unless
// --force, and needs the checkpoint with --resume.
func checkTrainFiles(cfg *trainConfig) error {
	dir := filepath.Dir(cfg.out)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usagef("--%s %s: directory %s does not exist", flagOut, cfg.out, dir)
	}
	if st, err := os.Stat(cfg.out); err == nil && st.IsDir() {
		return usagef("--%s %s is a directory, want a model file name", flagOut, cfg.out)
	}
	if cfg.resume {
		if _, err := os.Stat(cfg.ckpt); err != nil {
			return usagef("--%s: no checkpoint %s to continue from (start without --%s)", flagResume, cfg.ckpt, flagResume)
		}
		return nil
	}
	for _, p := range []string{cfg.out, cfg.ckpt, cfg.logPath} {
		if _, err := os.Lstat(p); err == nil {
			if !cfg.force {
				return usagef("--%s %s: %s exists; pass --%s to continue its run or --%s to start afresh (nothing was overwritten)",
					flagOut, cfg.out, p, flagResume, flagForce)
			}
		}
	}
	if cfg.force {
		// A stale checkpoint must not be resumed later as if it were this run's.
		if err := os.Remove(cfg.ckpt); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("train: --%s: %w", flagForce, err)
		}
	}
	return nil
}

// loadTrainData reads the configurations of the --data datasets and checks
// that they belong to the run's theory, L and couplings.
func loadTrainData(cfg *trainConfig) error {
	dirs := strings.Join(cfg.dataDirs, ", ")
	ds, err := dataset.OpenWith(dataset.OpenOptions{Configs: true}, cfg.dataDirs...)
	if err != nil {
		return usagef("--%s: %v", flagData, err)
	}
	m, run := ds.Meta, cfg.run
	if m.Theory != run.Theory {
		return usagef("--%s %s holds theory %q, this run has --%s %s", flagData, dirs, m.Theory, flagTheory, run.Theory)
	}
	if m.L != run.L {
		return usagef("--%s %s holds L=%d, this run has --%s %d", flagData, dirs, m.L, flagL, run.L)
	}
	if run.Theory == theoryPhi4 && m.Parametrization != run.Parametrization {
		return usagef("--%s %s is in the %s parametrization of phi^4, this run in the %s one", flagData, dirs, m.Parametrization, run.Parametrization)
	}
	if d := couplings.FirstDiff(m.Couplings, run.Couplings); d.Differ {
		val := func(v float64, ok bool) string {
			if !ok {
				return "none"
			}
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
		return usagef("--%s %s holds %s=%s, this run has --%s %s", flagData, dirs, d.Name, val(d.A, d.InA), d.Name, val(d.B, d.InB))
	}
	if ds.ConfigSize != cfg.th.size && ds.ConfigName != "" {
		return usagef("--%s %s holds configurations of %d values, want %d", flagData, dirs, ds.ConfigSize, cfg.th.size)
	}
	cfg.data = ds.Configs()
	if len(cfg.data) == 0 {
		return usagef("--%s %s holds no configurations; write them with latflow hmc --%s K --%s DIR", flagData, dirs, flagSaveEvery, flagOut)
	}
	cfg.run.Data = cfg.dataDirs
	cfg.run.DataConfigs, cfg.run.DataDigest = len(cfg.data), flowtrain.DataDigest(cfg.data)
	return nil
}

func runTrain(c *cli.Context) (err error) {
	cfg, err := parseTrain(c)
	if err != nil {
		return err
	}
	if err := checkTrainFiles(cfg); err != nil {
		return err
	}
	if cfg.obj == flowtrain.Forward {
		if err := loadTrainData(cfg); err != nil {
			return err
		}
	}
	var ckpt *flowtrain.Checkpoint
	if cfg.resume {
		if ckpt, err = flowtrain.LoadCheckpoint(cfg.ckpt); err != nil {
			return fmt.Errorf("train: --%s: %w", flagResume, err)
		}
		if name, saved, given := ckpt.Run.Mismatch(cfg.run); name != "" {
			return usagef("--%s: checkpoint %s was made with --%s %s, this run has --%s %s; give the same value to continue it",
				flagResume, cfg.ckpt, name, saved, name, given)
		}
	}
	tel, err := telemetry.Setup(c.Context, telemetry.Options{TraceFile: c.String(flagTraceFile), Version: Version})
	if err != nil {
		return usagef("--%s: %v", flagTraceFile, err)
	}
	defer func() {
		if serr := tel.Shutdown(context.Background()); serr != nil && err == nil {
			err = fmt.Errorf("flushing traces: %w", serr)
		}
	}()
	if cfg.run.Precision == precisionFloat32 {
		return trainWith[float32](c, cfg, ckpt, tel.Tracer())
	}
	return trainWith[float64](c, cfg, ckpt, tel.Tracer())
}

// trainWith builds the flow of element type T and trains it.
func trainWith[T nn.Float](c *cli.Context, cfg *trainConfig, ckpt *flowtrain.Checkpoint, tracer trace.Tracer) error {
	run, stderr := cfg.run, c.App.ErrWriter
	f, err := flow.New[T](run.Config, rand.New(rand.NewPCG(run.Seed, 0)))
	if err != nil {
		return usagef("flow architecture: %v", err)
	}
	sched, err := flowtrain.ParseSchedule(run.Schedule, run.LR, run.Steps)
	if err != nil {
		return usagef("--%s: %v", flagSchedule, err)
	}
	tr, err := flowtrain.NewTrainer(f, cfg.th.act, rand.NewPCG(run.Seed, 1), flowtrain.Options{
		Objective: cfg.obj, Gradient: cfg.grad, Batch: run.Batch, Workers: cfg.workers,
		Schedule: sched, Clip: run.Clip, MaxSkips: cfg.maxSkips, Data: cfg.data,
	})
	if err != nil {
		return usagef("--%s %s --%s %s: %v", flagObjective, cfg.obj, flagGradient, cfg.grad, err)
	}
	if ckpt != nil {
		if err := tr.Restore(ckpt); err != nil {
			return fmt.Errorf("train: --%s %s: %w", flagResume, cfg.ckpt, err)
		}
	}

	ctx, span := tracer.Start(c.Context, "run", trace.WithAttributes(telemetry.RunAttributes(run.Theory, run.L, run.Couplings)...))
	span.SetAttributes(attribute.String("latflow.command", "train"), attribute.String("latflow.estimator", cfg.estimator),
		attribute.Int("latflow.batch", run.Batch), attribute.Int("latflow.steps", run.Steps))
	defer span.End()

	fmt.Fprintf(stderr, "latflow train: %s; %s; %s, batch %d, lr %g (%s), %d steps, seed %d\n",
		cfg.th.describe(), describeArch(run.Config, f.NumParams(), run.Precision), cfg.estimator, run.Batch, run.LR, run.Schedule, run.Steps, run.Seed)
	if ckpt != nil {
		fmt.Fprintf(stderr, "latflow train: continuing from step %d of %s\n", ckpt.Step, cfg.ckpt)
	}
	start := tr.StepsDone()
	prog := newProgress(stderr, "train", int64(run.Steps))
	prog.add(int64(start))
	t0 := time.Now()
	lastCkpt := -1
	if ckpt != nil {
		lastCkpt = ckpt.Step
	}
	var until time.Time
	if d := c.Duration(flagMaxTime); d > 0 {
		until = t0.Add(d)
	}
	err = tr.Train(ctx, flowtrain.TrainOptions{
		Until: until, Steps: run.Steps, Run: run, Checkpoint: cfg.ckpt, CheckpointEvery: cfg.every, Log: cfg.logPath,
		OnStep: func(r flowtrain.StepResult) {
			if r.Skipped {
				prog.printf("latflow train: step %d skipped (%d in a row, %d in all): %s\n", r.Step, r.SkipRun, tr.Skipped(), r.Reason)
			}
			rate := float64(tr.StepsDone()-start) / time.Since(t0).Seconds()
			status := fmt.Sprintf("loss %.4g  std(log w) %.3g  ESS %.3f  %.1f steps/s", r.Loss, r.StdLogW, r.ESS, rate)
			if n := tr.Skipped(); n > 0 {
				status += fmt.Sprintf("  skipped %d", n)
			}
			prog.setStatus(status)
			prog.add(1)
		},
		OnSave: func(step int, d time.Duration) {
			lastCkpt = step
			_, s := tracer.Start(ctx, "checkpoint", trace.WithTimestamp(time.Now().Add(-d)),
				trace.WithAttributes(attribute.Int("latflow.step", step), attribute.String("latflow.file", cfg.ckpt)))
			s.End()
		},
	})
	prog.finish()
	span.SetAttributes(attribute.Int("latflow.steps_done", tr.StepsDone()), attribute.Int("latflow.skipped", tr.Skipped()))
	if err != nil {
		kept := "no checkpoint was written"
		if lastCkpt >= 0 {
			kept = fmt.Sprintf("checkpoint %s (step %d) is kept", cfg.ckpt, lastCkpt)
		}
		if errors.Is(err, context.Canceled) || c.Context.Err() != nil {
			return &interruptedError{msg: fmt.Sprintf("train: interrupted after step %d of %d; %s; continue with --%s",
				tr.StepsDone(), run.Steps, kept, flagResume)}
		}
		if errors.Is(err, flowtrain.ErrTooManySkips) {
			return fmt.Errorf("train: %w; %s; log %s (lower --%s or set --%s)", err, kept, cfg.logPath, flagLR, flagClip)
		}
		return fmt.Errorf("train: %w", err)
	}

	m := tr.Model()
	m.Couplings, m.Parametrization = maps.Clone(run.Couplings), run.Parametrization
	m.Provenance = flow.Provenance{Version: Version, Steps: tr.StepsDone(), Estimator: cfg.estimator, Seed: run.Seed, Date: time.Now().UTC()}
	if err := flow.Save(cfg.out, m); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	fmt.Fprintf(stderr, "latflow train: model saved to %s (log %s)\n", cfg.out, cfg.logPath)
	rep := newTrainReport(cfg, tr.Log(), f.NumParams(), tr.Skipped(), tr.Updates())
	if n := c.Int(flagEval); n > 0 {
		ev, err := evaluateFlow(ctx, f, cfg.th.act, n, run.Batch, cfg.workers, rand.New(rand.NewPCG(run.Seed, 2)))
		if err != nil {
			return fmt.Errorf("train: evaluation: %w", err)
		}
		rep.Eval = &ev
	}
	return rep.write(c.App.Writer, c.Bool(flagJSON))
}

// describeArch is a one-line description of a flow architecture.
func describeArch(a flow.Config, params int, precision string) string {
	hidden := make([]string, len(a.Hidden))
	for i, h := range a.Hidden {
		hidden[i] = strconv.Itoa(h)
	}
	s := fmt.Sprintf("flow %d layers", a.Layers)
	if a.Theory == theoryU1 {
		s += fmt.Sprintf(", %d mixtures", a.Mixtures)
	}
	return s + fmt.Sprintf(", hidden [%s], kernel %d, %d parameters, %s", strings.Join(hidden, ","), a.Kernel, params, precision)
}

// trainReport is the summary of a finished training run.
type trainReport struct {
	Description     string             `json:"description"`
	Theory          string             `json:"theory"`
	L               int                `json:"L"`
	Couplings       map[string]float64 `json:"couplings"`
	Parametrization string             `json:"parametrization,omitempty"`
	Flow            flow.Config        `json:"flow"`
	Params          int                `json:"params"`
	Precision       string             `json:"precision"`
	Estimator       string             `json:"estimator"`
	Batch           int                `json:"batch"`
	LR              float64            `json:"lr"`
	Schedule        string             `json:"schedule"`
	Seed            uint64             `json:"seed"`
	Steps           int                `json:"steps"`
	Skipped         int                `json:"skipped"`
	Updates         int                `json:"updates"`
	// Final are the means over the last tenth of the steps (not skipped).
	FinalSteps   int       `json:"final_steps"`
	FinalLoss    *float64  `json:"final_loss,omitempty"`
	FinalStdLogW *float64  `json:"final_std_logw,omitempty"`
	FinalESS     *float64  `json:"final_ess,omitempty"`
	WallSeconds  float64   `json:"wall_seconds"`
	Eval         *flowEval `json:"evaluation,omitempty"`
	Model        string    `json:"model"`
	Checkpoint   string    `json:"checkpoint"`
	Log          string    `json:"log"`
}

func newTrainReport(cfg *trainConfig, log []flowtrain.LogRow, params, skipped, updates int) trainReport {
	run := cfg.run
	r := trainReport{
		Description: cfg.th.describe(), Theory: run.Theory, L: run.L, Couplings: run.Couplings, Parametrization: run.Parametrization,
		Flow: run.Config, Params: params, Precision: run.Precision, Estimator: cfg.estimator,
		Batch: run.Batch, LR: run.LR, Schedule: run.Schedule, Seed: run.Seed,
		Steps: len(log), Skipped: skipped, Updates: updates,
		Model: cfg.out, Checkpoint: cfg.ckpt, Log: cfg.logPath,
	}
	if len(log) > 0 {
		r.WallSeconds = log[len(log)-1].WallSeconds
	}
	tail := log[len(log)-max(1, len(log)/10):]
	var loss, std, ess float64
	for _, row := range tail {
		if row.Skipped || math.IsNaN(row.Loss+row.StdLogW+row.ESS) || math.IsInf(row.Loss+row.StdLogW+row.ESS, 0) {
			continue
		}
		r.FinalSteps++
		loss, std, ess = loss+row.Loss, std+row.StdLogW, ess+row.ESS
	}
	if n := float64(r.FinalSteps); n > 0 {
		loss, std, ess = loss/n, std/n, ess/n
		r.FinalLoss, r.FinalStdLogW, r.FinalESS = &loss, &std, &ess
	}
	return r
}

func (r trainReport) write(w io.Writer, asJSON bool) error {
	if asJSON {
		return writeJSON(w, r)
	}
	fmt.Fprintln(w, r.Description)
	fmt.Fprintf(w, "%s; %s, batch %d, lr %g (%s), seed %d\n", describeArch(r.Flow, r.Params, r.Precision), r.Estimator, r.Batch, r.LR, r.Schedule, r.Seed)
	fmt.Fprintf(w, "steps %d (%d updates, %d skipped) in %.1f s\n", r.Steps, r.Updates, r.Skipped, r.WallSeconds)
	if r.FinalLoss != nil {
		fmt.Fprintf(w, "last %d steps: loss %.6g, std(log w) %.4g, ESS %.4f\n", r.FinalSteps, *r.FinalLoss, *r.FinalStdLogW, *r.FinalESS)
	}
	if e := r.Eval; e != nil {
		fmt.Fprintf(w, "evaluation on %d flow samples: ESS/N %.4f, independence Metropolis acceptance %.4f\n", e.Samples, e.ESS, e.Acceptance)
	}
	fmt.Fprintf(w, "model %s, log %s, checkpoint %s\n", r.Model, r.Log, r.Checkpoint)
	return nil
}
