package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

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
			"steps, all in parts), stale (neither: the task was killed or has not been resumed yet;\n" +
			"run the same command with --resume, or submit it again, to complete it), corrupt (a part's\n" +
			"footer or framing is inconsistent: checked cheaply, from the footer, the headers and the file\n" +
			"sizes; latflow analyze verifies every byte against the checksums), or damaged (a part that\n" +
			"the checksum manifest or the checkpoint counts is missing: --resume cannot continue it).\n" +
			"A chain still in thermalization has written nothing and is not listed.",
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
	stateCorrupt  = "corrupt"
	stateDamaged  = "damaged"
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
	// Problem says, naming the file, why the chain is corrupt or damaged.
	Problem string `json:"problem,omitempty"`
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
	Corrupt  int           `json:"corrupt"`
	Damaged  int           `json:"damaged"`
}

// readStatus reads the status of the chains in dir from the part footers,
// the checkpoints and the chains' locks. A chain that looks damaged while
// its writer holds the lock may only have been caught between writing a
// part and its listing (the directory read before the writer's rename, its
// checksum manifest or checkpoint after): readStatus reads the directory
// again, up to statusRereads times, before it calls such a chain damaged.
func readStatus(dir string) (*datasetStatus, error) {
	for try := 0; ; try++ {
		ds, busy, err := readStatusOnce(dir)
		if err != nil || busy == 0 || try == statusRereads {
			return ds, err
		}
		time.Sleep(statusRereadWait)
	}
}

// statusRereads and statusRereadWait bound readStatus's second looks at a
// running chain that seemed damaged.
const (
	statusRereads    = 5
	statusRereadWait = 20 * time.Millisecond
)

// readStatusOnce reads the status once; busy counts the chains found
// damaged while a writer held their lock.
func readStatusOnce(dir string) (ds *datasetStatus, busy int, err error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, 0, usagef("status: %v", err)
	}
	if !st.IsDir() {
		return nil, 0, usagef("status: %s is not a directory", dir)
	}
	infos, err := dataset.Inspect(dir)
	if err != nil {
		return nil, 0, err
	}
	cks, err := sampler.Checkpoints(dir)
	if err != nil {
		return nil, 0, err
	}
	ds = &datasetStatus{Dir: dir, Chains: []chainStatus{}}
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
	problem := map[int]string{} // corrupt chains
	damage := map[int]string{}  // damaged chains
	byInfo := map[int]dataset.ChainInfo{}
	for _, ci := range infos {
		c := get(ci.ID)
		byInfo[ci.ID] = ci
		c.Seed, c.Rows, c.Parts = ci.Meta.Seed, ci.Rows, len(ci.Parts)
		if ci.Rows > 0 {
			c.LastStep = ci.LastStep
		}
		switch {
		case len(ci.Corrupt) > 0:
			problem[ci.ID] = ci.Corrupt[0]
			if more := len(ci.Corrupt) - 1; more > 0 {
				problem[ci.ID] += fmt.Sprintf(" (and %d more)", more)
			}
		case len(ci.Missing) > 0:
			damage[ci.ID] = fmt.Sprintf("%s is missing: %s lists it (it was written, then deleted or lost)",
				ci.Missing[0], dataset.ChecksumName(ci.ID))
		case len(ci.Gaps) > 0:
			damage[ci.ID] = fmt.Sprintf("%s is missing (parts after it exist)", dataset.PartName(ci.ID, ci.Gaps[0]))
		}
		if len(ci.Parts) == 0 {
			continue
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
		if _, bad := damage[ck.Chain]; !bad && ck.Part > byInfo[ck.Chain].NextPart {
			damage[ck.Chain] = fmt.Sprintf("its checkpoint counts %d parts (%d steps), the directory holds %d",
				ck.Part, ck.Step, byInfo[ck.Chain].NextPart)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		c := byID[id]
		holder, held, err := dataset.Writing(dir, id)
		if err != nil {
			return nil, 0, err
		}
		c.Writer = holder
		switch {
		case problem[id] != "":
			c.State, c.Problem = stateCorrupt, problem[id]
			ds.Corrupt++
		case damage[id] != "":
			c.State, c.Problem = stateDamaged, damage[id]
			ds.Damaged++
			if held {
				busy++
			}
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
	return ds, busy, nil
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
	counts := fmt.Sprintf("%d chains: %d complete, %d running, %d stale", len(ds.Chains), ds.Complete, ds.Running, ds.Stale)
	if ds.Corrupt > 0 {
		counts += fmt.Sprintf(", %d corrupt", ds.Corrupt)
	}
	if ds.Damaged > 0 {
		counts += fmt.Sprintf(", %d damaged", ds.Damaged)
	}
	fmt.Fprintf(stdout, "%s\n\n", counts)
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
		case c.State == stateCorrupt:
			fmt.Fprintf(stdout, "chain %d is corrupt: %s; latflow analyze refuses it: restore the file, or run the chain again in a new directory\n", c.Chain, c.Problem)
		case c.State == stateDamaged:
			fmt.Fprintf(stdout, "chain %d is damaged: %s; --%s cannot continue it and latflow analyze refuses it: restore the file, or run the chain again in a new directory\n", c.Chain, c.Problem, flagResume)
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
