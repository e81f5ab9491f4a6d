package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"latflow/sampler"
)

// Flag names of latflow submit.
const (
	flagTasks       = "tasks"
	flagPartition   = "partition"
	flagTime        = "time"
	flagCPUsPerTask = "cpus-per-task"
	flagMem         = "mem"
	flagDryRun      = "dry-run"
)

// Bounds of the submit flags.
const (
	// maxTasks is the largest array: Slurm's default MaxArraySize (1001)
	// allows task ids 0 to 1000.
	maxTasks = 1000
	maxCPUs  = 4096
)

// submitOptions are the flags of latflow submit and the command it submits.
type submitOptions struct {
	tasks     int
	out       string
	partition string
	time      string
	cpus      int
	mem       string
	dryRun    bool
	// command is the sample or hmc command line of every task, without
	// "latflow", --out and --resume.
	command []string
	// exe is the absolute path of the latflow binary the tasks run.
	exe string
	set flagSet

	// From the command: its chains per task and first chain id, and its
	// run (of task 0) as validated.
	chains, chainOffset int
	run                 *sampler.Run
}

func submitCommand() *cli.Command {
	o := &submitOptions{}
	return &cli.Command{
		Name:      "submit",
		UsageText: submitUsage,
		Usage:     "run a sample or hmc command as a Slurm array job that writes one dataset",
		ArgsUsage: "-- sample|hmc [FLAGS]",
		Description: "Writes an sbatch script for an array of --tasks tasks and submits it with sbatch; prints\n" +
			"the job id (--dry-run prints the script instead). Task i runs this latflow binary with the\n" +
			"command's flags and --out DIR --resume; its chains are --chain-offset + i * --chains, ... of one\n" +
			"ensemble, with random streams from (seed, chain id). The script has #SBATCH --requeue and\n" +
			"--open-mode=append: a requeued or preempted task continues from its last complete part, bit\n" +
			"for bit, and appends to its log DIR/slurm-JOB_TASK.out. latflow status DIR shows the\n" +
			"chains; latflow analyze DIR merges them.\n\n" +
			"The command is validated as every task would run it (with --out DIR --resume, the chains of\n" +
			"all tasks against what DIR holds), by the command's own checks, before anything is written:\n" +
			"what a task would refuse, submit refuses, with the command's message.\n\n" +
			"Exit codes: 2 for bad flags here or in the command; 1 when sbatch is missing (this machine\n" +
			"is not a Slurm login node: the command line is right, the place is wrong) or fails.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: flagTasks, Value: 1, Destination: &o.tasks, Usage: fmt.Sprintf("array tasks, each running the command (1 to %d)", maxTasks)},
			&cli.StringFlag{Name: flagOut, Destination: &o.out, Usage: "the dataset directory `DIR` every task writes into (required); task logs go there too"},
			&cli.StringFlag{Name: flagPartition, Destination: &o.partition, Usage: "Slurm partition (default: the cluster's)"},
			&cli.StringFlag{Name: flagTime, Destination: &o.time, Usage: "time limit per task: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED (default: the partition's)"},
			&cli.IntFlag{Name: flagCPUsPerTask, Destination: &o.cpus, DefaultText: "the partition's", Usage: fmt.Sprintf("CPUs per task (1 to %d; sets GOMAXPROCS too)", maxCPUs)},
			&cli.StringFlag{Name: flagMem, Destination: &o.mem, Usage: "memory per task: megabytes, or a number with K, M, G or T (e.g. 4G)"},
			&cli.BoolFlag{Name: flagDryRun, Destination: &o.dryRun, Usage: "print the sbatch script on stdout and submit nothing"},
		},
		Action: func(c *cli.Context) (err error) {
			if o.set, err = parsed(c, true); err != nil {
				return err
			}
			o.command = c.Args().Slice()
			if o.exe, err = os.Executable(); err != nil {
				return fmt.Errorf("submit: cannot find the latflow binary: %w", err)
			}
			return runSubmit(c.Context, o, c.App.Writer, c.App.ErrWriter)
		},
	}
}

