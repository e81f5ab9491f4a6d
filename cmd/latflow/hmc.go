package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"latflow/dataset"
	"latflow/telemetry"

	"latflow/lattice"
	"latflow/sampler"
)

func hmcCommand() *cli.Command {
	return &cli.Command{
		Name:  "hmc",
		Usage: "hybrid Monte Carlo for U(1) gauge theory or phi^4 theory, with Gamma-method errors",
		Description: "Runs --chains independent HMC chains of --therm thermalization and --n measured trajectories\n" +
			"each, and prints mean, error and tau_int of every observable (replicas combined), with the\n" +
			"exact value and the deviation in sigma where one is known.\n\n" +
			"phi^4 takes either --m2 and --lambda (standard) or --kappa and --lambda (hopping).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: flagTheory, Value: theoryU1, Usage: "theory: u1 or phi4"},
			&cli.IntFlag{Name: flagL, Value: 16, Usage: "lattice extent L (u1: multiple of 4; phi4: even; >= 4)"},
			&cli.Float64Flag{Name: flagBeta, Value: 3.0, Usage: "u1: gauge coupling beta > 0"},
			&cli.Float64Flag{Name: flagM2, Value: -4, Usage: "phi4 standard parametrization: mass term m2"},
			&cli.Float64Flag{Name: flagLambda, Value: 8, Usage: "phi4: quartic coupling lambda >= 0"},
			&cli.Float64Flag{Name: flagKappa, Usage: "phi4 hopping parametrization: hopping parameter kappa (use with --lambda)"},
			&cli.IntFlag{Name: flagN, Value: 2000, Usage: "measured trajectories per chain (> 0)"},
			&cli.IntFlag{Name: flagTherm, Value: 200, Usage: "thermalization trajectories per chain, not measured (>= 0)"},
			&cli.Float64Flag{Name: flagTau, Value: 1.0, Usage: "trajectory length (> 0)"},
			&cli.IntFlag{Name: flagSteps, Value: 10, Usage: "leapfrog steps per trajectory (>= 1); if not given, tuned during thermalization for acceptance 0.7 to 0.9"},
			&cli.Uint64Flag{Name: flagSeed, Value: 1, Usage: "random seed; the same seed gives the same chains bit for bit"},
			&cli.IntFlag{Name: flagChains, Value: 1, Usage: "independent chains (replicas), run in parallel (1 to 1024)"},
			&cli.StringFlag{Name: flagOut, Usage: "write the chains as an Arrow dataset into directory `DIR`"},
			&cli.IntFlag{Name: flagSaveEvery, Usage: "with --out, save the configuration every K steps (0 = never)"},
			&cli.IntFlag{Name: flagPartRows, Value: dataset.DefaultRowsPerPart, Usage: "with --out, rows per Arrow part file"},
			&cli.StringFlag{Name: flagTraceFile, Usage: "write OpenTelemetry spans as JSON lines to `FILE` (OTLP/HTTP: set OTEL_EXPORTER_OTLP_ENDPOINT)"},
			jsonFlag(),
		},
		Action: runHMC,
	}
}

// hmcConfig is a validated hmc run.
type hmcConfig struct {
	th     *theory
	hmc    sampler.HMC
	n      int
	therm  int
	seed   uint64
	chains int
	// tune adjusts the leapfrog steps during thermalization.
	tune bool
}

// parseHMC validates the flags of latflow hmc.
func parseHMC(c *cli.Context) (*hmcConfig, error) {
	th, err := theoryFromFlags(c)
	if err != nil {
		return nil, err
	}
	cfg := &hmcConfig{
		hmc:    sampler.HMC{Tau: c.Float64(flagTau), Steps: c.Int(flagSteps)},
		n:      c.Int(flagN),
		therm:  c.Int(flagTherm),
		seed:   c.Uint64(flagSeed),
		chains: c.Int(flagChains),
		tune:   !c.IsSet(flagSteps),
	}
	if cfg.n <= 0 {
		return nil, usagef("--%s must be positive, got %d", flagN, cfg.n)
	}
	if cfg.therm < 0 {
		return nil, usagef("--%s must be zero or positive, got %d", flagTherm, cfg.therm)
	}
	if !(cfg.hmc.Tau > 0) {
		return nil, usagef("--%s must be positive, got %g", flagTau, cfg.hmc.Tau)
	}
	if cfg.hmc.Steps < 1 {
		return nil, usagef("--%s must be at least 1, got %d", flagSteps, cfg.hmc.Steps)
	}
	if cfg.chains < 1 || cfg.chains > 1024 {
		return nil, usagef("--%s must be between 1 and 1024, got %d", flagChains, cfg.chains)
	}
	cfg.th = th
	return cfg, nil
}

