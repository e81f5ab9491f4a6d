package main

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"latflow/gauge"
	"latflow/lattice"
	"latflow/observables"
)

// theory is what a Markov chain needs to know about a lattice theory: its
// action, how to start a chain, and the per-configuration measurements
// that become the columns of a dataset.
type theory struct {
	name string
	geom *lattice.Geometry
	act  lattice.Action
	// size is the number of real numbers in a configuration; configName is
	// its dataset column ("links" or "phi").
	size       int
	configName string
	// observables are the names of the measured columns besides the action.
	observables []string
	// couplings and parametrization describe the run in output and metadata.
	couplings       map[string]float64
	parametrization string
	// measure writes the observables of x into dst and returns the action.
	measure func(dst, x []float64) float64
	// start writes a starting configuration.
	start func(x []float64, rng *rand.Rand)
}

// Dataset column names of the per-configuration observables.
const (
	colPlaquette = "plaquette"
	colCharge    = "topological_charge"
	colM         = "magnetization"
	colAbsM      = "abs_magnetization"
	colPhi2      = "phi_sq"
)

func newU1Theory(L int, beta float64) *theory {
	g := lattice.NewGeometry(L)
	act := gauge.WilsonAction{Geom: g, Beta: beta}
	return &theory{
		name: theoryU1, geom: g, act: act,
		size: 2 * g.V, configName: "links",
		observables:     newTheoryColumns(theoryU1),
		couplings:       map[string]float64{"beta": beta},
		parametrization: "wilson",
		measure: func(dst, x []float64) float64 {
			m := observables.MeasureU1(g, beta, x)
			dst[0], dst[1] = m.Plaquette, m.Q
			return m.Action
		},
		start: func(x []float64, rng *rand.Rand) { gauge.RandomLinksTo(x, rng) },
	}
}

func newPhi4Theory(act lattice.Phi4Action) *theory {
	g := act.Geom
	t := &theory{
		name: theoryPhi4, geom: g, act: act,
		size: g.V, configName: "phi",
		observables:     newTheoryColumns(theoryPhi4),
		parametrization: act.Param.String(),
		measure: func(dst, x []float64) float64 {
			m := observables.MeasurePhi4(x)
			dst[0], dst[1], dst[2] = m.M, m.AbsM, m.Phi2
			return act.Action(x)
		},
		start: func(x []float64, rng *rand.Rand) {
			for i := range x {
				x[i] = rng.NormFloat64()
			}
		},
	}
	if act.Param == lattice.Hopping {
		t.couplings = map[string]float64{"kappa": act.Kappa, "lambda": act.Lambda}
	} else {
		t.couplings = map[string]float64{"m2": act.M2, "lambda": act.Lambda}
	}
	return t
}

// describe is a one-line description of the theory and its couplings.
func (t *theory) describe() string {
	return describeTheory(t.name, t.geom.L, t.couplings, t.parametrization)
}

func describeTheory(name string, L int, couplings map[string]float64, parametrization string) string {
	switch name {
	case theoryU1:
		return fmt.Sprintf("U(1) gauge theory, Wilson action, L=%d, beta=%g", L, couplings["beta"])
	default:
		if parametrization == lattice.Hopping.String() {
			return fmt.Sprintf("phi^4 theory (hopping parametrization), L=%d, kappa=%g, lambda=%g", L, couplings["kappa"], couplings["lambda"])
		}
		return fmt.Sprintf("phi^4 theory (standard parametrization), L=%d, m2=%g, lambda=%g", L, couplings["m2"], couplings["lambda"])
	}
}

// newTheoryColumns returns the observable columns latflow writes for a theory.
func newTheoryColumns(name string) []string {
	if name == theoryU1 {
		return []string{colPlaquette, colCharge}
	}
	return []string{colM, colAbsM, colPhi2}
}

// series holds the measured time series of a run: action[r] and obs[name][r]
// for replica (chain) r.
type series struct {
	action [][]float64
	obs    map[string][][]float64
}

