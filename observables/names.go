package observables

import (
	"fmt"
	"slices"
	"strings"

	"latflow/ensemble"
)

// SeriesNames returns the names NamedSeries knows for a theory, as the
// table names its primary observables: for U(1) action, plaquette, Q and
// Q^2, for the Schwinger model these and condensate, for phi^4 action, m, |m|, m^2 and phi^2.
func SeriesNames(theory string) []string {
	switch theory {
	case ensemble.U1:
		return []string{"action", "plaquette", "Q", "Q^2"}
	case ensemble.Schwinger:
		return []string{"action", "plaquette", "Q", "Q^2", "condensate"}
	}
	return []string{"action", "m", "|m|", "m^2", "phi^2"}
}

// NamedSeries returns the replicas of the observable called name in s: one
// of SeriesNames (the table's names), or the name of a column of s. The
// error lists the names there are.
func NamedSeries(theory string, s Series, name string) ([][]float64, error) {
	col := func(c string) [][]float64 { return s.Obs[c] }
	var data [][]float64
	switch {
	case name == "action":
		data = s.Action
	case gaugeTheory(theory) && name == "plaquette":
		data = col(ColPlaquette)
	case gaugeTheory(theory) && name == "Q":
		data = col(ColCharge)
	case gaugeTheory(theory) && name == "Q^2":
		if q := col(ColCharge); q != nil {
			data = squares(q)
		}
	case theory == ensemble.Phi4 && name == "m":
		data = col(ColM)
	case theory == ensemble.Phi4 && name == "|m|":
		data = col(ColAbsM)
	case theory == ensemble.Phi4 && name == "m^2":
		if m := col(ColM); m != nil {
			data = squares(m)
		}
	case theory == ensemble.Phi4 && name == "phi^2":
		data = col(ColPhi2)
	default:
		data = col(name)
	}
	if data == nil {
		names := SeriesNames(theory)
		for c := range s.Obs {
			if !slices.Contains(names, c) {
				names = append(names, c)
			}
		}
		slices.Sort(names[len(SeriesNames(theory)):])
		return nil, fmt.Errorf("observables: no observable %q; there are %s", name, strings.Join(names, ", "))
	}
	return data, nil
}

// gaugeTheory reports whether a theory's configurations are U(1) links.
func gaugeTheory(theory string) bool {
	return theory == ensemble.U1 || theory == ensemble.Schwinger
}