// theoryFromFlags builds the theory from --theory, --L and the coupling
// flags, refusing an unknown theory, an L the theory's flow cannot take,
// couplings of the other theory and mixed phi^4 parametrizations.
func theoryFromFlags(c *cli.Context) (*theory, error) {
	name := c.String(flagTheory)
	if err := checkTheory(name); err != nil {
		return nil, err
	}
	L := c.Int(flagL)
	if err := checkL(name, L); err != nil {
		return nil, err
	}
	switch name {
	case theoryU1:
		for _, f := range []string{flagM2, flagLambda, flagKappa} {
			if c.IsSet(f) {
				return nil, usagef("--%s applies to --%s %s only, not to %s", f, flagTheory, theoryPhi4, theoryU1)
			}
		}
		beta := c.Float64(flagBeta)
		if err := checkBeta(beta); err != nil {
			return nil, err
		}
		return newU1Theory(L, beta), nil
	default:
		if c.IsSet(flagBeta) {
			return nil, usagef("--%s applies to --%s %s only; phi4 takes --%s/--%s or --%s/--%s", flagBeta, flagTheory, theoryU1, flagM2, flagLambda, flagKappa, flagLambda)
		}
		lambda := c.Float64(flagLambda)
		if !(lambda >= 0) {
			return nil, usagef("--%s must be zero or positive, got %g", flagLambda, lambda)
		}
		g := lattice.NewGeometry(L)
		if c.IsSet(flagKappa) {
			if c.IsSet(flagM2) {
				return nil, usagef("--%s (hopping parametrization) and --%s (standard parametrization) cannot be mixed; give --%s with --%s, or --%s with --%s", flagKappa, flagM2, flagKappa, flagLambda, flagM2, flagLambda)
			}
			if !c.IsSet(flagLambda) {
				return nil, usagef("--%s needs --%s in the hopping parametrization (the default --%s belongs to the standard one)", flagKappa, flagLambda, flagLambda)
			}
			kappa := c.Float64(flagKappa)
			if !(kappa >= 0) {
				return nil, usagef("--%s must be zero or positive, got %g", flagKappa, kappa)
			}
			return newPhi4Theory(lattice.NewPhi4Hopping(g, kappa, lambda)), nil
		}
		return newPhi4Theory(lattice.NewPhi4Standard(g, c.Float64(flagM2), lambda)), nil
	}
}

// hmcResult is what an HMC run measured.
type hmcResult struct {
	s        series
	accepted int64
	trajs    int64
	// steps are the leapfrog steps of each chain after tuning.
	steps []int
}

// Step tuning during thermalization: blocks of trajectories and the
// acceptance band aimed at.
const (
	hmcTuneBlock = 20
	hmcTuneLow   = 0.7
	hmcTuneHigh  = 0.9
)

// runEnv is what a run's chains share besides the configuration: tracing
// and the dataset they write.
type runEnv struct {
	tracer    trace.Tracer
	outDir    string
	saveEvery int
	partRows  int
}

// chainResult is what one chain measured and saved.
type chainResult struct {
	action   []float64
	obs      [][]float64
	accepted int64
	steps    int
	saved    int64
}

// runChains runs cfg.chains HMC chains in parallel. Chain r uses the PCG
// stream (seed, r), so results do not depend on scheduling. On cancellation
// every chain stops after its current trajectory and closes its dataset
// with the rows measured so far.
func runChains(ctx context.Context, cfg *hmcConfig, env runEnv, prog *progress) (*hmcResult, []chainResult, error) {
	results := make([]chainResult, cfg.chains)
	errs := make([]error, cfg.chains)
	var wg sync.WaitGroup
	for r := 0; r < cfg.chains; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			results[r], errs[r] = runChain(ctx, cfg, env, prog, r)
		}(r)
	}
	wg.Wait()
	res := &hmcResult{
		s:     series{action: make([][]float64, cfg.chains), obs: map[string][][]float64{}},
		steps: make([]int, cfg.chains),
	}
	for k, name := range cfg.th.observables {
		res.s.obs[name] = make([][]float64, cfg.chains)
		for r := range results {
			res.s.obs[name][r] = results[r].obs[k]
		}
	}
	for r, cr := range results {
		res.s.action[r] = cr.action
		res.steps[r] = cr.steps
		res.accepted += cr.accepted
		res.trajs += int64(len(cr.action))
	}
	return res, results, errors.Join(errs...)
}

