package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"latflow/observables"
)

// report is the result table of a run or an analysis, printed as text or JSON.
type report struct {
	Description     string
	Theory          string
	L               int
	Couplings       map[string]float64
	Parametrization string
	Sampler         string
	Chains          int
	Measurements    int64
	Acceptance      float64
	// SecondsPer is the wall time per trajectory of one chain; 0 if unknown.
	SecondsPer float64
	Rows       []observables.Row
	// Notes qualify the table (e.g. errors that are underestimated).
	Notes []string
}

// jsonRow is one observable in the JSON output; absent values are omitted
// (JSON has no NaN).
type jsonRow struct {
	Name      string   `json:"name"`
	Mean      float64  `json:"mean"`
	Error     float64  `json:"error"`
	TauInt    float64  `json:"tau_int"`
	TauIntErr float64  `json:"tau_int_error"`
	Window    int      `json:"window"`
	N         int      `json:"n"`
	Exact     *float64 `json:"exact,omitempty"`
	Sigma     *float64 `json:"deviation_sigma,omitempty"`
}

type jsonReport struct {
	Description     string             `json:"description"`
	Theory          string             `json:"theory"`
	L               int                `json:"L"`
	Couplings       map[string]float64 `json:"couplings"`
	Parametrization string             `json:"parametrization"`
	Sampler         string             `json:"sampler"`
	Chains          int                `json:"chains"`
	Measurements    int64              `json:"measurements"`
	Acceptance      float64            `json:"acceptance"`
	SecondsPer      float64            `json:"seconds_per_trajectory,omitempty"`
	Observables     []jsonRow          `json:"observables"`
	Notes           []string           `json:"notes,omitempty"`
}

func finitePtr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func (r report) write(w io.Writer, asJSON bool) error {
	if asJSON {
		jr := jsonReport{
			Description: r.Description, Theory: r.Theory, L: r.L, Couplings: r.Couplings,
			Parametrization: r.Parametrization, Sampler: r.Sampler, Chains: r.Chains,
			Measurements: r.Measurements, Acceptance: r.Acceptance, SecondsPer: r.SecondsPer,
			Notes: r.Notes,
		}
		for _, row := range r.Rows {
			e := row.Est
			jrow := jsonRow{Name: row.Name, Mean: e.Mean, Error: e.Err, TauInt: e.TauInt, TauIntErr: e.TauIntErr, Window: e.Window, N: e.N}
			if row.HasExact {
				jrow.Exact = finitePtr(row.Exact)
				jrow.Sigma = finitePtr(row.Sigma())
			}
			jr.Observables = append(jr.Observables, jrow)
		}
		return writeJSON(w, jr)
	}
	keys := make([]string, 0, len(r.Couplings))
	for k := range r.Couplings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var cs []string
	for _, k := range keys {
		cs = append(cs, fmt.Sprintf("%s=%g", k, r.Couplings[k]))
	}
	fmt.Fprintf(w, "%s\n", r.Description)
	fmt.Fprintf(w, "sampler %s, %d chain(s), %d measurements in all (%s)\n\n", r.Sampler, r.Chains, r.Measurements, strings.Join(cs, " "))
	if err := observables.WriteTable(w, r.Rows); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nacceptance            %.4f\n", r.Acceptance)
	if r.SecondsPer > 0 {
		fmt.Fprintf(w, "time per trajectory   %.3g ms\n", 1e3*r.SecondsPer)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

// writeJSON writes v to w as indented JSON, the --json output of every
// subcommand.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
