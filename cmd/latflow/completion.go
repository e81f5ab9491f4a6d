package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"latflow/models"
)

// completeCommand is the hidden command the completion scripts call:
// "latflow __complete WORD... CURRENT" prints the completions of CURRENT,
// one a line; none lets the shell complete file names.
const completeCommand = "__complete"

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash or zsh",
		ArgsUsage: "bash|zsh",
		UsageText: "latflow completion bash|zsh\n\n" +
			"Examples:\n" +
			"  source <(latflow completion bash)     # in ~/.bashrc\n" +
			"  source <(latflow completion zsh)      # in ~/.zshrc, after compinit\n" +
			"  latflow completion bash > ~/.local/share/bash-completion/completions/latflow",
		Description: "Completes the commands, the flags of each command (after submit's --, those of\n" +
			"sample or hmc), the values of --theory, --proposal, --objective, --gradient, --precision\n" +
			"and --start, and shipped:NAME after --model and --init (and NAME after models --export);\n" +
			"elsewhere the shell completes file names. The script runs the latflow it completes.",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("completion needs one shell, bash or zsh, got %d arguments", c.NArg())
			}
			switch sh := c.Args().First(); sh {
			case "bash":
				_, err := fmt.Fprint(c.App.Writer, bashCompletion)
				return err
			case "zsh":
				_, err := fmt.Fprint(c.App.Writer, zshCompletion)
				return err
			default:
				return usagef("completion: unknown shell %q, want bash or zsh", sh)
			}
		},
	}
}

func hiddenCompleteCommand() *cli.Command {
	return &cli.Command{
		Name:            completeCommand,
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			words := c.Args().Slice()
			if len(words) == 0 {
				words = []string{""}
			}
			for _, s := range completions(c.App.Commands, words) {
				fmt.Fprintln(c.App.Writer, s)
			}
			return nil
		},
	}
}

// completions returns the completions of the last of words, the words
// after "latflow" on the command line (the last one possibly empty).
func completions(commands []*cli.Command, words []string) []string {
	cur, prev := words[len(words)-1], words[:len(words)-1]
	if len(prev) == 0 {
		var names []string
		for _, c := range commands {
			if !c.Hidden {
				names = append(names, c.Name)
			}
		}
		return withPrefix(names, cur)
	}
	c := findCommand(commands, prev[0])
	if c == nil {
		return nil
	}
	return completeIn(commands, c, prev[1:], cur)
}

func findCommand(commands []*cli.Command, name string) *cli.Command {
	for _, c := range commands {
		if !c.Hidden && c.HasName(name) {
			return c
		}
	}
	return nil
}

// completeIn completes cur after the words prev of command c.
func completeIn(commands []*cli.Command, c *cli.Command, prev []string, cur string) []string {
	switch c.Name {
	case "submit":
		if i := slices.Index(prev, "--"); i >= 0 {
			rest := prev[i+1:]
			if len(rest) == 0 {
				return withPrefix([]string{"sample", "hmc"}, cur)
			}
			if sub := findCommand(commands, rest[0]); sub != nil && (sub.Name == "sample" || sub.Name == "hmc") {
				return completeIn(commands, sub, rest[1:], cur)
			}
			return nil
		}
	case "completion":
		if len(prev) == 0 {
			return withPrefix([]string{"bash", "zsh"}, cur)
		}
		return nil
	}
	if len(prev) > 0 {
		if f := findFlag(c, prev[len(prev)-1]); f != nil && takesValue(f) {
			return withPrefix(flagValues(f.Names()[0]), cur)
		}
	}
	if strings.HasPrefix(cur, "-") {
		var names []string
		for _, f := range c.Flags {
			if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
				continue
			}
			names = append(names, "--"+f.Names()[0])
		}
		names = append(names, "--help")
		if cur != "-" && !strings.HasPrefix(cur, "--") {
			cur = "-" + cur
		}
		return withPrefix(names, cur)
	}
	return nil
}

// findFlag returns the flag of c that word ("-name" or "--name") names.
func findFlag(c *cli.Command, word string) cli.Flag {
	if !strings.HasPrefix(word, "-") || strings.Contains(word, "=") {
		return nil
	}
	name := strings.TrimLeft(word, "-")
	for _, f := range c.Flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

func takesValue(f cli.Flag) bool {
	d, ok := f.(cli.DocGenerationFlag)
	return ok && d.TakesValue()
}

// flagValues returns the values completed after the flag name; none lets
// the shell complete file names.
func flagValues(name string) []string {
	switch name {
	case flagTheory:
		return []string{theoryU1, theoryPhi4, theorySchwinger}
	case flagProposal:
		return []string{proposalFlow, proposalPlaquettes}
	case flagObjective:
		return []string{"reverse", "forward"}
	case flagGradient:
		return []string{"standard", "dropin-path", "fast-path"}
	case flagPrecision:
		return []string{precisionFloat32, precisionFloat64}
	case flagStart:
		return []string{startHot, startCold}
	case flagModel, flagInit:
		var out []string
		for _, n := range models.Names() {
			out = append(out, models.Prefix+n)
		}
		return out
	case flagExport:
		return models.Names()
	}
	return nil
}

// withPrefix returns the names that start with prefix. A shipped:NAME is
// completed only once the word starts like it, so that an empty word after
// --model completes file names.
func withPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) && !(prefix == "" && strings.HasPrefix(n, models.Prefix)) {
			out = append(out, n)
		}
	}
	return out
}

// bashCompletion is the script of latflow completion bash. It hands the
// command line up to the cursor to latflow __complete (splitting it at
// blanks itself, since bash also splits words at the ":" of shipped:NAME),
// and falls back to file names where latflow has nothing to offer.
const bashCompletion = `# bash completion for latflow: source <(latflow completion bash)
_latflow_complete() {
    local line=${COMP_LINE:0:COMP_POINT}
    local -a words
    read -r -a words <<< "$line"
    if [[ -z $line || $line == *[[:space:]] ]]; then
        words+=("")
    fi
    local cur=${words[${#words[@]}-1]}
    local IFS=$'\n'
    COMPREPLY=($("${words[0]}" ` + completeCommand + ` "${words[@]:1}" 2>/dev/null))
    # bash replaces only the part of the word after the last ":".
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local pre=${cur%"${cur##*:}"} i
        for i in "${!COMPREPLY[@]}"; do
            COMPREPLY[i]=${COMPREPLY[i]#"$pre"}
        done
    fi
}
complete -o default -o bashdefault -F _latflow_complete latflow
`

// zshCompletion is the script of latflow completion zsh.
const zshCompletion = `#compdef latflow
# zsh completion for latflow: source <(latflow completion zsh), after compinit
_latflow() {
    local -a cands
    cands=("${(@f)$(${words[1]} ` + completeCommand + ` "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    cands=(${cands:#})
    if (( ${#cands} )); then
        compadd -- "${cands[@]}"
    else
        _files
    fi
}
compdef _latflow latflow
`
