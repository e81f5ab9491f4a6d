package main

import (
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"latflow/models"
)

// visibleCommands returns the commands of a fresh app that --help lists.
func visibleCommands() []*cli.Command {
	var out []*cli.Command
	for _, c := range newApp(io.Discard, io.Discard).Commands {
		if !c.Hidden {
			out = append(out, c)
		}
	}
	return out
}

// TestEveryFlagHasCategory: every visible flag of every command has one of
// the help categories (a flag added without one fails here).
func TestEveryFlagHasCategory(t *testing.T) {
	n := 0
	var commands []*cli.Command
	for _, c := range visibleCommands() {
		commands = append(append(commands, c), c.Subcommands...)
	}
	for _, c := range commands {
		for _, f := range c.Flags {
			if f == cli.HelpFlag {
				continue
			}
			if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
				continue
			}
			n++
			cf, ok := f.(cli.CategorizableFlag)
			if !ok {
				t.Errorf("%s --%s: %T cannot have a category", c.Name, f.Names()[0], f)
				continue
			}
			if cat := cf.GetCategory(); !slices.Contains(categoryOrder, cat) {
				t.Errorf("%s --%s (%T): category %q; add it to flagCategories (and its type to setCategory)", c.Name, f.Names()[0], f, cat)
			}
		}
	}
	if n < 100 {
		t.Errorf("checked %d flags, want the flags of all commands", n)
	}
}

// TestHelpByCategory: --help shows the flags under their category headers,
// in categoryOrder, with --help itself last.
func TestHelpByCategory(t *testing.T) {
	for _, c := range []struct {
		cmd   string
		heads []string
		flags map[string]string // flag -> header it is under
	}{
		{"sample", []string{"target:", "flow:", "Monte Carlo:", "output:", "run control:"},
			map[string]string{"--beta": "target:", "--model": "flow:", "--batch": "Monte Carlo:", "--out": "output:", "--seed": "run control:"}},
		{"train", []string{"target:", "flow:", "training:", "output:", "run control:"},
			map[string]string{"--theory": "target:", "--layers": "flow:", "--batch": "training:", "--lr": "training:", "--json": "output:", "--resume": "run control:"}},
		{"submit", []string{"output:", "Slurm:"}, map[string]string{"--out": "output:", "--tasks": "Slurm:"}},
	} {
		code, out, errs := runCLI(t, c.cmd, "--help")
		if code != exitOK {
			t.Fatalf("%s --help: exit %d: %s", c.cmd, code, errs)
		}
		opts := out[strings.Index(out, "OPTIONS:"):]
		last := -1
		for _, h := range c.heads {
			i := strings.Index(opts, "\n   "+h+"\n")
			if i < 0 || i < last {
				t.Errorf("%s --help: header %q missing or out of order:\n%s", c.cmd, h, opts)
			}
			last = i
		}
		for f, h := range c.flags {
			head := "\n   " + h + "\n"
			i, j := strings.Index(opts, head), strings.Index(opts, "\n     "+f+" ")
			next := strings.Index(opts[i+len(head):], ":\n") // the next header
			if i < 0 || j < i || (next >= 0 && j > i+len(head)+next) {
				t.Errorf("%s --help: %s not under %s:\n%s", c.cmd, f, h, opts)
			}
		}
		if i := strings.LastIndex(opts, "--help, -h"); i < last {
			t.Errorf("%s --help: --help missing or not last:\n%s", c.cmd, opts)
		}
	}
}

