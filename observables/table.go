package observables

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Row is one line of a results table: an observable's estimate and, if
// known, its exact value. Unreliable marks an estimate whose error is not
// an error bar (see Report.Unreliable).
type Row struct {
	Name       string
	Est        Estimate
	Exact      float64
	HasExact   bool
	Unreliable bool
	// Cost is the wall time of one independent sample of the observable,
	// 2 TauInt x the seconds per step (CostSeconds); 0 if unknown.
	Cost float64
}

// CostSeconds returns the cost of one independent sample of an observable
// with estimate e from a chain taking secondsPerStep per step:
// 2 e.TauInt x secondsPerStep, the wall time between independent
// measurements (tau_int is 1/2 for independent steps). It returns 0 if
// secondsPerStep is not positive.
func CostSeconds(e Estimate, secondsPerStep float64) float64 {
	if !(secondsPerStep > 0) {
		return 0
	}
	return 2 * e.TauInt * secondsPerStep
}

// Sigma returns the deviation from the exact value in units of the error,
// (Mean - Exact) / Err; it is NaN without an exact value, with a zero
// error, or where the mean, the error or the exact value is not finite (a
// mean of 1e14 with an infinite error is not 0 sigma from anything).
func (r Row) Sigma() float64 {
	if !r.HasExact || r.Est.Err == 0 || !finite(r.Est.Mean) || !finite(r.Est.Err) || !finite(r.Exact) {
		return math.NaN()
	}
	return (r.Est.Mean - r.Exact) / r.Est.Err
}

// String formats the estimate as its mean with the error in parentheses on
// the last two digits, like "0.80993(12)" (see FormatMeanErr).
func (e Estimate) String() string { return FormatMeanErr(e.Mean, e.Err) }

// FormatMeanErr formats mean with its error err in the concise notation
// "0.80993(12)": the error is rounded to two significant digits, which
// stand for the last two digits of the mean, so 1234.5 +- 156 reads
// "1230(160)". A zero error gives "0.666667(0)" with six significant
// digits; a non-finite mean or error is printed as is.
func FormatMeanErr(mean, err float64) string {
	switch {
	case math.IsNaN(mean) || math.IsInf(mean, 0):
		return fmt.Sprintf("%v", mean)
	case math.IsNaN(err) || math.IsInf(err, 0) || err < 0:
		return fmt.Sprintf("%.6g(%v)", mean, err)
	case err == 0:
		return fmt.Sprintf("%.6g(0)", mean)
	}
	// d is the number of decimals that shows two significant digits of err.
	d := 1 - int(math.Floor(math.Log10(err)))
	if math.Round(err*math.Pow(10, float64(d))) >= 100 {
		d-- // err rounds up to the next decade, as 0.000996 -> 0.0010
	}
	if d > 0 {
		e := math.Round(err * math.Pow(10, float64(d)))
		return fmt.Sprintf("%.*f(%.0f)", d, mean, e)
	}
	unit := math.Pow(10, float64(-d))
	return fmt.Sprintf("%.0f(%.0f)", math.Round(mean/unit)*unit, math.Round(err/unit)*unit)
}

// tableColumns is the number of columns written by WriteTable.
const tableColumns = 10

// WriteTable writes rows as an aligned text table with a header: the
// observable's name, its value as FormatMeanErr, then plain columns of the
// mean, the error, tau_int with its error, the window W, the exact value
// and the deviation (Mean - Exact) / Err, and the cost of an independent
// sample in milliseconds (Row.Cost); "-" marks a missing exact value,
// deviation or cost, and "unreliable" in the dev/sigma column a row marked
// so, whose deviation is not shown. It returns the first write error.
func WriteTable(w io.Writer, rows []Row) error {
	cells := make([][tableColumns]string, 0, len(rows)+1)
	cells = append(cells, [tableColumns]string{"observable", "value", "mean", "error", "tau_int", "+-", "W", "exact", "dev/sigma", "cost/ms"})
	for _, r := range rows {
		exact, dev, cost := "-", "-", "-"
		if r.Cost > 0 && !math.IsInf(r.Cost, 0) {
			cost = fmt.Sprintf("%.3g", 1e3*r.Cost)
		}
		if r.HasExact {
			exact = fmt.Sprintf("%.8g", r.Exact)
			if s := r.Sigma(); !math.IsNaN(s) {
				dev = fmt.Sprintf("%+.2f", s)
			}
		}
		if r.Unreliable {
			dev = "unreliable"
		}
		cells = append(cells, [tableColumns]string{
			r.Name,
			r.Est.String(),
			fmt.Sprintf("%.8g", r.Est.Mean),
			fmt.Sprintf("%.3g", r.Est.Err),
			fmt.Sprintf("%.3g", r.Est.TauInt),
			fmt.Sprintf("%.2g", r.Est.TauIntErr),
			fmt.Sprintf("%d", r.Est.Window),
			exact,
			dev,
			cost,
		})
	}
	var width [tableColumns]int
	for _, c := range cells {
		for j, s := range c {
			width[j] = max(width[j], len(s))
		}
	}
	var b strings.Builder
	for _, c := range cells {
		b.Reset()
		for j, s := range c {
			pad := strings.Repeat(" ", width[j]-len(s))
			if j == 0 {
				// Names are left-aligned, numbers right-aligned.
				b.WriteString(s + pad)
				continue
			}
			b.WriteString("  " + pad + s)
		}
		b.WriteByte('\n')
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}