// runChain runs chain r: thermalization (with step tuning unless the steps
// were given), then the measured trajectories, each appended to the
// chain's dataset when there is one.
func runChain(ctx context.Context, cfg *hmcConfig, env runEnv, prog *progress, r int) (cr chainResult, err error) {
	th := cfg.th
	chainAttr := attribute.Int("latflow.chain", r)
	rng := rand.New(rand.NewPCG(cfg.seed, uint64(r)))
	x := make([]float64, th.size)
	th.start(x, rng)
	ch := sampler.NewChain(cfg.hmc, th.act, x, rng)
	each := func() bool { prog.add(1); return ctx.Err() == nil }

	_, span := env.tracer.Start(ctx, "thermalization", trace.WithAttributes(chainAttr, attribute.Int("latflow.trajectories", cfg.therm)))
	if cfg.tune {
		ch.Tune(cfg.therm, hmcTuneBlock, hmcTuneLow, hmcTuneHigh, each)
	} else {
		for i := 0; i < cfg.therm && each(); i++ {
			ch.Step()
		}
	}
	cr.steps = ch.HMC.Steps
	span.SetAttributes(attribute.Int("latflow.leapfrog_steps", ch.HMC.Steps))
	span.End()
	cr.obs = make([][]float64, len(th.observables))
	if err := ctx.Err(); err != nil {
		return cr, err
	}

	pctx, span := env.tracer.Start(ctx, "production", trace.WithAttributes(chainAttr, attribute.Int("latflow.trajectories", cfg.n)))
	defer func() {
		span.SetAttributes(attribute.Int64("latflow.measured", int64(len(cr.action))), attribute.Int64("latflow.saved", cr.saved))
		if len(cr.action) > 0 {
			span.SetAttributes(attribute.Float64("latflow.acceptance", float64(cr.accepted)/float64(len(cr.action))))
		}
		span.End()
	}()
	var w *dataset.Writer
	if env.outDir != "" {
		w, err = dataset.Create(env.outDir, cfg.spec(r, ch.HMC.Steps, env.saveEvery), dataset.WriterOptions{
			RowsPerPart: env.partRows,
			OnPart: func(path string, rows int, dur time.Duration) {
				_, ps := env.tracer.Start(pctx, "part", trace.WithTimestamp(time.Now().Add(-dur)), trace.WithAttributes(chainAttr,
					attribute.String("latflow.part", filepath.Base(path)), attribute.Int("latflow.rows", rows),
					attribute.Float64("latflow.acceptance", float64(cr.accepted)/float64(max(1, len(cr.action))))))
				ps.End()
			},
		})
		if err != nil {
			return cr, err
		}
		defer func() {
			// Rows already measured are complete: keep them, also on interrupt.
			if cerr := w.Close(); cerr != nil && err == nil {
				err = cerr
			}
			cr.saved = w.RowsSaved()
		}()
	}
	cr.action = make([]float64, 0, cfg.n)
	for k := range cr.obs {
		cr.obs[k] = make([]float64, 0, cfg.n)
	}
	m := make([]float64, len(th.observables))
	for i := 0; i < cfg.n; i++ {
		if err := ctx.Err(); err != nil {
			return cr, err
		}
		ok, _ := ch.Step()
		if ok {
			cr.accepted++
		}
		a := th.measure(m, ch.X)
		cr.action = append(cr.action, a)
		for k := range cr.obs {
			cr.obs[k] = append(cr.obs[k], m[k])
		}
		if w != nil {
			row := dataset.Row{Step: int64(i), Accepted: ok, Action: a, Obs: m}
			if env.saveEvery > 0 && i%env.saveEvery == 0 {
				row.Config = ch.X
			}
			if err := w.Append(row); err != nil {
				return cr, err
			}
		}
		prog.add(1)
	}
	return cr, nil
}

// spec is the dataset layout and metadata of chain r.
func (cfg *hmcConfig) spec(r, steps, saveEvery int) dataset.Spec {
	th := cfg.th
	sp := dataset.Spec{
		Meta: dataset.Meta{
			Theory: th.name, L: th.geom.L, Couplings: th.couplings, Parametrization: th.parametrization,
			Sampler: "hmc",
			SamplerSettings: map[string]string{
				"tau": fmt.Sprint(cfg.hmc.Tau), "steps": fmt.Sprint(steps), "tuned": fmt.Sprint(cfg.tune),
				"thermalization": fmt.Sprint(cfg.therm), "save_every": fmt.Sprint(saveEvery),
			},
			Seed: cfg.seed, Chain: r, Version: Version,
		},
		Observables: th.observables,
	}
	if th.name == theoryU1 {
		sp.Meta.Parametrization = ""
	}
	if saveEvery > 0 {
		sp.ConfigName, sp.ConfigSize = th.configName, th.size
	}
	return sp
}