var (
	// slurmTime matches Slurm's time formats: MM, MM:SS, HH:MM:SS, D-HH,
	// D-HH:MM, D-HH:MM:SS.
	slurmTime = regexp.MustCompile(`^(?:(\d+)-(\d+)(?::(\d+)(?::(\d+))?)?|(\d+)(?::(\d+)(?::(\d+))?)?)$`)
	slurmMem  = regexp.MustCompile(`^[1-9][0-9]*[KMGTkmgt]?$`)
	// slurmName is a partition name, or a comma-separated list of them.
	slurmName = regexp.MustCompile(`^[A-Za-z0-9_.-]+(?:,[A-Za-z0-9_.-]+)*$`)
)

// validTime reports whether s is a Slurm time limit: UNLIMITED or
// INFINITE, or one of its formats, not zero, with hours below 24 after days
// and minutes and seconds below 60 after a larger unit.
func validTime(s string) bool {
	if u := strings.ToUpper(s); u == "UNLIMITED" || u == "INFINITE" {
		return true
	}
	m := slurmTime.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	// Fields from the leading one on, with the bound of each (0: none).
	fields, bounds := m[5:8], []int{0, 60, 60}
	if m[1] != "" {
		fields, bounds = m[1:5], []int{0, 24, 60, 60}
	}
	total := 0
	for i, f := range fields {
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n > 1<<30 || (bounds[i] > 0 && n >= bounds[i]) {
			return false
		}
		total += n
	}
	return total > 0
}

// validate checks the submit flags; the command is checked by parseCommand.
func (o *submitOptions) validate() error {
	switch {
	case o.tasks < 1 || o.tasks > maxTasks:
		return usagef("submit: --%s must be between 1 and %d, got %d", flagTasks, maxTasks, o.tasks)
	case o.out == "":
		return usagef("submit: --%s DIR is required: the dataset directory that all tasks write into", flagOut)
	case o.set[flagTime] && !validTime(o.time):
		return usagef("submit: --%s must be a positive Slurm time limit: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED (e.g. 01:00:00), got %q", flagTime, o.time)
	case o.set[flagMem] && !slurmMem.MatchString(o.mem):
		return usagef("submit: --%s must be a positive size in megabytes, or with a unit K, M, G or T (e.g. 4G), got %q", flagMem, o.mem)
	case o.set[flagCPUsPerTask] && (o.cpus < 1 || o.cpus > maxCPUs):
		return usagef("submit: --%s must be between 1 and %d, got %d", flagCPUsPerTask, maxCPUs, o.cpus)
	case o.set[flagPartition] && !slurmName.MatchString(o.partition):
		return usagef("submit: --%s must be a partition name (letters, digits, _ . -; several separated by commas), got %q", flagPartition, o.partition)
	}
	return nil
}

// submitCommands are the commands that submit runs as array tasks: each
// returns the command and its options, whose validate submit calls.
var submitCommands = map[string]func() (*cli.Command, chainCommand){
	"sample": func() (*cli.Command, chainCommand) { o := &sampleOptions{}; return newSampleCommand(o), o },
	"hmc":    func() (*cli.Command, chainCommand) { o := &hmcOptions{}; return newHMCCommand(o), o },
}

