package plots

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"latflow/dataset"
	"latflow/observables"
)

// Autocorr draws what the Gamma method sees of one observable (a name
// observables.NamedSeries knows) after dropping the first therm rows of
// each chain: the normalized autocorrelation function rho(t) over the
// replicas, and tau_int(W) summed up to each window W with its error band,
// both with the window W the analysis chose; the title gives tau_int(W) as
// in latflow's table. lags <= 0 draws observables.DefaultLags of the window.
// It returns the analysis drawn.
func Autocorr(ds *dataset.Dataset, name string, therm, lags int) (*Figure, observables.Autocorrelation, error) {
	s, _, err := series(ds, therm)
	if err != nil {
		return nil, observables.Autocorrelation{}, err
	}
	t := target(ds)
	data, err := observables.NamedSeries(t.Theory, s, name)
	if err != nil {
		return nil, observables.Autocorrelation{}, err
	}
	a, err := observables.AutocorrelationOf(data, lags)
	note := ""
	switch {
	case err == nil:
	case a.Rho != nil: // no window found: drawn at W_max, as the table
		note = "; no window found within half the chain length"
	default:
		return nil, a, fmt.Errorf("plots: %s: %w", name, err)
	}
	if a.Anticorrelated {
		note = "; anticorrelated: W = 0, as in the table"
	}
	est := a.Estimate
	f := newFigure(2, 1, 8*vg.Inch, 7*vg.Inch)
	rho, tau := f.Panels[0][0], f.Panels[1][0]
	panel(rho, fmt.Sprintf("normalized autocorrelation of %s (%s, %d chains, N = %d)", name, t, len(data), est.N), "lag t", "rho(t) = Gamma(t)/Gamma(0)")
	panel(tau, fmt.Sprintf("tau_int(W) of %s: %s at W = %d%s", name, observables.FormatMeanErr(est.TauInt, est.TauIntErr), est.Window, note), "window W", "tau_int(W)")

	ts := make([]float64, len(a.Rho))
	for i := range ts {
		ts[i] = float64(i)
	}
	rxy := finiteXYs(ts, a.Rho)
	if err := addLine(rho, rxy, 0, "rho(t)", false); err != nil {
		return nil, a, err
	}
	if err := addPoints(rho, rxy, 0, ""); err != nil {
		return nil, a, err
	}
	zero, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: ts[len(ts)-1], Y: 0}})
	if err != nil {
		return nil, a, err
	}
	zero.Color = color.Gray{Y: 100}
	rho.Add(zero)
	lo, hi := yRange(rxy)
	if err := vline(rho, float64(est.Window), lo, hi, fmt.Sprintf("window W = %d", est.Window)); err != nil {
		return nil, a, err
	}
	legendRoom(rho, lo, hi, 2)

	up := make([]float64, len(ts))
	down := make([]float64, len(ts))
	for i := range ts {
		up[i], down[i] = a.TauInt[i]+a.TauIntErr[i], a.TauInt[i]-a.TauIntErr[i]
	}
	txy := finiteXYs(ts, a.TauInt)
	band := append(finiteXYs(ts, up), reverse(finiteXYs(ts, down))...)
	poly, err := plotter.NewPolygon(band)
	if err != nil {
		return nil, a, err
	}
	poly.Color = color.NRGBA{R: 31, G: 119, B: 180, A: 60}
	poly.LineStyle.Width = 0
	tau.Add(poly)
	tau.Legend.Add("error of tau_int(W)", poly)
	if err := addLine(tau, txy, 0, "tau_int(W)", false); err != nil {
		return nil, a, err
	}
	lo, hi = yRange(finiteXYs(ts, up), finiteXYs(ts, down))
	if err := vline(tau, float64(est.Window), lo, hi, fmt.Sprintf("window W = %d", est.Window)); err != nil {
		return nil, a, err
	}
	if err := addPoints(tau, plotter.XYs{{X: float64(est.Window), Y: est.TauInt}}, 3, "tau_int of the table"); err != nil {
		return nil, a, err
	}
	legendRoom(tau, lo, hi, 4)
	return f, a, nil
}

func reverse(xy plotter.XYs) plotter.XYs {
	out := make(plotter.XYs, len(xy))
	for i, p := range xy {
		out[len(xy)-1-i] = p
	}
	return out
}