func runHMC(c *cli.Context) (err error) {
	cfg, err := parseHMC(c)
	if err != nil {
		return err
	}
	env := runEnv{outDir: c.String(flagOut), saveEvery: c.Int(flagSaveEvery), partRows: c.Int(flagPartRows)}
	if err := checkOutput(env, cfg.chains); err != nil {
		return err
	}
	th := cfg.th
	stderr := c.App.ErrWriter
	tel, err := telemetry.Setup(c.Context, telemetry.Options{TraceFile: c.String(flagTraceFile), Version: Version})
	if err != nil {
		return usagef("--%s: %v", flagTraceFile, err)
	}
	defer func() {
		if serr := tel.Shutdown(context.Background()); serr != nil && err == nil {
			err = fmt.Errorf("flushing traces: %w", serr)
		}
	}()
	env.tracer = tel.Tracer()
	ctx, span := env.tracer.Start(c.Context, "run", trace.WithAttributes(telemetry.RunAttributes(th.name, th.geom.L, th.couplings)...))
	span.SetAttributes(attribute.String("latflow.command", "hmc"), attribute.Int("latflow.chains", cfg.chains))
	defer span.End()

	fmt.Fprintf(stderr, "latflow hmc: %s; %d chain(s) x (%d + %d) trajectories, tau=%g, seed %d\n",
		th.describe(), cfg.chains, cfg.therm, cfg.n, cfg.hmc.Tau, cfg.seed)
	prog := newProgress(stderr, "hmc", int64(cfg.chains)*int64(cfg.therm+cfg.n))
	start := time.Now()
	res, chains, err := runChains(ctx, cfg, env, prog)
	prog.finish()
	var saved int64
	for _, cr := range chains {
		saved += cr.saved
	}
	if err != nil {
		if c.Context.Err() != nil {
			msg := fmt.Sprintf("hmc: interrupted after %d measured trajectories", res.trajs)
			if env.outDir != "" {
				msg += fmt.Sprintf("; %d steps saved in %s", saved, env.outDir)
			}
			return &interruptedError{msg: msg}
		}
		return fmt.Errorf("hmc: %w", err)
	}
	elapsed := time.Since(start)
	if res.accepted == 0 {
		return fmt.Errorf("hmc: no trajectory was accepted in %d; the leapfrog step tau/steps = %g is too large: raise --%s or lower --%s", res.trajs, cfg.hmc.Tau/float64(res.steps[0]), flagSteps, flagTau)
	}
	acc := float64(res.accepted) / float64(res.trajs)
	span.SetAttributes(attribute.Float64("latflow.acceptance", acc))
	rows, notes, err := analysisRows(th.name, th.geom.L, th.couplings, th.parametrization, res.s)
	if err != nil {
		return err
	}
	if env.outDir != "" {
		fmt.Fprintf(stderr, "latflow hmc: %d steps saved in %s\n", saved, env.outDir)
	}
	rep := report{
		Description: th.describe(),
		Theory:      th.name, L: th.geom.L, Couplings: th.couplings, Parametrization: th.parametrization,
		Sampler: fmt.Sprintf("hmc (tau=%g, leapfrog steps %s)", cfg.hmc.Tau, stepsText(res.steps, cfg.tune)), Chains: cfg.chains, Measurements: res.trajs,
		Acceptance: acc,
		// Chains run side by side: the time per trajectory is that of one chain.
		SecondsPer: elapsed.Seconds() / float64(cfg.therm+cfg.n), Rows: rows, Notes: notes,
	}
	return rep.write(c.App.Writer, c.Bool(flagJSON))
}

// checkOutput validates --out and --save-every before anything runs, so
// that an existing dataset is never overwritten.
func checkOutput(env runEnv, chains int) error {
	if env.saveEvery < 0 {
		return usagef("--%s must be zero (never) or positive, got %d", flagSaveEvery, env.saveEvery)
	}
	if env.partRows < 1 {
		return usagef("--%s must be at least 1, got %d", flagPartRows, env.partRows)
	}
	if env.outDir == "" {
		if env.saveEvery > 0 {
			return usagef("--%s needs --%s DIR", flagSaveEvery, flagOut)
		}
		return nil
	}
	if st, err := os.Stat(env.outDir); err == nil && !st.IsDir() {
		return usagef("--%s %s exists and is not a directory", flagOut, env.outDir)
	}
	if err := os.MkdirAll(env.outDir, 0o755); err != nil {
		return usagef("--%s: %v", flagOut, err)
	}
	for r := 0; r < chains; r++ {
		next, err := dataset.NextPart(env.outDir, r)
		if err != nil {
			return fmt.Errorf("--%s: %w", flagOut, err)
		}
		if next > 0 {
			return usagef("--%s %s already holds chain %d; choose a new directory (nothing was overwritten)", flagOut, env.outDir, r)
		}
	}
	return nil
}

// stepsText describes the leapfrog steps of the chains.
func stepsText(steps []int, tuned bool) string {
	lo, hi := steps[0], steps[0]
	for _, s := range steps {
		lo, hi = min(lo, s), max(hi, s)
	}
	txt := fmt.Sprint(lo)
	if hi != lo {
		txt = fmt.Sprintf("%d to %d", lo, hi)
	}
	if tuned {
		txt += ", tuned"
	}
	return txt
}
