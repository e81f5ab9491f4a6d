package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"latflow/dataset"
	"latflow/observables"
	"latflow/sampler"
)

// DefaultBins is the number of bins of the log-weight histogram.
const DefaultBins = 50

// Weights draws the histogram of log w - max log w over the flow proposals
// of every chain of ds (the finite values of its log_weight column) after
// the first therm rows of each, with bins bins. Where the flow is good the
// histogram is narrow and near 0; a long tail to the left is the
// proposals that independence Metropolis mostly rejects. The title gives
// the number of proposals and ESS/N of their weights.
func Weights(ds *dataset.Dataset, therm, bins int) (*Figure, error) {
	if bins < 1 {
		panic(fmt.Sprintf("plots: %d bins", bins))
	}
	s, _, err := series(ds, therm)
	if err != nil {
		return nil, err
	}
	cols, ok := s.Obs[sampler.ColLogWeight]
	if !ok {
		return nil, fmt.Errorf("plots: the dataset has no %s column: it holds no independence Metropolis proposals (an hmc dataset?)", sampler.ColLogWeight)
	}
	var logw []float64
	for _, c := range cols {
		for _, v := range c {
			if isFinite(v) {
				logw = append(logw, v)
			}
		}
	}
	if len(logw) == 0 {
		return nil, fmt.Errorf("plots: the dataset has no finite %s: no flow proposals", sampler.ColLogWeight)
	}
	top := math.Inf(-1)
	for _, v := range logw {
		top = math.Max(top, v)
	}
	vals := make(plotter.Values, len(logw))
	for i, v := range logw {
		vals[i] = v - top
	}
	ess := observables.ReverseESS(logw)
	f := newFigure(1, 1, 7*vg.Inch, 4.5*vg.Inch)
	p := f.Panels[0][0]
	panel(p, fmt.Sprintf("log weights of %d independence Metropolis proposals: ESS/N = %.3f\n%s", len(logw), ess, target(ds)),
		"log w - max log w", "proposals")
	h, err := plotter.NewHist(vals, bins)
	if err != nil {
		return nil, err
	}
	h.FillColor = palette(0)
	h.LineStyle.Width = vg.Points(0.5)
	p.Add(h)
	return f, nil
}
