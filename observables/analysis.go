package observables

import (
	"errors"
	"fmt"
	"math"

	"latflow/ensemble"
	"latflow/gauge"
	"latflow/lattice"
)

// Column names of the per-configuration measurements, as in datasets.
const (
	ColPlaquette = "plaquette"
	ColCharge    = "topological_charge"
	ColM         = "magnetization"
	ColAbsM      = "abs_magnetization"
	ColPhi2      = "phi_sq"
	// ColDeltaH is the energy violation dH of an HMC trajectory; NaN on the
	// rows of other updates.
	ColDeltaH = "delta_h"
)

// Columns returns the names of the per-configuration measurements of a
// target besides the action, in the order MeasureTo writes them: for U(1)
// the mean plaquette and Q, for phi^4 m, |m| and the site mean of phi^2,
// for the Schwinger model the plaquette, Q, the chiral condensate and the
// folded pion correlator (C(t) + C(L-t))/2 for t = 0 .. L/2 (PionColumn).
func Columns(t ensemble.Target) []string {
	switch t.Theory {
	case ensemble.U1:
		return []string{ColPlaquette, ColCharge}
	case ensemble.Schwinger:
		return schwingerColumns(t.L)
	}
	return []string{ColM, ColAbsM, ColPhi2}
}

// Measurer measures the configurations of one target. It is a value; for
// U(1) and phi^4 it is safe for concurrent use, for the Schwinger model it
// holds the fermion workspace and serves one goroutine (make one per
// chain).
type Measurer struct {
	theory string
	L      int
	geom   *lattice.Geometry
	act    lattice.Action
	beta   float64
	ferm   *schwingerMeasure
}

// NewMeasurer returns the Measurer of a valid target.
func NewMeasurer(t ensemble.Target) Measurer {
	g := t.Geometry()
	m := Measurer{theory: t.Theory, L: t.L, geom: g, beta: t.Couplings[ensemble.Beta]}
	if t.Theory == ensemble.Schwinger {
		m.ferm = newSchwingerMeasure(g, t.Couplings[ensemble.Kappa])
	} else {
		m.act = t.Action(g)
	}
	return m
}

// Columns returns the names of the values MeasureTo writes.
func (m Measurer) Columns() []string {
	return Columns(ensemble.Target{Theory: m.theory, L: m.L})
}

// MeasureTo writes the measurements of the configuration x into dst (one
// per column) and returns the action S(x); for the Schwinger model the
// action is the gauge action S_g (the fermion determinant is not computed
// beyond fermion.MaxDenseL, and the table's action is that of the gauge
// field, as for U(1)).
func (m Measurer) MeasureTo(dst, x []float64) (action float64) {
	if m.theory == ensemble.U1 || m.theory == ensemble.Schwinger {
		u := MeasureU1(m.geom, m.beta, x)
		dst[0], dst[1] = u.Plaquette, u.Q
		if m.ferm != nil {
			m.ferm.measureTo(dst[2:], x)
		}
		return u.Action
	}
	p := MeasurePhi4(x)
	dst[0], dst[1], dst[2] = p.M, p.AbsM, p.Phi2
	return m.act.Action(x)
}

// Series holds the measured time series of an ensemble: Action[r] and
// Obs[column][r] are those of replica (chain) r.
type Series struct {
	Action [][]float64
	Obs    map[string][][]float64
}

// MinTauLengths is the least length of the data, in integrated
// autocorrelation times, for which Table treats a Gamma-method error as an
// error bar. Shorter data see too few independent fluctuations for the
// window, and tau_int itself, to be trusted: an independence Metropolis
// chain stuck at acceptance 0.0006 gave 20000 measurements of tau_int 1550
// and a plaquette 88 of its sigma from the exact value.
const MinTauLengths = 100

