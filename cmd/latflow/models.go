package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"latflow/internal/atomicfile"
	"latflow/models"
)

// flagExport is the flag of latflow models that writes a shipped model.
const flagExport = "export"

func modelsCommand() *cli.Command {
	var asJSON, force bool
	var export string
	return &cli.Command{
		Name:      "models",
		UsageText: modelsUsage,
		Usage:     "list the flows shipped with latflow, with their provenance, or export one as a model file",
		ArgsUsage: "[FILE]",
		Description: "Lists the models embedded in this binary: the default model of each theory is what\n" +
			"latflow sample uses without --model. Each line gives the target it was trained for, the\n" +
			"architecture, the training wall time (total_wall_seconds: the models it started from with\n" +
			"train --init included), and the ESS and acceptance measured on fresh proposals; --json adds\n" +
			"the training commands.\n\n" +
			"A shipped model is named shipped:NAME wherever a model file is expected (sample --model,\n" +
			"train --init, bench --model). With --export NAME FILE the model is written to FILE, byte\n" +
			"for byte the embedded model file, e.g. to fine-tune it with train --init FILE.",
		Flags: []cli.Flag{
			jsonFlag(&asJSON),
			&cli.StringFlag{Name: flagExport, Destination: &export, Usage: "write the shipped model `NAME` to the model file given as argument"},
			&cli.BoolFlag{Name: flagForce, Destination: &force, Usage: "with --export: overwrite an existing file"},
		},
		Action: func(c *cli.Context) error {
			set, err := parsed(c, true)
			if err != nil {
				return err
			}
			if !set[flagExport] {
				if c.Args().Present() {
					return usagef("models: unexpected argument %q (to write a shipped model: latflow models --%s NAME FILE)", c.Args().First(), flagExport)
				}
				if set[flagForce] {
					return usagef("--%s applies to --%s only", flagForce, flagExport)
				}
				return runModels(c.App.Writer, asJSON)
			}
			if set[flagJSON] {
				return usagef("--%s and --%s exclude each other", flagJSON, flagExport)
			}
			// --force may follow FILE: urfave/cli stops parsing flags at
			// the first argument.
			var files []string
			for _, a := range c.Args().Slice() {
				switch {
				case a == "--"+flagForce || a == "-"+flagForce:
					force = true
				case strings.HasPrefix(a, "-") && a != "-":
					return usagef("models --%s NAME FILE: unknown flag %s after FILE (only --%s may follow it)", flagExport, a, flagForce)
				default:
					files = append(files, a)
				}
			}
			if len(files) != 1 {
				return usagef("--%s NAME needs one FILE to write the model to, got %d arguments", flagExport, len(files))
			}
			return exportModel(c.App.Writer, export, files[0], force)
		},
	}
}

// shippedName returns NAME if path is "shipped:NAME".
func shippedName(path string) (string, bool) {
	return strings.CutPrefix(path, models.Prefix)
}

// exportModel writes the shipped model name to the file path, atomically,
// refusing to overwrite an existing file unless force.
func exportModel(w io.Writer, name, path string, force bool) error {
	name, _ = shippedName(name) // shipped:NAME names it too
	info, b, err := shippedModels.Get(name)
	if err != nil {
		return usagef("--%s: %v", flagExport, err)
	}
	if path == "" {
		return usagef("--%s: the model FILE is empty", flagExport)
	}
	if st, err := os.Stat(path); err == nil {
		if st.IsDir() {
			return usagef("--%s: %s is a directory; give the model FILE to write", flagExport, path)
		}
		if !force {
			return usagef("--%s: %s exists; use --%s to overwrite it", flagExport, path, flagForce)
		}
	}
	if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("models --%s: %w", flagExport, err)
	}
	fmt.Fprintf(w, "wrote %s%s (sha256 %s) to %s\n", models.Prefix, info.Name, info.SHA256, path)
	return nil
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
	list, err := shippedModels.List()
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
			p.Steps, p.TotalWall(), ess, acc, n)
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
