package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"latflow/dataset"
	"latflow/flowtrain"
	"latflow/plots"
)

// Flags of latflow plot.
const (
	flagOutput = "output"
	flagObs    = "obs"
	flagX      = "x"
	flagLags   = "lags"
	flagBins   = "bins"
)

// Values of --x.
const (
	xSteps = "steps"
	xTime  = "time"
	xCPU   = "cpu" // plot train: the log's cpu_seconds
)

// plotOptions are the flags of the plot subcommands.
type plotOptions struct {
	output string
	obs    string
	x      string
	therm  int
	lags   int
	bins   int
	args   []string
}

func plotCommand() *cli.Command {
	outFlag := func(o *plotOptions) cli.Flag {
		return &cli.StringFlag{Name: flagOutput, Aliases: []string{"o"}, Destination: &o.output,
			Usage: "write the picture to `FILE`, PNG or SVG by its extension (.png, .svg)"}
	}
	thermFlag := func(o *plotOptions) cli.Flag {
		return &cli.IntFlag{Name: flagTherm, Destination: &o.therm, Usage: "drop the first `K` rows of each chain, as analyze --therm does"}
	}
	sub := func(name, usage, args, desc string, flags func(o *plotOptions) []cli.Flag, run func(o *plotOptions, stderr io.Writer) error) *cli.Command {
		o := &plotOptions{}
		return &cli.Command{
			Name: name, Usage: usage, ArgsUsage: args, Description: desc,
			Flags: append([]cli.Flag{outFlag(o)}, flags(o)...),
			Action: func(c *cli.Context) error {
				if _, err := parsed(c, true); err != nil {
					return err
				}
				o.args = c.Args().Slice()
				return runPlot(c.Context, o, c.App.ErrWriter, run)
			},
		}
	}
	return &cli.Command{
		Name:      "plot",
		Usage:     "draw training curves, Monte Carlo histories, autocorrelation functions and log-weight histograms (PNG or SVG)",
		UsageText: plotUsage,
		Subcommands: []*cli.Command{
			sub("train", "draw loss, std(log w), batch and fresh ESS, fresh acceptance, the learning rate and the time of training logs", "LOG.arrow [LOG.arrow...]",
				"Reads the training logs (MODEL.flow.log.arrow, written by train) and draws six panels: loss,\n"+
					"std(log w) and learning rate; batch and fresh ESS/N, the independence-Metropolis acceptance of\n"+
					"the fresh samples (acc_fresh, every --eval-every steps) and the cumulative wall and CPU time.\n"+
					"Several logs are overlaid, labelled by file name and estimator; --x time compares them at equal\n"+
					"wall time, --x cpu at equal CPU time (cpu_seconds: with train --threads 1 on a loaded machine,\n"+
					"the time on one core).\n\n"+
					"Example: latflow plot train u1.flow.log.arrow -o curves.png",
				func(o *plotOptions) []cli.Flag {
					return []cli.Flag{&cli.StringFlag{Name: flagX, Value: xSteps, Destination: &o.x, Usage: "the x axis: steps, time (training wall time) or cpu (training CPU time)"}}
				}, plotTrain),
			sub("history", "draw the Monte Carlo history of observables, per chain", "DIR [DIR...]",
				"Draws one panel per observable of --obs and one line per chain of the datasets, with the start\n"+
					"of the analysed rows marked when --therm is given.\n\n"+
					"Example: latflow plot history ens --obs Q,plaquette --therm 100 -o hist.png",
				func(o *plotOptions) []cli.Flag {
					return []cli.Flag{
						&cli.StringFlag{Name: flagObs, Destination: &o.obs, Usage: "comma-separated `NAMES` of observables: action, plaquette, Q, Q^2 (U(1)); action, m, |m|, m^2, phi^2 (phi^4); or a column"},
						thermFlag(o),
					}
				}, plotHistory),
			sub("autocorr", "draw the normalized autocorrelation function and tau_int(W) of an observable", "DIR [DIR...]",
				"Runs the Gamma method of analyze's table on the observable of --obs and draws rho(t) and\n"+
					"tau_int(W) with the window W it chose.\n\n"+
					"Example: latflow plot autocorr ens --obs 'Q^2' -o gamma.png",
				func(o *plotOptions) []cli.Flag {
					return []cli.Flag{
						&cli.StringFlag{Name: flagObs, Destination: &o.obs, Usage: "the observable's `NAME`, as for history"},
						thermFlag(o),
						&cli.IntFlag{Name: flagLags, Destination: &o.lags, Usage: "draw lags up to `T` (0: three windows and 20 more)"},
					}
				}, plotAutocorr),
			sub("weights", "draw the histogram of log w - max log w of a sample dataset's flow proposals", "DIR [DIR...]",
				"Reads the log_weight column of a dataset written by sample --out and draws the histogram of the\n"+
					"proposals' log weights relative to the largest; its title gives ESS/N.\n\n"+
					"Example: latflow plot weights samples -o logw.png",
				func(o *plotOptions) []cli.Flag {
					return []cli.Flag{thermFlag(o), &cli.IntFlag{Name: flagBins, Value: plots.DefaultBins, Destination: &o.bins, Usage: "the number of `BINS`"}}
				}, plotWeights),
		},
	}
}