// parseCommand checks the command of the tasks as the tasks will run it,
// with --out DIR --resume, through the command's own validation
// (validateRun), without running it: what latflow would refuse in a task
// (a flag, a missing model, a dataset in DIR of another ensemble or with
// other settings) is refused here, with the command's message and exit
// code. It refuses --out (submit gives it) and --trace-file (every task
// would write the one file), records the chains per task and the first
// chain id, and checks the chains of all tasks in DIR.
func (o *submitOptions) parseCommand() error {
	if len(o.command) == 0 {
		return usagef("submit: no command: latflow submit --%s N --%s DIR [FLAGS] -- sample|hmc [FLAGS]", flagTasks, flagOut)
	}
	name := o.command[0]
	newCmd, ok := submitCommands[name]
	if !ok {
		return usagef("submit: the command must be sample or hmc, got %q (latflow submit [FLAGS] -- sample|hmc [FLAGS])", name)
	}
	cmd, cc := newCmd()
	ran := false
	cmd.Action = func(c *cli.Context) error {
		if err := parseChainFlags(c, cc); err != nil {
			return err
		}
		set, _, chain := cc.options()
		switch {
		case (*set)[flagOut]:
			return usagef("--%s belongs to submit (latflow submit --%s DIR -- %s ...), not to the command", flagOut, flagOut, name)
		case (*set)[flagTraceFile]:
			return usagef("--%s would be written by every task (and again on requeue); set OTEL_EXPORTER_OTLP_ENDPOINT for the job instead", flagTraceFile)
		}
		// Task 0 as it will run: --out DIR --resume, on a node whose
		// memory is not this machine's.
		(*set)[flagOut], (*set)[flagResume] = true, true
		chain.out, chain.resume, chain.slurmTask, chain.elsewhere = o.out, true, -1, true
		r, err := cc.validateRun()
		if err != nil {
			return err
		}
		o.chains, o.chainOffset, o.run = chain.chains, chain.chainOffset, r
		ran = true
		return nil
	}
	app := &cli.App{
		Name: "latflow", Writer: io.Discard, ErrWriter: io.Discard,
		Commands:       []*cli.Command{cmd},
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageErrorOf(c, err)
		},
	}
	cmd.OnUsageError = app.OnUsageError
	if err := app.Run(append([]string{"latflow"}, o.command...)); err != nil {
		var ue *usageError
		if !errors.As(err, &ue) {
			return fmt.Errorf("submit: %s: %w", name, err)
		}
		return usagef("submit: %s: %v", name, err)
	}
	if !ran {
		return usagef("submit: %s: the command did not parse to a run (--help?)", name)
	}
	if o.chains < 1 || o.chainOffset < 0 {
		return usagef("submit: %s: --%s must be positive and --%s zero or positive, got %d and %d", name, flagChains, flagChainOffset, o.chains, o.chainOffset)
	}
	if last := int64(o.chainOffset) + int64(o.tasks)*int64(o.chains) - 1; last > sampler.MaxChainID {
		return usagef("submit: --%s %d with --%s %d and --%s %d gives chain ids up to %d, above %d", flagTasks, o.tasks, flagChains, o.chains, flagChainOffset, o.chainOffset, last, sampler.MaxChainID)
	}
	// The chains of all tasks, as one run, against DIR.
	o.run.FirstChain, o.run.Chains = o.chainOffset, o.tasks*o.chains
	if err := o.run.Check(); err != nil {
		if err = runError(err); errors.As(err, new(*usageError)) {
			return usagef("submit: %s: %v", name, err)
		}
		return fmt.Errorf("submit: %s: %w", name, err)
	}
	return nil
}

// taskArgs returns the command line of every task: the command with --out
// DIR --resume.
func (o *submitOptions) taskArgs() []string {
	args := append([]string{o.exe}, o.command...)
	return append(args, "--"+flagOut, o.out, "--"+flagResume)
}

// script returns the sbatch script of the array job.
func (o *submitOptions) script() string {
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	first, last := o.chainOffset, o.chainOffset+o.tasks*o.chains-1
	fmt.Fprintf(&b, "# Written by latflow submit: %d array tasks write chains %d to %d of one ensemble\n", o.tasks, first, last)
	if o.chains == 1 {
		fmt.Fprintf(&b, "# into %s; task i writes chain %s.\n", o.out, affine(o.chainOffset, 1, "i", 0))
	} else {
		fmt.Fprintf(&b, "# into %s; task i writes chains %s to %s.\n", o.out, affine(o.chainOffset, o.chains, "i", 0), affine(o.chainOffset, o.chains, "i", o.chains-1))
	}
	b.WriteString("# Every task runs with --resume: requeued or preempted, it continues from\n")
	b.WriteString("# its last complete part, bit for bit.\n")
	fmt.Fprintf(&b, "#SBATCH --job-name=latflow-%s\n", o.command[0])
	fmt.Fprintf(&b, "#SBATCH --array=0-%d\n", o.tasks-1)
	fmt.Fprintf(&b, "#SBATCH --output=%s\n", filepath.Join(o.out, "slurm-%A_%a.out"))
	b.WriteString("#SBATCH --open-mode=append\n")
	b.WriteString("#SBATCH --requeue\n")
	if o.set[flagPartition] {
		fmt.Fprintf(&b, "#SBATCH --partition=%s\n", o.partition)
	}
	if o.set[flagTime] {
		fmt.Fprintf(&b, "#SBATCH --time=%s\n", o.time)
	}
	if o.set[flagCPUsPerTask] {
		fmt.Fprintf(&b, "#SBATCH --cpus-per-task=%d\n", o.cpus)
	}
	if o.set[flagMem] {
		fmt.Fprintf(&b, "#SBATCH --mem=%s\n", o.mem)
	}
	b.WriteString("set -eu\n")
	if o.set[flagCPUsPerTask] {
		fmt.Fprintf(&b, "export GOMAXPROCS=%d\n", o.cpus)
	}
	b.WriteString(`echo "latflow submit: array job ${SLURM_ARRAY_JOB_ID:-?} task ${SLURM_ARRAY_TASK_ID:-?} (job ${SLURM_JOB_ID:-?}), restart ${SLURM_RESTART_COUNT:-0}, on $(hostname)" >&2` + "\n")
	words := o.taskArgs()
	for i, w := range words {
		words[i] = shellQuote(w)
	}
	fmt.Fprintf(&b, "exec %s\n", strings.Join(words, " "))
	return b.String()
}