// examples returns the example command lines of a UsageText: the lines
// after "Examples:" that are not comments.
func examples(usage string) []string {
	_, ex, ok := strings.Cut(usage, "\nExamples:\n")
	if !ok {
		return nil
	}
	var out []string
	for _, line := range strings.Split(ex, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// parseExample parses args (after "latflow") with the flags of their
// command the way latflow does (flags after the arguments of analyze and
// models moved first, submit's command after --), without running it.
func parseExample(commands []*cli.Command, args []string) error {
	c := findCommand(commands, args[0])
	if c == nil {
		return usagef("no command %q", args[0])
	}
	head := 2 // latflow COMMAND
	if len(c.Subcommands) > 0 {
		if len(args) < 2 {
			return usagef("%s needs a subcommand", c.Name)
		}
		if c = findCommand(c.Subcommands, args[1]); c == nil {
			return usagef("no subcommand %q", args[1])
		}
		head = 3 // latflow COMMAND SUBCOMMAND
	}
	args = flagsFirst(append([]string{"latflow"}, args...))[head:]
	set := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range c.Flags {
		if err := f.Apply(set); err != nil {
			return err
		}
	}
	if err := set.Parse(args); err != nil {
		return err
	}
	switch {
	case c.Name == "submit":
		if set.NArg() == 0 || (set.Arg(0) != "sample" && set.Arg(0) != "hmc") {
			return usagef("submit: want -- sample|hmc, got %q", set.Args())
		}
		return parseExample(commands, set.Args())
	case c.ArgsUsage == "" && set.NArg() > 0:
		return usagef("%s takes no arguments, got %q", c.Name, set.Args())
	case c.ArgsUsage != "" && !strings.HasPrefix(c.ArgsUsage, "[") && set.NArg() == 0:
		return usagef("%s needs %s", c.Name, c.ArgsUsage)
	}
	return nil
}

// TestHelpExamplesParse: every command's --help has 2 to 4 examples, and
// each parses against its command.
func TestHelpExamplesParse(t *testing.T) {
	commands := visibleCommands()
	for _, c := range commands {
		ex := examples(c.UsageText)
		if len(ex) < 2 || len(ex) > 4 {
			t.Errorf("%s: %d examples in UsageText, want 2 to 4: %q", c.Name, len(ex), c.UsageText)
		}
		for _, line := range ex {
			// "source <(latflow completion bash)": the latflow command in it.
			i := strings.Index(line, "latflow ")
			if i < 0 {
				t.Errorf("%s: example %q runs no latflow", c.Name, line)
				continue
			}
			cmdline, _, _ := strings.Cut(line[i:], ")")
			cmdline, _, _ = strings.Cut(cmdline, ">")
			words := strings.Fields(cmdline)
			if len(words) < 2 || words[1] != c.Name {
				t.Errorf("%s: example %q is not a %s command", c.Name, line, c.Name)
				continue
			}
			if c.Name == "completion" {
				if len(words) != 3 || (words[2] != "bash" && words[2] != "zsh") {
					t.Errorf("completion: example %q", line)
				}
				continue
			}
			if err := parseExample(commands, words[1:]); err != nil {
				t.Errorf("%s: example %q: %v", c.Name, line, err)
			}
		}
	}
	// The parser refuses what latflow refuses.
	for _, bad := range [][]string{
		{"sample", "--bta", "3"}, {"sample", "--L", "x"}, {"sample", "extra"},
		{"submit", "--tasks", "2", "--", "exact"}, {"analyze", "--json"},
	} {
		if err := parseExample(commands, bad); err == nil {
			t.Errorf("parseExample(%q): got no error", bad)
		}
	}
	if ex := examples(appUsageText); len(ex) < 2 {
		t.Errorf("latflow --help: %d examples", len(ex))
	} else {
		for _, line := range ex {
			if err := parseExample(commands, strings.Fields(line)[1:]); err != nil {
				t.Errorf("latflow --help: example %q: %v", line, err)
			}
		}
	}
}

// TestDidYouMean: a mistyped command or flag is exit 2 with the nearest
// names; a word close to none gets no suggestion.
func TestDidYouMean(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // "" for no suggestion
	}{
		{[]string{"sampel"}, `did you mean "sample"?`},
		{[]string{"trian", "--steps", "3"}, `did you mean "train"?`},
		{[]string{"modles"}, `did you mean "models"?`},
		{[]string{"xyzzy"}, ""},
		{[]string{"sample", "--bta", "3"}, "did you mean --beta?"},
		{[]string{"hmc", "--md-step", "3"}, "did you mean --md-steps?"},
		{[]string{"train", "--stpes", "3"}, "did you mean --steps?"},
		{[]string{"hmc", "-l", "8"}, "did you mean --L?"},
		{[]string{"sample", "--save", "3"}, "did you mean --save-every or --save-float32?"},
		{[]string{"exact", "--zzz"}, ""},
		{[]string{"submit", "--taks", "2"}, "did you mean --tasks?"},
		{[]string{"submit", "--tasks", "2", "--out", "x", "--dry-run", "--", "sample", "--bta", "3"}, "did you mean --beta?"},
		{[]string{"analyze", "x", "--therms", "3"}, "did you mean --therm?"},
	} {
		code, _, errs := runCLI(t, c.args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want 2 (%s)", c.args, code, errs)
		}
		if c.want == "" {
			if strings.Contains(errs, "did you mean") {
				t.Errorf("%q: got %q, want no suggestion", c.args, errs)
			}
		} else if !strings.Contains(errs, c.want) {
			t.Errorf("%q: got %q, want %q", c.args, errs, c.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"", "ab", 2}, {"ab", "", 2}, {"abc", "abc", 0},
		{"sampel", "sample", 1}, {"abc", "acb", 1}, {"kitten", "sitting", 3},
		{"ca", "abc", 3}, {"seed", "steps", 3},
	} {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// TestCompletions: what latflow __complete offers for a prefix.
func TestCompletions(t *testing.T) {
	shipped := models.Names()
	for _, c := range []struct {
		words []string
		want  []string
	}{
		{[]string{"s"}, []string{"sample", "submit", "status"}},
		{[]string{"tr"}, []string{"train"}},
		{[]string{"comp"}, []string{"completion"}},
		{[]string{"__"}, nil},
		{[]string{"hmc", "--ta"}, []string{"--tau", "--tau-jitter"}},
		{[]string{"sample", "--sa"}, []string{"--save-every", "--save-float32"}},
		{[]string{"train", "--theory", ""}, []string{"u1", "phi4", "schwinger"}},
		{[]string{"train", "--theory", "p"}, []string{"phi4"}},
		{[]string{"train", "--init", "shipped:u"}, []string{"shipped:" + shipped[slices.IndexFunc(shipped, func(s string) bool { return strings.HasPrefix(s, "u") })]}},
		{[]string{"sample", "--model", ""}, nil}, // file names
		{[]string{"sample", "--L", ""}, nil},
		{[]string{"models", "--export", ""}, shipped},
		{[]string{"completion", ""}, []string{"bash", "zsh"}},
		{[]string{"submit", "--tasks", "4", "--", "h"}, []string{"hmc"}},
		{[]string{"submit", "--tasks", "4", "--", "hmc", "--md"}, []string{"--md-steps"}},
		{[]string{"submit", "--dr"}, []string{"--dry-run"}},
		{[]string{"nope", "--"}, nil},
	} {
		got := completions(newApp(io.Discard, io.Discard).Commands, c.words)
		if !slices.Equal(got, c.want) {
			t.Errorf("complete %q: got %q, want %q", c.words, got, c.want)
		}
	}
	// Through the command line, as the scripts call it.
	code, out, errs := runCLI(t, completeCommand, "bench", "--var")
	if code != exitOK || out != "--variance\n" {
		t.Errorf("latflow __complete bench --var: exit %d, %q, %s", code, out, errs)
	}
	// The hidden command is not offered, nor listed by --help.
	if _, out, _ := runCLI(t, "--help"); strings.Contains(out, completeCommand) || !strings.Contains(out, "completion") {
		t.Errorf("latflow --help lists %s or not completion:\n%s", completeCommand, out)
	}
}

// TestCompletionScripts: the bash script is valid bash and, sourced in bash
// with this latflow on the PATH, completes commands, flags and shipped:NAME;
// the zsh script, where zsh is installed, is valid zsh and offers the
// same.
func TestCompletionScripts(t *testing.T) {
	code, script, errs := runCLI(t, "completion", "bash")
	if code != exitOK {
		t.Fatalf("completion bash: exit %d: %s", code, errs)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "latflow.bash")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bash, "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v: %s", err, out)
	}
	// A latflow on the PATH that is this test binary as latflow.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	wrapper := "#!/bin/sh\nLATFLOW_BE_MAIN=1 exec '" + exe + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "latflow"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	complete := func(line string) []string {
		t.Helper()
		prog := `source "$1"; COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}; _latflow_complete; printf '%s\n' "${COMPREPLY[@]}"; complete -p latflow`
		cmd := exec.Command(bash, "-c", prog, "bash", path, line)
		cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("completing %q: %v", line, err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if reg := lines[len(lines)-1]; !strings.Contains(reg, "_latflow_complete") || !strings.HasSuffix(reg, " latflow") {
			t.Errorf("the script registers %q", reg)
		}
		return slices.DeleteFunc(lines[:len(lines)-1], func(s string) bool { return s == "" })
	}
	for _, c := range []struct {
		line string
		want []string
	}{
		{"latflow st", []string{"status"}},
		{"latflow ", []string{"exact", "hmc", "sample", "analyze", "submit", "status", "train", "bench", "models", "plot", "completion", "help"}},
		{"latflow hmc --md", []string{"--md-steps"}},
		{"latflow hmc --theory ", []string{"u1", "phi4", "schwinger"}},
		{"latflow hmc --out ", nil}, // file names, by -o default
		// bash breaks words at ":", so it gets what follows it.
		{"latflow sample --model shipped:p", shippedWithPrefix(t, "p", "")},
	} {
		if got := complete(c.line); !slices.Equal(got, c.want) {
			t.Errorf("bash completion of %q: got %q, want %q", c.line, got, c.want)
		}
	}

	code, zscript, errs := runCLI(t, "completion", "zsh")
	if code != exitOK || !strings.Contains(zscript, "compdef _latflow latflow") || !strings.Contains(zscript, completeCommand) {
		t.Fatalf("completion zsh: exit %d, %s\n%s", code, errs, zscript)
	}
	if code, _, errs := runCLI(t, "completion", "fish"); code != exitUsage || !strings.Contains(errs, "bash or zsh") {
		t.Errorf("completion fish: exit %d, %s", code, errs)
	}
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no zsh to check the zsh completion script (.ci/run installs it)")
		}
		t.Log("no zsh: the zsh script is not checked")
		return
	}
	zpath := filepath.Join(dir, "_latflow")
	if err := os.WriteFile(zpath, []byte(zscript), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(zsh, "-n", zpath).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v: %s", err, out)
	}
	// Outside a completion widget: compadd and _files stubbed to print
	// what they would offer.
	zcomplete := func(words ...string) []string {
		t.Helper()
		prog := `compdef() { print -r -- "compdef $*" }
compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@" }
_files() { print -r -- FILES }
source "$1"; shift
words=("$@"); CURRENT=$#; _latflow`
		cmd := exec.Command(zsh, append([]string{"-f", "-c", prog, "zsh", zpath}, words...)...)
		cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("zsh completing %q: %v", words, err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if lines[0] != "compdef _latflow latflow" {
			t.Errorf("the zsh script registers %q", lines[0])
		}
		return lines[1:]
	}
	for _, c := range []struct {
		words []string
		want  []string
	}{
		{[]string{"latflow", "tr"}, []string{"train"}},
		{[]string{"latflow", "hmc", "--md"}, []string{"--md-steps"}},
		{[]string{"latflow", "sample", "--model", "shipped:p"}, shippedWithPrefix(t, "p", "shipped:")},
		{[]string{"latflow", "hmc", "--out", ""}, []string{"FILES"}},
	} {
		if got := zcomplete(c.words...); !slices.Equal(got, c.want) {
			t.Errorf("zsh completion of %q: got %q, want %q", c.words, got, c.want)
		}
	}
}

// shippedWithPrefix returns the shipped model names that start with p,
// sorted, each written after the prefix add.
func shippedWithPrefix(t *testing.T, p, add string) []string {
	var out []string
	for _, n := range models.Names() {
		if strings.HasPrefix(n, p) {
			out = append(out, add+n)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no shipped model starts with %q", p)
	}
	return out
}
