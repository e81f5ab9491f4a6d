package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// Flag categories of the --help output, in the order they are shown.
const (
	catTarget     = "target"
	catFlow       = "flow"
	catMonteCarlo = "Monte Carlo"
	catTraining   = "training"
	catOutput     = "output"
	catRunControl = "run control"
	catSlurm      = "Slurm"
)

var categoryOrder = []string{catTarget, catFlow, catMonteCarlo, catTraining, catOutput, catRunControl, catSlurm}

// flagCategories assigns each flag its --help category: by "command.flag"
// where a flag means something else in one command, else by flag name.
// Every visible flag of every command must be here
// (TestEveryFlagHasCategory), so a new flag fails the tests until it is
// placed.
var flagCategories = map[string]string{
	flagTheory: catTarget, flagL: catTarget, flagBeta: catTarget,
	flagM2: catTarget, flagLambda: catTarget, flagKappa: catTarget,

	flagModel: catFlow, flagInit: catFlow, flagAddLayers: catFlow, flagProposal: catFlow, flagConstraint: catFlow,
	flagPrecision: catFlow, flagLayers: catFlow, flagMixtures: catFlow, flagHidden: catFlow,
	flagKernel: catFlow, flagBase: catFlow, flagBaseBeta: catFlow, flagBaseMode: catFlow,
	flagLayerInit: catFlow, flagBasePropagator: catFlow, flagZ2: catFlow,
	flagCoupling: catFlow, flagSplineBins: catFlow, flagSplineBound: catFlow,
	flagZeroModeBins: catFlow, flagBlocks: catFlow, flagSpectral: catFlow, flagZeroModeBound: catFlow,

	flagN: catMonteCarlo, flagTherm: catMonteCarlo, flagTau: catMonteCarlo,
	flagMDSteps: catMonteCarlo, flagTauJitter: catMonteCarlo, flagStart: catMonteCarlo,
	flagHMCEvery: catMonteCarlo, flagChains: catMonteCarlo, flagChainOffset: catMonteCarlo,
	flagExact:             catMonteCarlo,
	"sample." + flagBatch: catMonteCarlo,

	flagObjective: catTraining, flagGradient: catTraining, flagSteps: catTraining,
	flagBatch: catTraining, flagLR: catTraining, flagSchedule: catTraining, flagClip: catTraining,
	flagData: catTraining, flagMaxSkips: catTraining, flagEval: catTraining, flagEvalEvery: catTraining,
	flagVariance: catTraining, flagSamples: catTraining, flagRepeat: catTraining,

	flagOut: catOutput, flagJSON: catOutput, flagSaveEvery: catOutput, flagSaveFloat32: catOutput,
	flagPartRows: catOutput, flagTraceFile: catOutput, flagForce: catOutput, flagExport: catOutput,

	flagOutput: catOutput, flagX: catOutput, flagObs: catOutput, flagLags: catOutput, flagBins: catOutput,

	flagSeed: catRunControl, flagThreads: catRunControl, flagMaxTime: catRunControl, flagMaxCPUTime: catRunControl,
	flagResume: catRunControl, flagCheckpointEvery: catRunControl,

	"submit." + flagTasks: catSlurm, "submit." + flagCPUsPerTask: catSlurm, "submit." + flagMem: catSlurm,
	"submit." + flagPartition: catSlurm, "submit." + flagTime: catSlurm, "submit." + flagDryRun: catSlurm,
}

// flagCategory returns the category of the flag name of command, "" if it
// has none.
func flagCategory(command, name string) string {
	if c, ok := flagCategories[command+"."+name]; ok {
		return c
	}
	return flagCategories[name]
}

// setCategory sets the category of f and reports whether its type has
// one.
func setCategory(f cli.Flag, cat string) bool {
	switch f := f.(type) {
	case *cli.BoolFlag:
		f.Category = cat
	case *cli.IntFlag:
		f.Category = cat
	case *cli.Int64Flag:
		f.Category = cat
	case *cli.UintFlag:
		f.Category = cat
	case *cli.Uint64Flag:
		f.Category = cat
	case *cli.Float64Flag:
		f.Category = cat
	case *cli.StringFlag:
		f.Category = cat
	case *cli.PathFlag:
		f.Category = cat
	case *cli.DurationFlag:
		f.Category = cat
	case *cli.StringSliceFlag:
		f.Category = cat
	case *cli.IntSliceFlag:
		f.Category = cat
	case *cli.Float64SliceFlag:
		f.Category = cat
	case *cli.GenericFlag:
		f.Category = cat
	default:
		return false
	}
	return true
}

// setupHelp gives every command's flags their category and the help
// template that shows them by category, in categoryOrder, and turns on the
// "did you mean" suggestions.
func setupHelp(app *cli.App) {
	setupCommandHelp(app.Commands)
	app.Suggest = true
}