// affine formats offset + mult*v + add, leaving out the zero terms and the
// unit factor.
func affine(offset, mult int, v string, add int) string {
	term := v
	if mult != 1 {
		term = fmt.Sprintf("%d*%s", mult, v)
	}
	if offset != 0 {
		term = fmt.Sprintf("%d + %s", offset, term)
	}
	if add != 0 {
		term = fmt.Sprintf("%s + %d", term, add)
	}
	return term
}

// shellSafe matches words that need no quotes in a shell.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:=,+@-]+$`)

// shellQuote quotes s for a POSIX shell where it needs quotes.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func runSubmit(ctx context.Context, o *submitOptions, stdout, stderr io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	out, err := filepath.Abs(o.out)
	if err != nil {
		return usagef("submit: --%s %s: %v", flagOut, o.out, err)
	}
	o.out = out
	if strings.ContainsAny(o.out, "%\"'\\\n\r\t ") {
		return usagef("submit: --%s %q: the directory must not contain %%, quotes, backslashes or white space (Slurm's #SBATCH lines and log name patterns cannot carry them)", flagOut, o.out)
	}
	if st, err := os.Stat(o.out); err == nil && !st.IsDir() {
		return usagef("submit: --%s %s exists and is not a directory", flagOut, o.out)
	}
	if err := o.parseCommand(); err != nil {
		return err
	}
	if o.dryRun {
		_, err := io.WriteString(stdout, o.script())
		return err
	}
	sbatch, err := exec.LookPath("sbatch")
	if err != nil {
		// Not bad usage: the command line is right, but this machine is not
		// a Slurm login node. Nothing was written.
		return fmt.Errorf("submit: sbatch not found in $PATH: run latflow submit where Slurm's client is installed (a login node), or print the script with --%s", flagDryRun)
	}
	if strings.Contains(o.exe, string(filepath.Separator)+"go-build") {
		return usagef("submit: this latflow runs from a temporary build (%s) that the tasks cannot run; build it with go build -o latflow ./cmd/latflow and submit with that binary", o.exe)
	}
	// Slurm opens the task logs in DIR, so it must exist before the tasks.
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return usagef("submit: --%s: %v", flagOut, err)
	}
	cmd := exec.CommandContext(ctx, sbatch, "--parsable")
	cmd.Stdin = strings.NewReader(o.script())
	var sout, serr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &sout, &serr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("submit: sbatch failed (%v): %s", err, strings.TrimSpace(serr.String()))
	}
	id, _, _ := strings.Cut(strings.TrimSpace(sout.String()), ";")
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return fmt.Errorf("submit: sbatch printed %q, not a job id", strings.TrimSpace(sout.String()))
	}
	fmt.Fprintln(stdout, id)
	first, last := o.chainOffset, o.chainOffset+o.tasks*o.chains-1
	fmt.Fprintf(stderr, "latflow submit: array job %s: %d tasks writing chains %d to %d into %s; latflow status %s shows them\n",
		id, o.tasks, first, last, o.out, o.out)
	return nil
}
