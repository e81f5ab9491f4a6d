package observables

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"

	"latflow/ensemble"
)

// Report is the result table of a run or an analysis of a dataset, printed
// as text (Write) or JSON (WriteJSON).
type Report struct {
	Target ensemble.Target
	// Sampler describes how the chains were made, e.g. "hmc (tau=1,
	// leapfrog steps 11, tuned)".
	Sampler string
	// Chains is the number of chains (replicas) and Measurements the rows
	// analysed in all.
	Chains       int
	Measurements int64
	// Acceptance is the acceptance rate of the chains' proposals (of the
	// flow proposals for IMH).
	Acceptance float64
	// SecondsPer is the wall time per step of one chain, with the unit it
	// is per ("trajectory", "proposal"); 0 if unknown.
	SecondsPer float64
	PerWhat    string
	// Rows are the observables; Write and WriteJSON fill in their Cost
	// from SecondsPer.
	Rows []Row
	// TrainingSeconds is the training wall time of the flow that made the
	// proposals, from its provenance; 0 if none or unknown.
	TrainingSeconds float64
	// IMH is the summary of independence-Metropolis proposals, if any.
	IMH *IMHSummary
	// Notes qualify the table (errors that are not error bars, missing
	// exact values, a model trained for another target).
	Notes []string
}

// IMHSummary describes the proposals of independence-Metropolis chains.
type IMHSummary struct {
	// Proposals is the number of proposals, Acceptance the fraction
	// accepted, and LongestRejectionRun the longest run of consecutive
	// rejections in any chain.
	Proposals           int64   `json:"proposals"`
	Acceptance          float64 `json:"acceptance"`
	LongestRejectionRun int     `json:"longest_rejection_run"`
	// ESS is ESS_q/N of the proposals' importance weights.
	ESS float64 `json:"ess"`
	// LogZ is the importance-sampling estimate of log Z.
	LogZ LogZEstimate `json:"log_z"`
}

// LogZEstimate is an estimate of log Z with its error and, where known, the
// exact value in the same convention (the flat measure on [0, 2pi) for
// U(1) link angles).
type LogZEstimate struct {
	Value float64  `json:"value"`
	Error float64  `json:"error"`
	Exact *float64 `json:"exact,omitempty"`
}

// logZBlocks is the number of jackknife blocks of the log Z error.
const logZBlocks = 50

// SummarizeIMH returns the summary of the flow proposals of chains:
// logw[r] are the log weights and accepted[r] the decisions of the
// proposals of chain r, in order. exact is the exact log Z (NaN if
// unknown).
func SummarizeIMH(logw [][]float64, accepted [][]bool, exact float64) (IMHSummary, error) {
	var all []float64
	var s IMHSummary
	var acc int64
	for r := range logw {
		all = append(all, logw[r]...)
		for _, a := range accepted[r] {
			if a {
				acc++
			}
		}
		s.LongestRejectionRun = max(s.LongestRejectionRun, LongestRun(accepted[r]))
	}
	s.Proposals = int64(len(all))
	if s.Proposals == 0 {
		return s, fmt.Errorf("observables: no proposals to summarize")
	}
	s.Acceptance = float64(acc) / float64(s.Proposals)
	s.ESS = ReverseESS(all)
	v, e, err := LogZ(all, min(logZBlocks, len(all)))
	if err != nil {
		return s, err
	}
	s.LogZ = LogZEstimate{Value: v, Error: e, Exact: finitePtr(exact)}
	return s, nil
}

// MinEffectiveSamples is the least number of effective samples, N ESS/N
// of the importance weights, for which the jackknife error of log Z is
// treated as an error bar. With fewer, the estimate is dominated by a
// handful of weights (an IMH chain at ESS/N 0.0001 gave log Z 114 of its
// errors from the exact value).
const MinEffectiveSamples = 100

