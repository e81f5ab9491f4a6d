package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
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
	return &cli.App{
		Name:      "latflow",
		Usage:     "lattice field theory Monte Carlo with normalizing flows",
		Version:   Version,
		Writer:    stdout,
		ErrWriter: stderr,
		Commands: []*cli.Command{
			exactCommand(),
			hmcCommand(),
			analyzeCommand(),
			trainCommand(),
			benchCommand(),
		},
		// Errors are printed and mapped to exit codes by run, not by cli.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return &usageError{msg: err.Error()}
		},
	}
}

// run executes latflow with args and returns the process exit code. SIGINT
// and SIGTERM cancel the context handed to the commands.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	for _, c := range app.Commands {
		c.OnUsageError = app.OnUsageError
	}
	err := app.RunContext(ctx, flagsFirst(args))
	if err == nil {
		return exitOK
	}
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
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

// valueFlags are the flags of commands with positional arguments that take
// a value; flagsFirst needs them to move "--flag value" pairs.
var valueFlags = map[string]bool{flagThermalize: true}

// flagsFirst moves the flags of a command that takes positional arguments
// (analyze DIR... --json) in front of those arguments, since urfave/cli
// stops parsing flags at the first positional argument.
func flagsFirst(args []string) []string {
	if len(args) < 3 || args[1] != "analyze" {
		return args
	}
	var flags, pos []string
	rest := args[2:]
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
	out := append([]string{args[0], args[1]}, flags...)
	return append(out, pos...)
}
