package plots

import (
	"fmt"
	"strconv"

	"latflow/dataset"
	"latflow/ensemble"
	"latflow/observables"
)

// series returns the measurements of the chains of ds after dropping the
// first therm rows of each, and the steps of the rows kept.
func series(ds *dataset.Dataset, therm int) (observables.Series, [][]int64, error) {
	if therm < 0 {
		panic(fmt.Sprintf("plots: negative therm %d", therm))
	}
	s := observables.Series{Obs: map[string][][]float64{}}
	var steps [][]int64
	if len(ds.Chains) == 0 {
		return s, nil, fmt.Errorf("plots: the dataset has no chains")
	}
	for _, ch := range ds.Chains {
		n := len(ch.Steps)
		if n <= therm {
			return s, nil, fmt.Errorf("plots: thermalization %d drops all %d rows of chain %d in %s", therm, n, ch.ID, ch.Dir)
		}
		s.Action = append(s.Action, ch.Action[therm:])
		for _, name := range ds.Observables {
			col, ok := ch.Obs[name]
			if !ok {
				return s, nil, fmt.Errorf("plots: chain %d in %s has no column %q", ch.ID, ch.Dir, name)
			}
			s.Obs[name] = append(s.Obs[name], col[therm:])
		}
		steps = append(steps, ch.Steps[therm:])
	}
	return s, steps, nil
}

// target returns the ensemble of a dataset.
func target(ds *dataset.Dataset) ensemble.Target {
	m := ds.Meta
	return ensemble.Target{Theory: m.Theory, L: m.L, Couplings: m.Couplings, Parametrization: m.Parametrization}
}

// chainLabel names a chain in a legend: its id, and its directory when the
// dataset has several.
func chainLabel(ds *dataset.Dataset, i int) string {
	ch := ds.Chains[i]
	label := "chain " + strconv.Itoa(ch.ID)
	for _, o := range ds.Chains {
		if o.Dir != ch.Dir {
			return ch.Dir + " " + label
		}
	}
	return label
}
