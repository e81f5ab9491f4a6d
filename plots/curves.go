package plots

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// MaxPoints is the most points a training curve is drawn with; longer logs
// are drawn as means over blocks of consecutive steps.
const MaxPoints = 1000

// finiteXYs returns the points of x and y where both are finite.
func finiteXYs(x, y []float64) plotter.XYs {
	xy := make(plotter.XYs, 0, len(x))
	for i := range x {
		if isFinite(x[i]) && isFinite(y[i]) {
			xy = append(xy, plotter.XY{X: x[i], Y: y[i]})
		}
	}
	return xy
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// blockMeans returns the means over blocks of k consecutive points of xy.
func blockMeans(xy plotter.XYs, k int) plotter.XYs {
	if k <= 1 {
		return xy
	}
	out := make(plotter.XYs, 0, (len(xy)+k-1)/k)
	for i := 0; i < len(xy); i += k {
		blk := xy[i:min(i+k, len(xy))]
		var sx, sy float64
		for _, p := range blk {
			sx += p.X
			sy += p.Y
		}
		n := float64(len(blk))
		out = append(out, plotter.XY{X: sx / n, Y: sy / n})
	}
	return out
}

// addLine adds a line of colour i to p, with a legend entry if name is not
// empty. It does nothing for no points.
func addLine(p *plot.Plot, xy plotter.XYs, i int, name string, dashed bool) error {
	if len(xy) == 0 {
		return nil
	}
	l, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	l.Color = palette(i)
	l.Width = vg.Points(1)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	}
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
	return nil
}

// addPoints adds markers of colour i to p.
func addPoints(p *plot.Plot, xy plotter.XYs, i int, name string) error {
	if len(xy) == 0 {
		return nil
	}
	s, err := plotter.NewScatter(xy)
	if err != nil {
		return err
	}
	s.Color = palette(i)
	s.Shape = draw.CircleGlyph{}
	s.Radius = vg.Points(2.5)
	p.Add(s)
	if name != "" {
		p.Legend.Add(name, s)
	}
	return nil
}

// vline adds a vertical dashed line at x over [ylo, yhi], with a legend
// entry.
func vline(p *plot.Plot, x, ylo, yhi float64, name string) error {
	l, err := plotter.NewLine(plotter.XYs{{X: x, Y: ylo}, {X: x, Y: yhi}})
	if err != nil {
		return err
	}
	l.Color = palette(3)
	l.Width = vg.Points(1.2)
	l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
	return nil
}

// yRange returns the range of the y values of xys.
func yRange(xys ...plotter.XYs) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, xy := range xys {
		for _, p := range xy {
			lo, hi = math.Min(lo, p.Y), math.Max(hi, p.Y)
		}
	}
	if lo > hi {
		return 0, 1
	}
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	return lo, hi
}

// panel sets a panel's title and axis labels, a grid, and a legend in the
// top right corner.
func panel(p *plot.Plot, title, x, y string) {
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = false
	p.X.Tick.Marker = shortTicks{}
	p.Y.Tick.Marker = shortTicks{}
}

// shortTicks are gonum's default ticks with labels in the shortest form,
// "250" rather than "250.00".
type shortTicks struct{}

func (shortTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i, t := range ticks {
		if t.Label != "" {
			ticks[i].Label = strconv.FormatFloat(t.Value, 'g', 6, 64)
		}
	}
	return ticks
}

// legendRoom raises the top of a panel's y axis so that a legend of n
// entries in the top corner sits above the data in [lo, hi].
func legendRoom(p *plot.Plot, lo, hi float64, n int) {
	p.Y.Min = lo
	p.Y.Max = hi + (hi-lo)*(0.08+0.07*float64(n))
}

var nan = math.NaN()