// setupCommandHelp does setupHelp's work for commands and, recursively,
// their subcommands; a command with subcommands keeps urfave/cli's help,
// which lists them.
func setupCommandHelp(commands []*cli.Command) {
	for _, c := range commands {
		if len(c.Subcommands) > 0 {
			setupCommandHelp(c.Subcommands)
			continue
		}
		for _, f := range c.Flags {
			if cat := flagCategory(c.Name, f.Names()[0]); cat != "" {
				setCategory(f, cat)
			}
		}
		// urfave/cli adds --help after it has sorted the flags into
		// categories, which leaves it out of a categorized help.
		if cli.HelpFlag != nil && !slices.Contains(c.Flags, cli.HelpFlag) {
			c.Flags = append(c.Flags, cli.HelpFlag)
		}
		c.CustomHelpTemplate = commandHelpTemplate
	}
}

// commandHelpTemplate is urfave/cli's command help with the flags shown by
// category in categoryOrder (urfave/cli sorts categories by name), the
// uncategorized --help last.
var commandHelpTemplate = func() string {
	var b strings.Builder
	b.WriteString(`NAME:
   {{template "helpNameTemplate" .}}

USAGE:
   {{template "usageTemplate" .}}{{if .Description}}

DESCRIPTION:
   {{template "descriptionTemplate" .}}{{end}}{{if .VisibleFlagCategories}}

OPTIONS:`)
	for _, cat := range append(slices.Clone(categoryOrder), "") {
		fmt.Fprintf(&b, `{{range .VisibleFlagCategories}}{{if eq .Name %q}}`, cat)
		indent := "   "
		if cat != "" {
			fmt.Fprintf(&b, "\n   %s:", cat)
			indent = "     "
		}
		b.WriteString(`{{range .Flags}}
` + indent + `{{.}}{{end}}
{{end}}{{end}}`)
	}
	b.WriteString(`{{else if .VisibleFlags}}

OPTIONS:{{template "visibleFlagTemplate" .}}
{{end}}`)
	return b.String()
}()

func init() {
	cli.SuggestCommand = func(commands []*cli.Command, provided string) string {
		var names []string
		for _, c := range commands {
			if !c.Hidden {
				names = append(names, c.Names()...)
			}
		}
		if s := suggest(provided, names); len(s) > 0 {
			return "did you mean " + orList(quoteAll(s, "")) + "?"
		}
		return ""
	}
	cli.SuggestFlag = func(flags []cli.Flag, provided string, _ bool) string {
		return suggestFlag(flags, provided)
	}
}

// suggestFlag returns "--name" of the flags closest to the mistyped
// provided ("-nm" or "nm"), "" if none is close.
func suggestFlag(flags []cli.Flag, provided string) string {
	var names []string
	for _, f := range flags {
		if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
			continue
		}
		names = append(names, f.Names()[0])
	}
	return orList(quoteAll(suggest(strings.TrimLeft(provided, "-"), names), "--"))
}

// usageErrorOf is the usage error of a flag parsing error of the command
// of c, with "did you mean" for an undefined flag.
func usageErrorOf(c *cli.Context, err error) error {
	msg := err.Error()
	if c != nil {
		msg += flagSuggestion(c.Command, err)
	}
	return &usageError{msg: msg}
}

// flagSuggestion is the "did you mean" of a usage error for an undefined
// flag of command c, "" if err is another error or no flag is close.
func flagSuggestion(c *cli.Command, err error) string {
	const prefix = "flag provided but not defined: "
	name, ok := strings.CutPrefix(err.Error(), prefix)
	if !ok || c == nil {
		return ""
	}
	if s := cli.SuggestFlag(c.Flags, name, true); s != "" {
		return "; did you mean " + s + "?"
	}
	return ""
}

// suggest returns the candidates closest to the mistyped s: those within
// an edit distance (insertions, deletions, substitutions, transpositions;
// case ignored) that grows with the length of s, or that s is a prefix
// of. Nearest first, at most three.
func suggest(s string, candidates []string) []string {
	if s == "" {
		return nil
	}
	ls := strings.ToLower(s)
	limit := 0 // one letter: only a different case
	switch {
	case len(s) > 8:
		limit = 3
	case len(s) > 4:
		limit = 2
	case len(s) > 2:
		limit = 1
	}
	type hit struct {
		name string
		d    int
	}
	var hits []hit
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := editDistance(ls, lc)
		if len(s) >= 2 && strings.HasPrefix(lc, ls) {
			d = min(d, 1)
		}
		if d <= limit && !slices.ContainsFunc(hits, func(h hit) bool { return h.name == c }) {
			hits = append(hits, hit{c, d})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return a.d - b.d })
	var out []string
	for _, h := range hits[:min(len(hits), 3)] {
		out = append(out, h.name)
	}
	return out
}

// editDistance is the optimal-string-alignment distance of a and b: the
// least number of single-byte insertions, deletions, substitutions and
// transpositions of adjacent bytes that turn a into b.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// quoteAll returns the names with the prefix ("--" for flags), quoted
// for commands.
func quoteAll(names []string, prefix string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		if prefix == "" {
			out[i] = fmt.Sprintf("%q", n)
		} else {
			out[i] = prefix + n
		}
	}
	return out
}

// orList joins "a", "a or b", "a, b or c".
func orList(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
