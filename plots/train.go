package plots

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"gonum.org/v1/plot/vg"

	"latflow/flowtrain"
)

// TrainLog is one training log and its label in the legend.
type TrainLog struct {
	Label string
	Rows  []flowtrain.LogRow
}

// TrainX is the x axis of the training curves.
type TrainX int

const (
	// TrainSteps puts the step number on the x axis.
	TrainSteps TrainX = iota
	// TrainWallTime puts the training wall time on the x axis, to compare
	// estimators at equal cost.
	TrainWallTime
	// TrainCPUTime puts the training process's CPU time (the log's
	// cpu_seconds) on the x axis: on a loaded machine, the time on one
	// core of a run with one thread.
	TrainCPUTime
)

// label is the x axis label of x.
func (x TrainX) label() string {
	switch x {
	case TrainWallTime:
		return "wall time (s)"
	case TrainCPUTime:
		return "CPU time (s)"
	}
	return "step"
}

// trainColumns returns the x values of the rows of a training log and its
// curves by name: loss, std, ess (NaN on skipped steps), lr, fresh and acc
// (the fresh-sample ESS/N and acceptance, NaN off the measured steps),
// wall and cpu (the cumulative times).
func trainColumns(rows []flowtrain.LogRow, x TrainX) ([]float64, map[string][]float64) {
	n := len(rows)
	xs := make([]float64, n)
	cols := map[string][]float64{}
	for _, name := range []string{"loss", "std", "ess", "fresh", "acc", "lr", "wall", "cpu"} {
		cols[name] = make([]float64, n)
	}
	for j, r := range rows {
		switch x {
		case TrainWallTime:
			xs[j] = r.WallSeconds
		case TrainCPUTime:
			xs[j] = r.CPUSeconds
		default:
			xs[j] = float64(r.Step)
		}
		cols["loss"][j], cols["std"][j], cols["ess"][j], cols["lr"][j] = r.Loss, r.StdLogW, r.ESS, r.LR
		cols["wall"][j], cols["cpu"][j] = r.WallSeconds, r.CPUSeconds
		cols["fresh"][j], cols["acc"][j] = r.ESSFresh, r.AccFresh
		if !(r.ESSFresh > 0) {
			cols["fresh"][j], cols["acc"][j] = nan, nan
		}
		if r.Skipped {
			cols["loss"][j], cols["std"][j], cols["ess"][j] = nan, nan, nan
		}
	}
	return xs, cols
}

