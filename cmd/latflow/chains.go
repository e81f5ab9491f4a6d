package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"go.opentelemetry.io/otel/attribute"

	"latflow/dataset"
	"latflow/ensemble"
	"latflow/observables"
	"latflow/sampler"
)

// chainOptions are the flags of a Monte Carlo run that hmc and sample
// share: the chains, their length, their dataset and resume.
type chainOptions struct {
	n, therm                     int
	seed                         uint64
	chains, chainOffset, threads int
	out                          string
	saveEvery, partRows          int
	resume, force, json          bool
	saveFloat32                  bool
	traceFile                    string
	// slurmTask is the Slurm array task id (SLURM_ARRAY_TASK_ID), or -1
	// outside an array job.
	slurmTask int
	// elsewhere is set when the run is validated here to run on another
	// machine (latflow submit): this machine's memory does not bound it.
	elsewhere bool
	// partRowsSet records that --part-rows was given (it has a default).
	partRowsSet bool
}

// envSlurmTask is the environment variable that holds a Slurm array task's
// index.
const envSlurmTask = "SLURM_ARRAY_TASK_ID"

// readEnv reads the environment the chains depend on: inside a Slurm
// array task, chain ids start at --chain-offset + task * --chains, so that
// every task of the array writes its own chains of one ensemble.
func (o *chainOptions) readEnv(getenv func(string) string) error {
	o.slurmTask = -1
	v := getenv(envSlurmTask)
	if v == "" {
		return nil
	}
	task, err := strconv.Atoi(v)
	if err != nil || task < 0 {
		return usagef("%s=%q is not a Slurm array task index", envSlurmTask, v)
	}
	o.slurmTask = task
	return nil
}

// firstChain returns the id of the run's first chain.
func (o *chainOptions) firstChain() int {
	if o.slurmTask < 0 {
		return o.chainOffset
	}
	return o.chainOffset + o.slurmTask*o.chains
}

// flags returns the flags with the command's defaults of --n and --therm;
// unit names a step ("trajectories", "proposals").
func (o *chainOptions) flags(n, therm int, unit string) []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: flagN, Value: n, Destination: &o.n, Usage: "measured " + unit + " per chain (>= 2)"},
		&cli.IntFlag{Name: flagTherm, Value: therm, Destination: &o.therm, Usage: "thermalization " + unit + " per chain, not measured (>= 0)"},
		&cli.Uint64Flag{Name: flagSeed, Value: 1, Destination: &o.seed, Usage: "random seed; chain c draws from streams derived from (seed, c), the same bit for bit in any run"},
		&cli.IntFlag{Name: flagChains, Value: 1, Destination: &o.chains, Usage: fmt.Sprintf("independent chains (replicas), run in parallel (1 to %d)", maxChains)},
		&cli.IntFlag{Name: flagChainOffset, Destination: &o.chainOffset, Usage: "id of the first chain, so that separate runs write distinct chains of one ensemble (>= 0)"},
		&cli.IntFlag{Name: flagThreads, Destination: &o.threads, Usage: "worker goroutines (0: GOMAXPROCS); results do not depend on it"},
		&cli.StringFlag{Name: flagOut, Destination: &o.out, Usage: "write the chains as an Arrow dataset into directory `DIR`, with a checkpoint per chain"},
		&cli.IntFlag{Name: flagSaveEvery, Destination: &o.saveEvery, Usage: "with --out, save the configuration every K steps (0 = never)"},
		&cli.BoolFlag{Name: flagSaveFloat32, Destination: &o.saveFloat32, Usage: "with --save-every, store the configurations as float32: half the bytes, values rounded to 2^-24 relative (angles to 2.4e-7)"},
		&cli.IntFlag{Name: flagPartRows, Value: dataset.DefaultRowsPerPart, Destination: &o.partRows, Usage: "with --out, rows per Arrow part file (and per checkpoint)"},
		&cli.BoolFlag{Name: flagResume, Destination: &o.resume, Usage: "continue the chains in --out DIR from their checkpoints (after an interruption, a crash, or with a larger --n); other flags must be as before"},
		&cli.StringFlag{Name: flagTraceFile, Destination: &o.traceFile, Usage: "write OpenTelemetry spans to `FILE` as OTLP JSON lines (the Collector's otlpjsonfile format), which must not exist unless --force (OTLP/HTTP: set OTEL_EXPORTER_OTLP_ENDPOINT)"},
		&cli.BoolFlag{Name: flagForce, Destination: &o.force, Usage: "overwrite an existing --trace-file"},
		jsonFlag(&o.json),
	}
}

// maxPartRows bounds --part-rows: a part is held in memory while it fills.
const maxPartRows = 1 << 20

