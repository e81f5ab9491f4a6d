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
	// proposals, from its provenance, the models it started from (train
	// --init) included; 0 if none or unknown.
	TrainingSeconds float64
	// IMH is the summary of independence-Metropolis proposals, if any.
	IMH *IMHSummary
	// Notes qualify the table (errors that are not error bars, missing
	// exact values, a model trained for another target).
	Notes []string
	// Unreliable, if not empty, says why no row of the table is reliable
	// (see Stuck): every row is marked so, in the text and the JSON, and
	// no deviation from an exact value is shown.
	Unreliable string
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

// Notes returns what the reader of s must know: that log Z or its error
// is not finite, or that its error is not reliable when the weights have
// fewer than MinEffectiveSamples effective samples.
func (s IMHSummary) Notes() []string {
	if lz := s.LogZ; !finite(lz.Value) || !finite(lz.Error) {
		return []string{fmt.Sprintf("log Z: the estimate %g +- %g is not finite (the log weights of the proposals overflow); it is no estimate and has no deviation from the exact value", lz.Value, lz.Error)}
	}
	if eff := s.ESS * float64(s.Proposals); eff < MinEffectiveSamples {
		return []string{fmt.Sprintf("log Z: the importance weights are worth %.3g of %d proposals (ESS/N %.2g); its error is not reliable below %d effective samples", eff, s.Proposals, s.ESS, MinEffectiveSamples)}
	}
	return nil
}

// Deviation returns (Value - Exact) / Error, or NaN without an exact value,
// with a zero error, or where the value or the error is not finite.
func (l LogZEstimate) Deviation() float64 {
	if l.Exact == nil || !finite(l.Value) || !finite(l.Error) || l.Error == 0 {
		return math.NaN()
	}
	return (l.Value - *l.Exact) / l.Error
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// jsonNumber is a float64 written as a JSON number, or as null where it is
// not finite (JSON has no NaN or infinity).
type jsonNumber float64

// MarshalJSON writes v as encoding/json writes a float64, or null.
func (v jsonNumber) MarshalJSON() ([]byte, error) {
	if !finite(float64(v)) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(v))
}

// jsonRow is one observable in the JSON output; absent values are omitted
// (JSON has no NaN).
// Non-finite values are null; deviation_sigma is left out of a row that is
// not reliable.
type jsonRow struct {
	Name      string     `json:"name"`
	Mean      jsonNumber `json:"mean"`
	Error     jsonNumber `json:"error"`
	TauInt    jsonNumber `json:"tau_int"`
	TauIntErr jsonNumber `json:"tau_int_error"`
	Window    int        `json:"window"`
	N         int        `json:"n"`
	Exact     *float64   `json:"exact,omitempty"`
	Sigma     *float64   `json:"deviation_sigma,omitempty"`
	Reliable  bool       `json:"reliable"`
	Cost      *float64   `json:"cost_seconds,omitempty"`
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
	Acceptance      jsonNumber         `json:"acceptance"`
	SecondsPer      jsonNumber         `json:"seconds_per_step,omitempty"`
	TrainingSeconds jsonNumber         `json:"training_seconds,omitempty"`
	Observables     []jsonRow          `json:"observables"`
	Unreliable      string             `json:"unreliable,omitempty"`
	*jsonIMH
	Notes []string `json:"notes,omitempty"`
}

// jsonIMH is IMHSummary in the JSON report, beside its acceptance.
type jsonIMH struct {
	Proposals           int64      `json:"proposals"`
	LongestRejectionRun int        `json:"longest_rejection_run"`
	ESS                 jsonNumber `json:"ess"`
	LogZ                struct {
		Value jsonNumber `json:"value"`
		Error jsonNumber `json:"error"`
		Exact *float64   `json:"exact,omitempty"`
	} `json:"log_z"`
}

func finitePtr(v float64) *float64 {
	if !finite(v) {
		return nil
	}
	return &v
}

// rows returns the rows of r with their Cost from SecondsPer, each marked
// unreliable if r is.
func (r Report) rows() []Row {
	rows := slices.Clone(r.Rows)
	for i := range rows {
		rows[i].Cost = CostSeconds(rows[i].Est, r.SecondsPer)
		rows[i].Unreliable = rows[i].Unreliable || r.Unreliable != ""
	}
	return rows
}

// notes returns the notes of r, first the reason why its rows are
// unreliable, if they are.
func (r Report) notes() []string {
	if r.Unreliable == "" {
		return r.Notes
	}
	return append([]string{fmt.Sprintf("every row is unreliable: %s; no error is an error bar, so no deviation from an exact value is shown", r.Unreliable)}, r.Notes...)
}

// WriteJSON writes r as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	t := r.Target
	jr := jsonReport{
		Description: t.String(), Theory: t.Theory, L: t.L, Couplings: t.Couplings,
		Parametrization: t.Parametrization, Sampler: r.Sampler, Chains: r.Chains,
		Measurements: r.Measurements, Acceptance: jsonNumber(r.Acceptance), SecondsPer: jsonNumber(r.SecondsPer),
		TrainingSeconds: jsonNumber(r.TrainingSeconds), Unreliable: r.Unreliable, Notes: r.notes(),
	}
	if s := r.IMH; s != nil {
		jr.jsonIMH = &jsonIMH{Proposals: s.Proposals, LongestRejectionRun: s.LongestRejectionRun, ESS: jsonNumber(s.ESS)}
		jr.LogZ.Value, jr.LogZ.Error, jr.LogZ.Exact = jsonNumber(s.LogZ.Value), jsonNumber(s.LogZ.Error), s.LogZ.Exact
	}
	for _, row := range r.rows() {
		e := row.Est
		jrow := jsonRow{Name: row.Name, Mean: jsonNumber(e.Mean), Error: jsonNumber(e.Err), TauInt: jsonNumber(e.TauInt),
			TauIntErr: jsonNumber(e.TauIntErr), Window: e.Window, N: e.N, Reliable: !row.Unreliable}
		if row.HasExact {
			jrow.Exact = finitePtr(row.Exact)
			if !row.Unreliable {
				jrow.Sigma = finitePtr(row.Sigma())
			}
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
	if err := WriteTable(w, r.rows()); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nacceptance            %.4f\n", r.Acceptance)
	if s := r.IMH; s != nil {
		fmt.Fprintf(w, "proposals             %d, longest run of rejections %d\n", s.Proposals, s.LongestRejectionRun)
		fmt.Fprintf(w, "ESS/N of proposals    %.4f\n", s.ESS)
		lz := s.LogZ
		fmt.Fprintf(w, "log Z                 %s", FormatMeanErr(lz.Value, lz.Error))
		if dev := lz.Deviation(); lz.Exact != nil && !math.IsNaN(dev) {
			fmt.Fprintf(w, "  (exact %.8g, %+.2f sigma)", *lz.Exact, dev)
		} else if lz.Exact != nil {
			fmt.Fprintf(w, "  (exact %.8g)", *lz.Exact)
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
		fmt.Fprintf(w, "flow training time    %.0f s (the model's provenance, incl. the models it started from)\n", r.TrainingSeconds)
	}
	for _, n := range r.notes() {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}
