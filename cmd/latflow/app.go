package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
)

// Version is latflow's version, recorded in datasets and model files.
const Version = "0.1.0-dev"

// Exit codes, documented in main.go.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 3
)

// usageError is bad input from the user: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// interruptedError reports a run stopped by a signal: exit code 3.
type interruptedError struct{ msg string }

func (e *interruptedError) Error() string { return e.msg }

// newApp wires the subcommands; stdout gets results, stderr errors and progress.
func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:      "latflow",
		Usage:     "lattice field theory Monte Carlo with normalizing flows",
		UsageText: appUsageText,
		Version:   Version,
		Writer:    stdout,
		ErrWriter: stderr,
		Commands: []*cli.Command{
			exactCommand(),
			hmcCommand(),
			sampleCommand(),
			analyzeCommand(),
			submitCommand(), statusCommand(),
			trainCommand(),
			benchCommand(),
			modelsCommand(),
			plotCommand(),
			completionCommand(), hiddenCompleteCommand(),
		},
		// Errors are printed and mapped to exit codes by run, not by cli.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageErrorOf(c, err)
		},
	}
	setupHelp(app)
	return app
}

// appUsageText is the usage of latflow --help, with examples.
const appUsageText = "latflow command [flags]   (latflow command --help: the flags and examples of a command)\n\n" +
	"Examples:\n" +
	"  latflow sample --beta 3.0 --L 16\n" +
	"  latflow hmc --theory phi4 --L 8 --m2 -4 --lambda 8\n" +
	"  latflow train --theory u1 --beta 3 --L 16 --base plaquettes --out u1.flow"

// run executes latflow with args and returns the process exit code. SIGINT
// and SIGTERM cancel the context handed to the commands.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		// An internal error is exit 1 with a message, not a crash dump
		// with exit 2 (which means bad usage).
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "latflow: internal error: %v\n", p)
			code = exitFailed
		}
	}()
	app := newApp(stdout, stderr)
	app.Metadata = map[string]any{metaArgs: args}
	for _, c := range app.Commands {
		c.OnUsageError = app.OnUsageError
		// No "help" subcommands: "latflow analyze h" analyses the directory h
		// (--help still shows the help).
		c.HideHelpCommand = true
		for i, f := range c.Flags {
			c.Flags[i] = longName(f)
		}
	}
	err := app.RunContext(ctx, flagsFirst(args))
	if err == nil {
		return exitOK
	}
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
	if rest, ok := strings.CutPrefix(msg, "No help topic for '"); ok {
		// An unknown command: urfave/cli says "No help topic for 'X'. did
		// you mean ...?".
		name, hint, _ := strings.Cut(rest, "'")
		msg = fmt.Sprintf("unknown command %q%s (latflow --help lists the commands)", name, strings.Replace(hint, ". did", "; did", 1))
	}
	fmt.Fprintf(stderr, "latflow: %s\n", msg)
	var ue *usageError
	var ie *interruptedError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ie):
		return exitInterrupted
	case strings.HasPrefix(err.Error(), "flag provided but not defined"),
		strings.HasPrefix(err.Error(), "No help topic"),
		strings.HasPrefix(err.Error(), "invalid value"):
		return exitUsage
	}
	return exitFailed
}

// metaArgs is the key of the command line in the app's metadata.
const metaArgs = "args"

// commandLine returns the command line of the run, "latflow train ...",
// quoted where a word needs it.
func commandLine(c *cli.Context) string {
	args, _ := c.App.Metadata[metaArgs].([]string)
	words := []string{"latflow"}
	for _, a := range args[min(1, len(args)):] {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;") {
			a = strconv.Quote(a)
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

// parsed finishes the flag parsing of a command: it refuses positional
// arguments where the command takes none (urfave/cli stops at the first
// one and would silently ignore the flags after it) and records which
// flags were given.
func parsed(c *cli.Context, positional bool) (flagSet, error) {
	if !positional && c.Args().Present() {
		return nil, usagef("%s: unexpected argument %q (flags come as --name value; this command takes no arguments)", c.Command.Name, c.Args().First())
	}
	set := flagSet{}
	for _, f := range c.Command.Flags {
		for _, name := range f.Names() {
			if c.IsSet(name) {
				set[f.Names()[0]] = true
			}
		}
	}
	return set, nil
}

// valueFlags are the flags of commands with positional arguments that take
// a value; flagsFirst needs them to move "--flag value" pairs.
var valueFlags = map[string]bool{flagTherm: true, flagTraceFile: true,
	flagOutput: true, "o": true, flagObs: true, flagX: true, flagLags: true, flagBins: true}

// flagsFirst moves the flags of a command that takes positional arguments
// (analyze DIR... --json) in front of those arguments, since urfave/cli
// stops parsing flags at the first positional argument. A "--" ends the
// flags.
func flagsFirst(args []string) []string {
	head := 2 // latflow analyze
	switch {
	case len(args) >= 3 && args[1] == "analyze":
	case len(args) >= 4 && args[1] == "plot" && !strings.HasPrefix(args[2], "-"):
		head = 3 // latflow plot SUB
	default:
		return args
	}
	var flags, pos []string
	rest := args[head:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			pos = append(pos, rest[i+1:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if valueFlags[name] && i+1 < len(rest) {
				i++
				flags = append(flags, rest[i])
			}
			continue
		}
		pos = append(pos, a)
	}
	out := append(slices.Clone(args[:head]), flags...)
	out = append(out, "--")
	return append(out, pos...)
}

// writeJSON writes v to w as indented JSON, the --json output of every
// subcommand.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// longName returns a one-letter flag (--L, --n) as a flag that the help
// prints with two dashes, as the README, the docs and the error messages
// spell it (urfave/cli would print -L); both spellings parse. Other flags
// are returned as they are.
func longName(f cli.Flag) cli.Flag {
	if len(f.Names()[0]) != 1 {
		return f
	}
	switch f := f.(type) {
	case *cli.IntFlag:
		return longIntFlag{f}
	case *cli.StringFlag:
		return longStringFlag{f}
	}
	return f
}

type longIntFlag struct{ *cli.IntFlag }

func (f longIntFlag) String() string { return "-" + cli.FlagStringer(f.IntFlag) }

type longStringFlag struct{ *cli.StringFlag }

func (f longStringFlag) String() string { return "-" + cli.FlagStringer(f.StringFlag) }