// Table returns the Gamma-method table of the standard observables of the
// target t from the series s, with exact values where they are known: the
// character expansion of the torus for U(1) (section "exact results" of
// package gauge), the free field for phi^4 at lambda = 0.
//
// Estimates whose error is not an error bar are kept, and a note says why:
// a series that never changes (frozen topology gives Q = -3(0)), a
// Gamma window that reaches its limit of half the chain length, or data
// shorter than MinTauLengths integrated autocorrelation times. Where an
// exact value cannot be computed (topology too frozen for the character
// expansion to resolve <Q^2>), the row has no exact value and a note says
// so. Table returns an error for a series it cannot analyse (too short, not
// finite) or a missing column.
func Table(t ensemble.Target, s Series) (rows []Row, notes []string, err error) {
	V := float64(t.V())
	checked := func(name string, data [][]float64, est Estimate, err error) (Estimate, error) {
		if errors.Is(err, ErrNoWindow) {
			notes = append(notes, fmt.Sprintf("%s: no autocorrelation window found within half the chain length (W=%d); the error is not reliable: run longer chains", name, est.Window))
			return est, nil
		}
		if err != nil {
			return est, fmt.Errorf("observables: analysis of %s: %w", name, err)
		}
		if est.Err == 0 && data != nil {
			notes = append(notes, fmt.Sprintf("%s: constant over all %d measurements; the error 0 is not an error bar (frozen: the sampler does not move this observable)", name, est.N))
		} else if float64(est.N) < MinTauLengths*est.TauInt {
			notes = append(notes, fmt.Sprintf("%s: %d measurements are only %.0f tau_int (%.3g); the error is not reliable below %d: run longer chains", name, est.N, float64(est.N)/est.TauInt, est.TauInt, MinTauLengths))
		}
		return est, nil
	}
	// estimate runs the analysis gamma with the default windowing and, on
	// data so anticorrelated that it fails, again with W = 0, noting it.
	estimate := func(name string, data [][]float64, gamma func(GammaOptions) (Estimate, error)) (Estimate, error) {
		est, err := gamma(GammaOptions{})
		if errors.Is(err, ErrAnticorrelated) {
			notes = append(notes, fmt.Sprintf("%s: anticorrelated data (the windowed autocorrelation sum is not positive); the error shown assumes none (W=0) and is an upper bound", name))
			est, err = gamma(GammaOptions{STau: -1})
		}
		return checked(name, data, est, err)
	}
	add := func(name string, data [][]float64, exact float64, hasExact bool) error {
		if data == nil {
			return fmt.Errorf("observables: no series for %s", name)
		}
		est, err := estimate(name, data, func(opt GammaOptions) (Estimate, error) { return GammaPrimary(data, opt) })
		if err != nil {
			return err
		}
		rows = append(rows, Row{Name: name, Est: est, Exact: exact, HasExact: hasExact && !math.IsNaN(exact)})
		return nil
	}
	switch t.Theory {
	case ensemble.U1, ensemble.Schwinger:
		var ex gauge.Exact
		var exErr error
		var hasExact bool
		if t.Theory == ensemble.U1 {
			ex, exErr = gauge.ExactTorus(t.Couplings[ensemble.Beta], t.L)
			hasExact = exErr == nil || errors.Is(exErr, gauge.ErrTopologyFrozen)
		}
		switch {
		case t.Theory == ensemble.Schwinger:
		case exErr == nil:
		case hasExact:
			notes = append(notes, "exact <Q^2> and chi_t: not computable (topology too frozen for the character expansion to resolve them)")
		default:
			notes = append(notes, fmt.Sprintf("exact values: not computable (%v)", exErr))
		}
		q := s.Obs[ColCharge]
		if err := add("action", s.Action, ex.MeanAction, hasExact); err != nil {
			return nil, nil, err
		}
		if err := add("plaquette <cos P>", s.Obs[ColPlaquette], ex.MeanCos, hasExact); err != nil {
			return nil, nil, err
		}
		if err := add("Q", q, 0, true); err != nil {
			return nil, nil, err
		}
		if err := add("Q^2", squares(q), ex.Q2, hasExact); err != nil {
			return nil, nil, err
		}
		chi, err := estimate("chi_t", nil, func(opt GammaOptions) (Estimate, error) { return susceptibility(q, t.V(), opt) })
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, Row{Name: "chi_t = <Q^2>/V", Est: chi, Exact: ex.ChiT, HasExact: hasExact && !math.IsNaN(ex.ChiT)})
		if t.Theory == ensemble.Schwinger {
			if err := add("condensate -Tr D^-1/V", s.Obs[ColCondensate], 0, false); err != nil {
				return nil, nil, err
			}
			row, ok, note, err := pionMassRow(t.L, s, estimate)
			if err != nil {
				return nil, nil, err
			}
			if ok {
				rows = append(rows, row)
			} else {
				notes = append(notes, note)
			}
		}
	case ensemble.Phi4:
		free, hasExact := freeField(t)
		m := s.Obs[ColM]
		if err := add("action", s.Action, 0, false); err != nil {
			return nil, nil, err
		}
		for _, e := range []struct {
			name  string
			data  [][]float64
			exact float64
		}{
			{"m", m, 0},
			{"|m|", s.Obs[ColAbsM], math.NaN()},
			{"m^2", squares(m), free.M2},
			{"phi^2", s.Obs[ColPhi2], free.Phi2},
		} {
			if err := add(e.name, e.data, e.exact, hasExact); err != nil {
				return nil, nil, err
			}
		}
		chi2, err := estimate("chi_2", nil, func(opt GammaOptions) (Estimate, error) { return chi2Phi4(m, int(V), opt) })
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, Row{Name: "chi_2 = V <m^2>", Est: chi2, Exact: free.Chi2, HasExact: hasExact})
		binder, err := estimate("U_4", nil, func(opt GammaOptions) (Estimate, error) { return binder(m, opt) })
		if err != nil {
			return nil, nil, err
		}
		// For a free field m is Gaussian and U_4 = 0 exactly.
		rows = append(rows, Row{Name: "U_4 (Binder)", Est: binder, Exact: 0, HasExact: hasExact})
	default:
		return nil, nil, fmt.Errorf("observables: unknown theory %q", t.Theory)
	}
	if dH, ok := s.Obs[ColDeltaH]; ok {
		// For any reversible, area-preserving integrator <exp(-dH)> = 1.
		if reps := expDeltaH(dH); reps != nil {
			if err := add("<exp(-dH)>", reps, 1, true); err != nil {
				return nil, nil, err
			}
		}
	}
	return rows, notes, nil
}

// expDeltaH returns the replicas of exp(-dH) over the HMC trajectories
// (the non-NaN values of dH), whose mean is a check of the integrator and
// of the force, or nil if a replica has fewer than two trajectories.
func expDeltaH(dH [][]float64) [][]float64 {
	reps := make([][]float64, 0, len(dH))
	for _, d := range dH {
		var r []float64
		for _, v := range d {
			if !math.IsNaN(v) {
				r = append(r, math.Exp(-v))
			}
		}
		if len(r) < 2 {
			return nil
		}
		reps = append(reps, r)
	}
	return reps
}

// freeField returns the exact free-field values of a phi^4 target with
// lambda = 0, and whether there are any.
func freeField(t ensemble.Target) (lattice.FreeField, bool) {
	if t.Couplings[ensemble.Lambda] != 0 {
		return lattice.FreeField{}, false
	}
	act, ok := t.Action(t.Geometry()).(lattice.Phi4Action)
	if !ok {
		return lattice.FreeField{}, false
	}
	f, err := lattice.ExactFreeField(act)
	return f, err == nil
}
