package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"latflow/dataset"
)

const flagThermalize = "thermalize"

func analyzeCommand() *cli.Command {
	return &cli.Command{
		Name:      "analyze",
		Usage:     "Gamma-method analysis of one or more Arrow datasets (chains or shards of one ensemble)",
		ArgsUsage: "DIR [DIR...]",
		Description: "Reads the datasets written by --out, checks that they share theory, L and couplings,\n" +
			"and prints mean, error and tau_int of every observable with all chains combined as\n" +
			"replicas, with the exact value and the deviation in sigma where one is known.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: flagThermalize, Usage: "drop the first N steps of each chain (>= 0)"},
			jsonFlag(),
		},
		Action: runAnalyze,
	}
}

func runAnalyze(c *cli.Context) error {
	dirs := c.Args().Slice()
	if len(dirs) == 0 {
		return usagef("analyze needs at least one dataset directory: latflow analyze DIR [DIR...]")
	}
	drop := c.Int(flagThermalize)
	if drop < 0 {
		return usagef("--%s must be zero or positive, got %d", flagThermalize, drop)
	}
	ds, err := dataset.Open(dirs...)
	if err != nil {
		return err
	}
	m := ds.Meta
	if m.Theory != theoryU1 && m.Theory != theoryPhi4 {
		return fmt.Errorf("analyze: dataset theory %q is not %q or %q", m.Theory, theoryU1, theoryPhi4)
	}
	want := newTheoryColumns(m.Theory)
	s := series{obs: map[string][][]float64{}}
	var accepted, rows int64
	for _, ch := range ds.Chains {
		n := len(ch.Steps)
		if n <= drop {
			return usagef("--%s %d drops all %d steps of chain %d in %s", flagThermalize, drop, n, ch.ID, ch.Dir)
		}
		s.action = append(s.action, ch.Action[drop:])
		for _, name := range want {
			col, ok := ch.Obs[name]
			if !ok {
				return fmt.Errorf("analyze: chain %d in %s has no column %q", ch.ID, ch.Dir, name)
			}
			s.obs[name] = append(s.obs[name], col[drop:])
		}
		for _, a := range ch.Accepted[drop:] {
			if a {
				accepted++
			}
		}
		rows += int64(n - drop)
	}
	tab, notes, err := analysisRows(m.Theory, m.L, m.Couplings, m.Parametrization, s)
	if err != nil {
		return err
	}
	rep := report{
		Description: describeTheory(m.Theory, m.L, m.Couplings, m.Parametrization),
		Theory:      m.Theory, L: m.L, Couplings: m.Couplings, Parametrization: m.Parametrization,
		Sampler: m.Sampler, Chains: len(ds.Chains), Measurements: rows,
		Acceptance: float64(accepted) / float64(rows),
		Rows:       tab, Notes: notes,
	}
	return rep.write(c.App.Writer, c.Bool(flagJSON))
}
