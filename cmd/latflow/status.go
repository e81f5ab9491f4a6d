package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"latflow/dataset"
	"latflow/ensemble"
	"latflow/sampler"
)

// statusOptions are the flags of latflow status.
type statusOptions struct {
	dir  string
	json bool
}

func statusCommand() *cli.Command {
	o := &statusOptions{}
	return &cli.Command{
		Name:      "status",
		UsageText: statusUsage,
		Usage:     "show the chains of a dataset directory: rows, last step, parts, and complete, running or stale",
		ArgsUsage: "DIR",
		Description: "Reads the part footers and the checkpoints of DIR (never the rows) and shows, per chain, the\n" +
			"rows written, the last step, the parts, the measured steps its run asked for (--n), and its\n" +
			"state: running (a writer holds the chain's lock), complete (its checkpoint has all --n\n" +
			"steps, all in parts), or stale (neither: the task was killed or has not been resumed yet;\n" +
			"run the same command with --resume, or submit it again, to complete it). A chain still in\n" +
			"thermalization has written nothing and is not listed.",
		Flags: []cli.Flag{jsonFlag(&o.json)},
		Action: func(c *cli.Context) error {
			if _, err := parsed(c, true); err != nil {
				return err
			}
			// DIR may come before --json: urfave/cli stops parsing flags at
			// the first argument.
			var dirs []string
			for _, a := range c.Args().Slice() {
				switch {
				case a == "--"+flagJSON || a == "-"+flagJSON:
					o.json = true
				case strings.HasPrefix(a, "-") && a != "-":
					return usagef("status: unknown flag %s (status takes DIR and --%s)", a, flagJSON)
				default:
					dirs = append(dirs, a)
				}
			}
			if len(dirs) != 1 {
				return usagef("status needs one dataset directory: latflow status DIR [--%s], got %d", flagJSON, len(dirs))
			}
			o.dir = dirs[0]
			return runStatus(c.Context, o, c.App.Writer)
		},
	}
}

// Chain states shown by latflow status.
const (
	stateRunning  = "running"
	stateComplete = "complete"
	stateStale    = "stale"
)

// chainStatus is one chain in latflow status.
type chainStatus struct {
	Chain int    `json:"chain"`
	Seed  uint64 `json:"seed"`
	Rows  int64  `json:"rows"`
	// LastStep is the last step written, -1 without rows.
	LastStep int64 `json:"last_step"`
	Parts    int   `json:"parts"`
	// Checkpoint is the step of the chain's checkpoint (-1 without one), N
	// the measured steps its run asked for (0: not recorded).
	Checkpoint int64  `json:"checkpoint_step"`
	N          int64  `json:"n"`
	State      string `json:"state"`
	// Writer is the holder the chain's lock file names: the running
	// writer, or the last one if it was killed.
	Writer string `json:"writer,omitempty"`
}

// datasetStatus is the output of latflow status --json.
type datasetStatus struct {
	Dir      string        `json:"dir"`
	Target   string        `json:"target,omitempty"`
	Sampler  string        `json:"sampler,omitempty"`
	Chains   []chainStatus `json:"chains"`
	Complete int           `json:"complete"`
	Running  int           `json:"running"`
	Stale    int           `json:"stale"`
}

// readStatus reads the status of the chains in dir from the part footers,
// the checkpoints and the chains' locks.
func readStatus(dir string) (*datasetStatus, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, usagef("status: %v", err)
	}
	if !st.IsDir() {
		return nil, usagef("status: %s is not a directory", dir)
	}
	infos, err := dataset.Inspect(dir)
	if err != nil {
		return nil, err
	}
	cks, err := sampler.Checkpoints(dir)
	if err != nil {
		return nil, err
	}
	ds := &datasetStatus{Dir: dir, Chains: []chainStatus{}}
	byID := map[int]*chainStatus{}
	var ids []int
	get := func(id int) *chainStatus {
		if c := byID[id]; c != nil {
			return c
		}
		byID[id] = &chainStatus{Chain: id, LastStep: -1, Checkpoint: -1}
		ids = append(ids, id)
		return byID[id]
	}
	for _, ci := range infos {
		c := get(ci.ID)
		c.Seed, c.Rows, c.Parts = ci.Meta.Seed, ci.Rows, len(ci.Parts)
		if ci.Rows > 0 {
			c.LastStep = ci.LastStep
		}
		if ds.Target == "" {
			m := ci.Meta
			ds.Target = ensemble.Target{Theory: m.Theory, L: m.L, Couplings: m.Couplings, Parametrization: m.Parametrization}.String()
			ds.Sampler = m.Sampler
		}
	}
	complete := map[int]bool{}
	for _, ck := range cks {
		c := get(ck.Chain)
		if c.Parts == 0 {
			c.Seed = ck.Seed
		}
		c.Checkpoint, c.N = ck.Step, ck.N
		complete[ck.Chain] = ck.Complete() && c.Rows == ck.Step
	}
	slices.Sort(ids)
	for _, id := range ids {
		c := byID[id]
		holder, held, err := dataset.Writing(dir, id)
		if err != nil {
			return nil, err
		}
		c.Writer = holder
		switch {
		case held:
			c.State = stateRunning
			ds.Running++
		case complete[id]:
			c.State = stateComplete
			c.Writer = ""
			ds.Complete++
		default:
			c.State = stateStale
			ds.Stale++
		}
		ds.Chains = append(ds.Chains, *c)
	}
	return ds, nil
}

func runStatus(_ context.Context, o *statusOptions, stdout io.Writer) error {
	ds, err := readStatus(o.dir)
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(stdout, ds)
	}
	if len(ds.Chains) == 0 {
		_, err := fmt.Fprintf(stdout, "%s: no chains written yet\n", ds.Dir)
		return err
	}
	fmt.Fprintf(stdout, "%s: %s, sampler %s\n", ds.Dir, ds.Target, ds.Sampler)
	fmt.Fprintf(stdout, "%d chains: %d complete, %d running, %d stale\n\n", len(ds.Chains), ds.Complete, ds.Running, ds.Stale)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "chain\tseed\trows\tlast step\tparts\tn\tstate\t")
	for _, c := range ds.Chains {
		last, n := "-", "-"
		if c.LastStep >= 0 {
			last = fmt.Sprint(c.LastStep)
		}
		if c.N > 0 {
			n = fmt.Sprint(c.N)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%d\t%s\t%s\t\n", c.Chain, c.Seed, c.Rows, last, c.Parts, n, c.State)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range ds.Chains {
		switch {
		case c.State == stateRunning:
			fmt.Fprintf(stdout, "chain %d is being written by %s\n", c.Chain, c.Writer)
		case c.State == stateStale && c.Writer != "":
			fmt.Fprintf(stdout, "chain %d: its last writer (%s) stopped without finishing; continue it with --%s\n", c.Chain, c.Writer, flagResume)
		case c.State == stateStale:
			fmt.Fprintf(stdout, "chain %d: %d of %s steps; continue it with --%s\n", c.Chain, c.Rows, orDash(c.N), flagResume)
		}
	}
	return nil
}

// orDash formats a count, "-" for 0 (unknown).
func orDash(n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}
