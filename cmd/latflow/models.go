package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"latflow/models"
)

func modelsCommand() *cli.Command {
	var asJSON bool
	return &cli.Command{
		Name:  "models",
		Usage: "list the flows shipped with latflow, with their provenance",
		Description: "Lists the models embedded in this binary: the default model of each theory is what\n" +
			"latflow sample uses without --model. Each line gives the target it was trained for, the\n" +
			"architecture, and the ESS and acceptance measured on fresh proposals; --json adds the\n" +
			"training commands.",
		Flags: []cli.Flag{jsonFlag(&asJSON)},
		Action: func(c *cli.Context) error {
			if _, err := parsed(c, false); err != nil {
				return err
			}
			return runModels(c.App.Writer, asJSON)
		},
	}
}

// modelJSON is one model in latflow models --json.
type modelJSON struct {
	Name    string `json:"name"`
	Default bool   `json:"default"`
	SHA256  string `json:"sha256"`
	Target  any    `json:"target"`
	Config  any    `json:"config"`
	Prov    any    `json:"provenance"`
}

func runModels(w io.Writer, asJSON bool) error {
	list, err := models.List()
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]modelJSON, len(list))
		for i, m := range list {
			out[i] = modelJSON{Name: m.Name, Default: m.Default, SHA256: m.SHA256, Target: m.Target, Config: m.Config, Prov: m.Provenance}
		}
		return writeJSON(w, out)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tdefault\ttrained for\tflow\tsteps\ttraining\tESS/N\tacceptance\tproposals")
	for _, m := range list {
		def := ""
		if m.Default {
			def = "yes"
		}
		p := m.Provenance
		ess, acc, n := "-", "-", "-"
		if e := p.Eval; e != nil {
			ess, acc, n = fmt.Sprintf("%.3f", e.ESS), fmt.Sprintf("%.3f", e.Acceptance), fmt.Sprint(e.Samples)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%.0f s\t%s\t%s\t%s\n", m.Name, def, m.Target, describeArch(m.Config, -1, ""),
			p.Steps, p.WallSeconds, ess, acc, n)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, m := range list {
		if len(m.Provenance.Commands) > 0 {
			fmt.Fprintf(w, "\n%s was trained by:\n  %s\n", m.Name, strings.Join(m.Provenance.Commands, "\n  "))
		}
	}
	return nil
}