// maxPlotBins and maxPlotLags bound --bins and --lags.
const (
	maxPlotBins = 10000
	maxPlotLags = 1 << 20
)

// runPlot checks the flags shared by the plot subcommands, runs the
// subcommand and says where the picture went. Input errors are usage
// errors (exit 2), and no file is written on any error.
func runPlot(_ context.Context, o *plotOptions, stderr io.Writer, run func(o *plotOptions, stderr io.Writer) error) error {
	if o.output == "" {
		return usagef("plot needs --%s FILE (.png or .svg)", flagOutput)
	}
	if _, err := plots.Format(o.output); err != nil {
		return usagef("--%s: %v", flagOutput, err)
	}
	if fi, err := os.Stat(filepath.Dir(o.output)); err != nil || !fi.IsDir() {
		return usagef("--%s %s: its directory %s does not exist", flagOutput, o.output, filepath.Dir(o.output))
	}
	switch {
	case len(o.args) == 0:
		return usagef("plot needs at least one input file or directory")
	case o.therm < 0:
		return usagef("--%s must be zero or positive, got %d", flagTherm, o.therm)
	case o.lags < 0 || o.lags > maxPlotLags:
		return usagef("--%s must be between 0 and %d, got %d", flagLags, maxPlotLags, o.lags)
	}
	if err := run(o, stderr); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "latflow plot: wrote %s\n", o.output)
	return nil
}

// openPlotData opens the datasets of a plot; a missing or empty dataset is
// bad input.
func openPlotData(o *plotOptions) (*dataset.Dataset, error) {
	ds, err := dataset.Open(o.args...)
	if err != nil {
		return nil, usagef("plot: %v", err)
	}
	return ds, nil
}

// savePlot saves a figure; a figure that could not be built is bad input.
func savePlot(f *plots.Figure, err error, o *plotOptions) error {
	if err != nil {
		return usagef("%v", err)
	}
	return f.Save(o.output)
}

func plotTrain(o *plotOptions, _ io.Writer) error {
	var x plots.TrainX
	switch o.x {
	case xSteps:
		x = plots.TrainSteps
	case xTime:
		x = plots.TrainWallTime
	case xCPU:
		x = plots.TrainCPUTime
	default:
		return usagef("--%s must be %s, %s or %s, got %q", flagX, xSteps, xTime, xCPU, o.x)
	}
	var logs []plots.TrainLog
	for _, path := range o.args {
		rows, md, err := flowtrain.ReadLog(path)
		if err != nil {
			return usagef("plot train: %v", err)
		}
		label := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), ".arrow"), ".log")
		if obj, grad := md["latflow.objective"], md["latflow.gradient"]; obj != "" {
			label += " (" + strings.TrimSpace(obj+" "+grad) + ")"
		}
		logs = append(logs, plots.TrainLog{Label: label, Rows: rows})
	}
	f, err := plots.Train(logs, x)
	return savePlot(f, err, o)
}

// plotNames splits --obs.
func plotNames(o *plotOptions) ([]string, error) {
	var names []string
	for _, n := range strings.Split(o.obs, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, usagef("--%s needs at least one observable, e.g. --%s Q,plaquette", flagObs, flagObs)
	}
	return names, nil
}

func plotHistory(o *plotOptions, _ io.Writer) error {
	names, err := plotNames(o)
	if err != nil {
		return err
	}
	ds, err := openPlotData(o)
	if err != nil {
		return err
	}
	f, err := plots.History(ds, names, o.therm)
	return savePlot(f, err, o)
}

func plotAutocorr(o *plotOptions, stderr io.Writer) error {
	names, err := plotNames(o)
	if err != nil {
		return err
	}
	if len(names) != 1 {
		return usagef("--%s: autocorr draws one observable, got %d (%s)", flagObs, len(names), o.obs)
	}
	ds, err := openPlotData(o)
	if err != nil {
		return err
	}
	f, a, err := plots.Autocorr(ds, names[0], o.therm, o.lags)
	if err == nil {
		est := a.Estimate
		fmt.Fprintf(stderr, "latflow plot: %s: tau_int %.4g +- %.2g at W = %d (N = %d)\n", names[0], est.TauInt, est.TauIntErr, est.Window, est.N)
	}
	return savePlot(f, err, o)
}

func plotWeights(o *plotOptions, _ io.Writer) error {
	if o.bins < 1 || o.bins > maxPlotBins {
		return usagef("--%s must be between 1 and %d, got %d", flagBins, maxPlotBins, o.bins)
	}
	ds, err := openPlotData(o)
	if err != nil {
		return err
	}
	f, err := plots.Weights(ds, o.therm, o.bins)
	return savePlot(f, err, o)
}