// analysisRows turns the series of a run into the table of estimates, with
// exact values where they are known: the character expansion for U(1), and
// the free field (lambda = 0) for phi^4.
//
// Where the automatic windowing finds no window (chains stuck in different
// vacua, or too short), the estimate is kept and a note says that its error
// is underestimated.
func analysisRows(theoryName string, L int, couplings map[string]float64, parametrization string, s series) (rows []observables.Row, notes []string, err error) {
	V := float64(L * L)
	checked := func(name string, est observables.Estimate, err error) (observables.Estimate, error) {
		if errors.Is(err, observables.ErrNoWindow) {
			notes = append(notes, fmt.Sprintf("%s: no autocorrelation window found within half the chain length (W=%d); the error is underestimated: run longer chains", name, est.Window))
			return est, nil
		}
		if err != nil {
			return est, fmt.Errorf("analysis of %s: %w", name, err)
		}
		return est, nil
	}
	add := func(name string, data [][]float64, exact float64, hasExact bool) error {
		est, err := observables.GammaPrimary(data, observables.GammaOptions{})
		if est, err = checked(name, est, err); err != nil {
			return err
		}
		rows = append(rows, observables.Row{Name: name, Est: est, Exact: exact, HasExact: hasExact})
		return nil
	}
	mapSeries := func(data [][]float64, f func(float64) float64) [][]float64 {
		out := make([][]float64, len(data))
		for r, d := range data {
			out[r] = make([]float64, len(d))
			for i, v := range d {
				out[r][i] = f(v)
			}
		}
		return out
	}
	switch theoryName {
	case theoryU1:
		ex, err := gauge.ExactTorus(couplings["beta"], L)
		if err != nil {
			return nil, nil, err
		}
		q := s.obs[colCharge]
		q2 := mapSeries(q, func(v float64) float64 { return v * v })
		chi := mapSeries(q, func(v float64) float64 { return v * v / V })
		for _, e := range []struct {
			name  string
			data  [][]float64
			exact float64
		}{
			{"action", s.action, ex.MeanAction},
			{"plaquette <cos P>", s.obs[colPlaquette], ex.MeanCos},
			{"Q", q, 0},
			{"Q^2", q2, ex.Q2},
			{"chi_t = <Q^2>/V", chi, ex.ChiT},
		} {
			if err := add(e.name, e.data, e.exact, true); err != nil {
				return nil, nil, err
			}
		}
	case theoryPhi4:
		var free lattice.FreeField
		hasExact := false
		if couplings["lambda"] == 0 {
			g := lattice.NewGeometry(L)
			var act lattice.Phi4Action
			if parametrization == lattice.Hopping.String() {
				act = lattice.NewPhi4Hopping(g, couplings["kappa"], 0)
			} else {
				act = lattice.NewPhi4Standard(g, couplings["m2"], 0)
			}
			if f, err := lattice.ExactFreeField(act); err == nil {
				free, hasExact = f, true
			}
		}
		m := s.obs[colM]
		m2 := mapSeries(m, func(v float64) float64 { return v * v })
		chi2 := mapSeries(m, func(v float64) float64 { return V * v * v })
		if err := add("action", s.action, 0, false); err != nil {
			return nil, nil, err
		}
		for _, e := range []struct {
			name  string
			data  [][]float64
			exact float64
		}{
			{"m", m, 0},
			{"|m|", s.obs[colAbsM], math.NaN()},
			{"m^2", m2, free.M2},
			{"phi^2", s.obs[colPhi2], free.Phi2},
			{"chi_2 = V <m^2>", chi2, free.Chi2},
		} {
			known := hasExact && !math.IsNaN(e.exact)
			if err := add(e.name, e.data, e.exact, known); err != nil {
				return nil, nil, err
			}
		}
		binder, err := observables.Binder(m)
		if binder, err = checked("U_4", binder, err); err != nil {
			return nil, nil, err
		}
		// For a free field m is Gaussian and U_4 = 0 exactly.
		rows = append(rows, observables.Row{Name: "U_4 (Binder)", Est: binder, Exact: 0, HasExact: hasExact})
	default:
		return nil, nil, fmt.Errorf("unknown theory %q", theoryName)
	}
	return rows, notes, nil
}