// Train draws the curves of training logs in six panels: the loss,
// std(log w) of the batches and the learning rate; the batch ESS/N (lines)
// with the fresh ESS/N of the evaluations (points), the
// independence-Metropolis acceptance of the same fresh samples (the log's
// acc_fresh, points), and the cumulative training time, wall (lines) and
// CPU (dashed). Several logs are overlaid, one colour each, labelled in
// the legends. With TrainCPUTime every log must have CPU times.
func Train(logs []TrainLog, x TrainX) (*Figure, error) {
	if len(logs) == 0 {
		return nil, errors.New("plots: no training log")
	}
	longest := 0
	for _, l := range logs {
		if len(l.Rows) == 0 {
			return nil, fmt.Errorf("plots: training log %s has no steps", l.Label)
		}
		if x == TrainCPUTime && !slices.ContainsFunc(l.Rows, func(r flowtrain.LogRow) bool { return isFinite(r.CPUSeconds) }) {
			return nil, fmt.Errorf("plots: training log %s has no CPU times (cpu_seconds; written by an older latflow or resumed from its checkpoint): draw it against the wall time", l.Label)
		}
		longest = max(longest, len(l.Rows))
	}
	block := (longest + MaxPoints - 1) / MaxPoints
	xlabel := x.label()
	ylabel := func(s string) string {
		if block > 1 {
			return fmt.Sprintf("%s (mean of %d steps)", s, block)
		}
		return s
	}
	f := newFigure(2, 3, 14*vg.Inch, 7*vg.Inch)
	loss, std, lr := f.Panels[0][0], f.Panels[0][1], f.Panels[0][2]
	ess, acc, times := f.Panels[1][0], f.Panels[1][1], f.Panels[1][2]
	panel(loss, "loss", xlabel, ylabel("loss"))
	panel(std, "std(log w) of the batch", xlabel, ylabel("std(log w)"))
	panel(lr, "learning rate", xlabel, "learning rate")
	panel(ess, "ESS/N: batch (lines), fresh samples (points)", xlabel, ylabel("ESS/N"))
	panel(acc, "independence Metropolis acceptance of the fresh samples", xlabel, "acceptance")
	panel(times, "training time: wall (lines), CPU (dashed)", xlabel, "seconds")
	several := len(logs) > 1
	legendRoom(ess, 0, 1, 2*len(logs))
	legendRoom(acc, 0, 1, len(logs))
	var lossXYs, stdXYs []plotter.XYs
	maxLR := 0.0
	xlo, xhi := math.Inf(1), math.Inf(-1)
	for i, l := range logs {
		xs, cols := trainColumns(l.Rows, x)
		for _, v := range xs {
			if isFinite(v) {
				xlo, xhi = min(xlo, v), max(xhi, v)
			}
		}
		for _, v := range cols["lr"] {
			if isFinite(v) {
				maxLR = max(maxLR, v)
			}
		}
		label := ""
		if several {
			label = l.Label
		}
		lxy, sxy := blockMeans(finiteXYs(xs, cols["loss"]), block), blockMeans(finiteXYs(xs, cols["std"]), block)
		lossXYs, stdXYs = append(lossXYs, lxy), append(stdXYs, sxy)
		if err := addLine(loss, lxy, i, label, false); err != nil {
			return nil, err
		}
		if err := addLine(std, sxy, i, label, false); err != nil {
			return nil, err
		}
		batchName, freshName, wallName, cpuName := "batch", "fresh", "wall", "CPU"
		if several {
			batchName, freshName, wallName, cpuName = l.Label+" batch", l.Label+" fresh", l.Label+" wall", l.Label+" CPU"
		}
		if err := addLine(ess, blockMeans(finiteXYs(xs, cols["ess"]), block), i, batchName, false); err != nil {
			return nil, err
		}
		if err := addPoints(ess, finiteXYs(xs, cols["fresh"]), i, freshName); err != nil {
			return nil, err
		}
		if err := addPoints(acc, finiteXYs(xs, cols["acc"]), i, label); err != nil {
			return nil, err
		}
		if err := addLine(times, blockMeans(finiteXYs(xs, cols["wall"]), block), i, wallName, false); err != nil {
			return nil, err
		}
		if err := addLine(times, blockMeans(finiteXYs(xs, cols["cpu"]), block), i, cpuName, true); err != nil {
			return nil, err
		}
		if err := addLine(lr, blockMeans(finiteXYs(xs, cols["lr"]), block), i, label, false); err != nil {
			return nil, err
		}
	}
	legends := 0
	if several {
		legends = len(logs)
	}
	robustRange(loss, lossXYs, legends)
	robustRange(std, stdXYs, legends)
	// The acceptance, points only, on the x range of the curves beside it.
	if xlo < xhi {
		acc.X.Min, acc.X.Max = xlo, xhi
	}
	// From 0, so that a constant rate is a line, not a degenerate axis.
	if maxLR > 0 {
		lr.Y.Min, lr.Y.Max = 0, maxLR*(1.12+0.07*float64(len(logs)))
	}
	return f, nil
}

// clipQuantile is the quantile of a training curve's values above which
// the first steps of a run, far above the rest, are left off the scale.
const clipQuantile = 0.98

// robustRange sets the y range of a panel of training curves to their
// values up to the clipQuantile quantile, when the largest values (the
// first steps, from an untrained flow) lie far above it and would squash
// the rest into a line; the title then says so. legends entries get room
// at the top.
func robustRange(p *plot.Plot, xys []plotter.XYs, legends int) {
	var ys []float64
	for _, xy := range xys {
		for _, pt := range xy {
			ys = append(ys, pt.Y)
		}
	}
	if len(ys) == 0 {
		return
	}
	slices.Sort(ys)
	lo, hi, q := ys[0], ys[len(ys)-1], ys[int(math.Floor(clipQuantile*float64(len(ys)-1)))]
	if hi > q+2*(q-lo) && q > lo {
		hi = q + 0.1*(q-lo)
		p.Title.Text += " (first steps off the scale)"
	}
	legendRoom(p, lo, hi, legends)
}
