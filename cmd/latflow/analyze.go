package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
	"go.opentelemetry.io/otel/attribute"

	"latflow/dataset"
	"latflow/ensemble"
	"latflow/observables"
	"latflow/telemetry"
)

// analyzeOptions are the flags of latflow analyze.
type analyzeOptions struct {
	dirs      []string
	therm     int
	json      bool
	traceFile string
	force     bool
}

func analyzeCommand() *cli.Command {
	o := &analyzeOptions{}
	return &cli.Command{
		Name:      "analyze",
		UsageText: analyzeUsage,
		Usage:     "Gamma-method analysis of one or more Arrow datasets (chains or shards of one ensemble)",
		ArgsUsage: "DIR [DIR...]",
		Description: "Reads the datasets written by --out, checks that they share theory, L and couplings,\n" +
			"and prints mean, error and tau_int of every observable with all chains combined as\n" +
			"replicas, with the exact value and the deviation in sigma where one is known.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: flagTherm, Destination: &o.therm, Usage: "drop the first N steps of each chain (>= 0)"},
			&cli.StringFlag{Name: flagTraceFile, Destination: &o.traceFile, Usage: "write OpenTelemetry spans to `FILE` as OTLP JSON lines (the Collector's otlpjsonfile format), which must not exist unless --force"},
			&cli.BoolFlag{Name: flagForce, Destination: &o.force, Usage: "overwrite an existing --trace-file"},
			jsonFlag(&o.json),
		},
		Action: func(c *cli.Context) error {
			if _, err := parsed(c, true); err != nil {
				return err
			}
			o.dirs = c.Args().Slice()
			return runAnalyze(c.Context, o, c.App.Writer)
		},
	}
}

// stepName names a step of the sampler of a dataset's metadata.
func stepName(sampler string) string {
	switch sampler {
	case samplerHMC:
		return "trajectory"
	case samplerIMH:
		return "proposal"
	case samplerExact:
		return "sample"
	}
	return "step"
}

func runAnalyze(ctx context.Context, o *analyzeOptions, stdout io.Writer) (err error) {
	if len(o.dirs) == 0 {
		return usagef("analyze needs at least one dataset directory: latflow analyze DIR [DIR...]")
	}
	if o.therm < 0 {
		return usagef("--%s must be zero or positive, got %d", flagTherm, o.therm)
	}
	_, tc, err := startTracing(ctx, o.traceFile, o.force, "analyze", nil)
	if err != nil {
		return err
	}
	defer func() { err = tc.finish(err) }()
	ds, err := dataset.Open(o.dirs...)
	if err != nil {
		return err
	}
	m := ds.Meta
	t := ensemble.Target{Theory: m.Theory, L: m.L, Couplings: m.Couplings, Parametrization: m.Parametrization}
	if err := t.Validate(); err != nil {
		return fmt.Errorf("analyze: dataset target: %v", err)
	}
	tc.Span().SetAttributes(telemetry.RunAttributes(t.Theory, t.L, t.Couplings)...)
	tc.Span().SetAttributes(attribute.Int("latflow.chains", len(ds.Chains)))
	want := observables.Columns(t)
	s := observables.Series{Obs: map[string][][]float64{}}
	var accepted, rows int64
	var moved [][]bool
	for _, ch := range ds.Chains {
		n := len(ch.Steps)
		if n <= o.therm {
			return usagef("--%s %d drops all %d steps of chain %d in %s", flagTherm, o.therm, n, ch.ID, ch.Dir)
		}
		s.Action = append(s.Action, ch.Action[o.therm:])
		for _, name := range want {
			col, ok := ch.Obs[name]
			if !ok {
				return fmt.Errorf("analyze: chain %d in %s has no column %q", ch.ID, ch.Dir, name)
			}
			s.Obs[name] = append(s.Obs[name], col[o.therm:])
		}
		moved = append(moved, ch.Accepted[o.therm:])
		for _, a := range ch.Accepted[o.therm:] {
			if a {
				accepted++
			}
		}
		rows += int64(n - o.therm)
	}
	tab, notes, err := observables.Table(t, s)
	if err != nil {
		return err
	}
	rep := observables.Report{
		Target: t, Sampler: m.Sampler, Chains: len(ds.Chains), Measurements: rows,
		Acceptance: float64(accepted) / float64(rows), Rows: tab, Notes: notes,
		PerWhat: stepName(m.Sampler), Unreliable: observables.FrozenTopology(t, s),
	}
	// The time per step that the run recorded in its parts; datasets
	// written before it was recorded have no cost.
	if sec, ok := dataset.SecondsPerStep(ds.Chains); ok {
		rep.SecondsPer = sec
	} else {
		rep.Notes = append(rep.Notes, "no cost: the dataset does not record the time per step (written by an older latflow)")
	}
	if m.Sampler == samplerIMH {
		// As sample reports the chains it runs.
		rep.Unreliable = observables.Unreliable(observables.Stuck(moved), rep.Unreliable)
	}
	return tc.writeReport(stdout, rep, o.json)
}
