package plots

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot/vg"

	"latflow/dataset"
	"latflow/observables"
)

// MaxHistoryPoints is the most points a chain's history is drawn with;
// longer chains are drawn with every k-th row.
const MaxHistoryPoints = 20000

// History draws the Monte Carlo history of each observable (names as
// observables.NamedSeries knows them), one panel per observable and one
// line per chain, against the step. With therm > 0 the first therm rows of
// each chain, which analyze --therm would drop, are drawn too and a dashed
// line marks where the analysed rows begin. The title says how many
// thermalization steps the run made before its first row.
func History(ds *dataset.Dataset, names []string, therm int) (*Figure, error) {
	if len(names) == 0 {
		return nil, errors.New("plots: no observable to draw")
	}
	s, steps, err := series(ds, 0)
	if err != nil {
		return nil, err
	}
	for _, ch := range ds.Chains {
		if len(ch.Steps) <= therm {
			return nil, fmt.Errorf("plots: thermalization %d drops all %d rows of chain %d in %s", therm, len(ch.Steps), ch.ID, ch.Dir)
		}
	}
	t := target(ds)
	f := newFigure(len(names), 1, 10*vg.Inch, vg.Length(math.Max(3, 2.4*float64(len(names))))*vg.Inch)
	runTherm := ""
	if v, ok := ds.Meta.SamplerSettings["therm"]; ok {
		runTherm = fmt.Sprintf("; the run made %s thermalization steps before its first row", v)
	}
	for k, name := range names {
		data, err := observables.NamedSeries(t.Theory, s, name)
		if err != nil {
			return nil, err
		}
		p := f.Panels[k][0]
		title := fmt.Sprintf("Monte Carlo history of %s (%s)", name, t)
		if k == 0 {
			title += runTherm
		}
		panel(p, title, "step", name)
		var all []float64
		for c, x := range data {
			stride := (len(x) + MaxHistoryPoints - 1) / MaxHistoryPoints
			xs := make([]float64, 0, len(x)/stride+1)
			ys := make([]float64, 0, len(x)/stride+1)
			for i := 0; i < len(x); i += stride {
				xs, ys = append(xs, float64(steps[c][i])), append(ys, x[i])
			}
			xy := finiteXYs(xs, ys)
			if len(xy) == 0 {
				return nil, fmt.Errorf("plots: %s has no finite value in %s", name, chainLabel(ds, c))
			}
			if err := addLine(p, xy, c, chainLabel(ds, c), false); err != nil {
				return nil, err
			}
			all = append(all, ys...)
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range all {
			if isFinite(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		if lo == hi {
			lo, hi = lo-0.5, hi+0.5
		}
		entries := len(data)
		if therm > 0 {
			entries++
		}
		legendRoom(p, lo, hi, entries)
		if therm > 0 {
			first := float64(steps[0][therm])
			if err := vline(p, first, lo, hi, "analysis starts (--therm "+strconv.Itoa(therm)+")"); err != nil {
				return nil, err
			}
		}
	}
	return f, nil
}