func (o *chainOptions) validate() error {
	switch {
	case o.n < 2:
		// One measurement has no error bar: the Gamma method needs two.
		return usagef("--%s must be at least 2 (an error bar needs two measurements per chain), got %d", flagN, o.n)
	case o.therm < 0:
		return usagef("--%s must be zero or positive, got %d", flagTherm, o.therm)
	case o.chains < 1 || o.chains > maxChains:
		return usagef("--%s must be between 1 and %d, got %d", flagChains, maxChains, o.chains)
	case o.chainOffset < 0 || o.chainOffset > sampler.MaxChainID-o.chains+1:
		return usagef("--%s must be between 0 and %d (chain ids up to %d), got %d", flagChainOffset, sampler.MaxChainID-o.chains+1, sampler.MaxChainID, o.chainOffset)
	case o.slurmTask >= 0 && int64(o.chainOffset)+int64(o.slurmTask+1)*int64(o.chains)-1 > sampler.MaxChainID:
		return usagef("%s=%d with --%s %d and --%s %d gives chain ids above %d", envSlurmTask, o.slurmTask, flagChainOffset, o.chainOffset, flagChains, o.chains, sampler.MaxChainID)
	case o.threads < 0 || o.threads > maxThreads:
		return usagef("--%s must be between 0 (GOMAXPROCS) and %d, got %d", flagThreads, maxThreads, o.threads)
	case o.saveEvery < 0:
		return usagef("--%s must be zero (never) or positive, got %d", flagSaveEvery, o.saveEvery)
	case o.partRows < 1 || o.partRows > maxPartRows:
		return usagef("--%s must be between 1 and %d, got %d", flagPartRows, maxPartRows, o.partRows)
	case o.out == "" && o.saveEvery > 0:
		return usagef("--%s needs --%s DIR", flagSaveEvery, flagOut)
	case o.out == "" && o.partRowsSet:
		return usagef("--%s needs --%s DIR (it sizes the dataset's part files)", flagPartRows, flagOut)
	case o.saveFloat32 && o.saveEvery == 0:
		return usagef("--%s needs --%s K", flagSaveFloat32, flagSaveEvery)
	case o.out == "" && o.resume:
		return usagef("--%s needs --%s DIR, the dataset of the run to continue", flagResume, flagOut)
	}
	return nil
}

// run returns the sampler.Run of the options, without its update.
func (o *chainOptions) run(t ensemble.Target, samplerName string, settings map[string]string) *sampler.Run {
	settings[flagTherm] = strconv.Itoa(o.therm)
	settings[flagSaveEvery] = strconv.Itoa(o.saveEvery)
	settings[flagSaveFloat32] = strconv.FormatBool(o.saveFloat32)
	return &sampler.Run{
		Target: t, Seed: o.seed, FirstChain: o.firstChain(), Chains: o.chains,
		Therm: o.therm, N: o.n,
		Out: o.out, SaveEvery: o.saveEvery, PartRows: o.partRows, ConfigFloat32: o.saveFloat32,
		Sampler: samplerName, Settings: settings, Resume: o.resume, Version: Version,
	}
}

// runChains runs r with a progress display on stderr and tracing, and
// returns its result and wall time. A SIGINT or SIGTERM becomes an
// interruptedError that says what was kept. On success the run span is
// still open: the caller records its totals (tracing.writeReport) and
// calls tr.finish; on failure runChains has finished it.
func runChains(ctx context.Context, name string, o *chainOptions, r *sampler.Run, stderr io.Writer) (res *sampler.Result, elapsed time.Duration, tr *tracing, err error) {
	if o.slurmTask >= 0 {
		// The environment, not a flag, chose the chain ids: say which.
		fmt.Fprintf(stderr, "latflow %s: %s=%d: chain %s (--%s %d + %d x --%s %d)\n", name, envSlurmTask, o.slurmTask,
			chainRange(r.FirstChain, r.Chains), flagChainOffset, o.chainOffset, o.slurmTask, flagChains, o.chains)
	}
	if err := r.Prepare(); err != nil {
		return nil, 0, nil, runError(err)
	}
	t := r.Target
	sctx, tr, err := startTracing(ctx, o.traceFile, o.force, name, &t)
	if err != nil {
		return nil, 0, nil, err
	}
	defer func() {
		if err != nil {
			err = tr.finish(err)
		}
	}()
	tr.Span().SetAttributes(attribute.Int("latflow.chains", r.Chains))
	tracer := tr.Tracer

	prog := newProgress(stderr, name, int64(r.Chains)*int64(r.Therm+r.N))
	r.Hooks = sampler.Hooks{Progress: prog.add, Resumed: prog.resumed, Tracer: tracer}
	start := time.Now()
	res, err = r.Start(sctx)
	prog.finish()
	elapsed = time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			msg := fmt.Sprintf("%s: interrupted after %d measured steps", name, res.Steps())
			if r.Out != "" {
				msg += fmt.Sprintf("; %d steps saved in %s; continue with --%s", res.Saved(), r.Out, flagResume)
			}
			return res, elapsed, tr, &interruptedError{msg: msg}
		}
		return res, elapsed, tr, diskFull(runError(err), r.Out)
	}
	if r.Out != "" {
		fmt.Fprintf(stderr, "latflow %s: %d steps saved in %s\n", name, res.Saved(), r.Out)
	}
	return res, elapsed, tr, nil
}

// chainRange formats the chain ids first, ..., first+n-1: "id 3", "ids 3
// to 5".
func chainRange(first, n int) string {
	if n == 1 {
		return "id " + strconv.Itoa(first)
	}
	return fmt.Sprintf("ids %d to %d", first, first+n-1)
}

// diskFull adds to an error of a run that writes the dataset out what a
// full disk leaves there and how to continue; other errors pass unchanged.
func diskFull(err error, out string) error {
	if out == "" || !errors.Is(err, syscall.ENOSPC) {
		return err
	}
	return fmt.Errorf("%w; the disk is full: the complete parts and the checkpoints in %s are kept, so after freeing "+
		"space the same command with --%s continues the chains, with the rows an uninterrupted run writes", err, out, flagResume)
}

// runError maps the setting errors of the sampler to bad usage.
func runError(err error) error {
	var se *sampler.SettingError
	if errors.As(err, &se) {
		return &usageError{msg: se.Error()}
	}
	return err
}

// table returns the Gamma-method table of a run's measurements.
func table(t ensemble.Target, res *sampler.Result) ([]observables.Row, []string, error) {
	return observables.Table(t, res.Series())
}