// Notes returns what the reader of s must know: that the error of log Z
// is not reliable when the weights have fewer than MinEffectiveSamples
// effective samples.
func (s IMHSummary) Notes() []string {
	if eff := s.ESS * float64(s.Proposals); eff < MinEffectiveSamples {
		return []string{fmt.Sprintf("log Z: the importance weights are worth %.3g of %d proposals (ESS/N %.2g); its error is not reliable below %d effective samples", eff, s.Proposals, s.ESS, MinEffectiveSamples)}
	}
	return nil
}

// Deviation returns (Value - Exact) / Error, or NaN without an exact value.
func (l LogZEstimate) Deviation() float64 {
	if l.Exact == nil || l.Error == 0 {
		return math.NaN()
	}
	return (l.Value - *l.Exact) / l.Error
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
	Cost      *float64 `json:"cost_seconds,omitempty"`
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
	SecondsPer      float64            `json:"seconds_per_step,omitempty"`
	TrainingSeconds float64            `json:"training_seconds,omitempty"`
	Observables     []jsonRow          `json:"observables"`
	*IMHSummary
	Notes []string `json:"notes,omitempty"`
}

func finitePtr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// costRows returns the rows with their Cost from SecondsPer.
func (r Report) costRows() []Row {
	rows := slices.Clone(r.Rows)
	for i := range rows {
		rows[i].Cost = CostSeconds(rows[i].Est, r.SecondsPer)
	}
	return rows
}

// WriteJSON writes r as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	t := r.Target
	jr := jsonReport{
		Description: t.String(), Theory: t.Theory, L: t.L, Couplings: t.Couplings,
		Parametrization: t.Parametrization, Sampler: r.Sampler, Chains: r.Chains,
		Measurements: r.Measurements, Acceptance: r.Acceptance, SecondsPer: r.SecondsPer,
		TrainingSeconds: r.TrainingSeconds, IMHSummary: r.IMH, Notes: r.Notes,
	}
	for _, row := range r.costRows() {
		e := row.Est
		jrow := jsonRow{Name: row.Name, Mean: e.Mean, Error: e.Err, TauInt: e.TauInt, TauIntErr: e.TauIntErr, Window: e.Window, N: e.N}
		if row.HasExact {
			jrow.Exact = finitePtr(row.Exact)
			jrow.Sigma = finitePtr(row.Sigma())
		}
		if row.Cost > 0 {
			jrow.Cost = finitePtr(row.Cost)
		}
		jr.Observables = append(jr.Observables, jrow)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jr)
}

// Write writes r as text: the target, the sampler, the table, and the
// acceptance, timing, IMH summary and notes below it.
func (r Report) Write(w io.Writer) error {
	t := r.Target
	var cs []string
	for _, k := range slices.Sorted(maps.Keys(t.Couplings)) {
		cs = append(cs, fmt.Sprintf("%s=%g", k, t.Couplings[k]))
	}
	fmt.Fprintf(w, "%s\n", t)
	fmt.Fprintf(w, "sampler %s, %d chain(s), %d measurements in all (%s)\n\n", r.Sampler, r.Chains, r.Measurements, strings.Join(cs, " "))
	if err := WriteTable(w, r.costRows()); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nacceptance            %.4f\n", r.Acceptance)
	if s := r.IMH; s != nil {
		fmt.Fprintf(w, "proposals             %d, longest run of rejections %d\n", s.Proposals, s.LongestRejectionRun)
		fmt.Fprintf(w, "ESS/N of proposals    %.4f\n", s.ESS)
		lz := s.LogZ
		fmt.Fprintf(w, "log Z                 %s", FormatMeanErr(lz.Value, lz.Error))
		if lz.Exact != nil {
			fmt.Fprintf(w, "  (exact %.8g, %+.2f sigma)", *lz.Exact, lz.Deviation())
		}
		fmt.Fprintln(w)
	}
	if r.SecondsPer > 0 {
		per := r.PerWhat
		if per == "" {
			per = "step"
		}
		fmt.Fprintf(w, "time per %-12s %.3g ms (one chain); cost/ms = 2 tau_int x this, the time of one independent sample\n", per, 1e3*r.SecondsPer)
	}
	if r.TrainingSeconds > 0 {
		fmt.Fprintf(w, "flow training time    %.0f s (the model's provenance)\n", r.TrainingSeconds)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}
