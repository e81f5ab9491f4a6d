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
)

// Train draws the curves of training logs in four panels: the loss,
// std(log w) of the batches, the batch ESS/N (lines) with the fresh ESS/N
// of the evaluations (points), and the learning rate. Several logs are
// overlaid, one colour each, labelled in the legends.
func Train(logs []TrainLog, x TrainX) (*Figure, error) {
	if len(logs) == 0 {
		return nil, errors.New("plots: no training log")
	}
	longest := 0
	for _, l := range logs {
		if len(l.Rows) == 0 {
			return nil, fmt.Errorf("plots: training log %s has no steps", l.Label)
		}
		longest = max(longest, len(l.Rows))
	}
	block := (longest + MaxPoints - 1) / MaxPoints
	xlabel := "step"
	if x == TrainWallTime {
		xlabel = "wall time (s)"
	}
	ylabel := func(s string) string {
		if block > 1 {
			return fmt.Sprintf("%s (mean of %d steps)", s, block)
		}
		return s
	}
	f := newFigure(2, 2, 10*vg.Inch, 7*vg.Inch)
	loss, std, ess, lr := f.Panels[0][0], f.Panels[0][1], f.Panels[1][0], f.Panels[1][1]
	panel(loss, "loss", xlabel, ylabel("loss"))
	panel(std, "std(log w) of the batch", xlabel, ylabel("std(log w)"))
	panel(ess, "ESS/N: batch (lines), fresh samples (points)", xlabel, ylabel("ESS/N"))
	panel(lr, "learning rate", xlabel, "learning rate")
	several := len(logs) > 1
	legendRoom(ess, 0, 1, 2*len(logs))
	var lossXYs, stdXYs []plotter.XYs
	maxLR := 0.0
	for i, l := range logs {
		n := len(l.Rows)
		xs := make([]float64, n)
		cols := map[string][]float64{}
		for _, name := range []string{"loss", "std", "ess", "fresh", "lr"} {
			cols[name] = make([]float64, n)
		}
		for j, r := range l.Rows {
			xs[j] = float64(r.Step)
			if x == TrainWallTime {
				xs[j] = r.WallSeconds
			}
			cols["loss"][j], cols["std"][j], cols["ess"][j], cols["lr"][j] = r.Loss, r.StdLogW, r.ESS, r.LR
			if isFinite(r.LR) {
				maxLR = max(maxLR, r.LR)
			}
			cols["fresh"][j] = r.ESSFresh
			if r.ESSFresh <= 0 {
				cols["fresh"][j] = nan
			}
			if r.Skipped {
				cols["loss"][j], cols["std"][j], cols["ess"][j] = nan, nan, nan
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
		batchName, freshName := "batch", "fresh"
		if several {
			batchName, freshName = l.Label+" batch", l.Label+" fresh"
		}
		if err := addLine(ess, blockMeans(finiteXYs(xs, cols["ess"]), block), i, batchName, false); err != nil {
			return nil, err
		}
		if err := addPoints(ess, finiteXYs(xs, cols["fresh"]), i, freshName); err != nil {
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
