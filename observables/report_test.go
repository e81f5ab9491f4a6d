package observables

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"latflow/ensemble"
)

// TestReportCost: the cost of every observable, in the text table and as
// cost_seconds in the JSON, is 2 tau_int x the seconds per step; without a
// time per step there is no cost.
func TestReportCost(t *testing.T) {
	rows := []Row{
		{Name: "chi_2", Est: Estimate{Mean: 170, Err: 3, TauInt: 1.9, TauIntErr: 0.2, Window: 12, N: 20000}},
		{Name: "U_4", Est: Estimate{Mean: 0.53, Err: 0.005, TauInt: 7.25, TauIntErr: 0.5, Window: 40, N: 20000}},
		{Name: "white", Est: Estimate{Mean: 1, Err: 0.01, TauInt: 0.5, Window: 1, N: 20000}},
	}
	const sec = 9.1e-5
	rep := Report{Target: ensemble.NewPhi4Hopping(16, 0.27, 0.022), Sampler: "hmc", Chains: 1, Measurements: 20000,
		SecondsPer: sec, PerWhat: "trajectory", Rows: rows}
	var b strings.Builder
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Observables []struct {
			Name   string   `json:"name"`
			TauInt float64  `json:"tau_int"`
			Cost   *float64 `json:"cost_seconds"`
		} `json:"observables"`
	}
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Observables) != len(rows) {
		t.Fatalf("JSON: got %d observables, want %d", len(got.Observables), len(rows))
	}
	for i, o := range got.Observables {
		want := 2 * rows[i].Est.TauInt * sec
		if o.Cost == nil || *o.Cost != want || *o.Cost != 2*o.TauInt*sec {
			t.Errorf("JSON %s: cost_seconds %v, want 2 x tau_int %g x %g s = %g", o.Name, o.Cost, rows[i].Est.TauInt, sec, want)
		}
	}

	b.Reset()
	if err := rep.Write(&b); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		want := fmt.Sprintf("%.3g", 2*r.Est.TauInt*sec*1e3)
		if !hasRowEnding(b.String(), r.Name, want) {
			t.Errorf("text: the row of %s does not end in its cost %s ms:\n%s", r.Name, want, b.String())
		}
	}

	rep.SecondsPer = 0
	b.Reset()
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "cost_seconds") {
		t.Errorf("JSON without a time per step has a cost:\n%s", b.String())
	}
	b.Reset()
	if err := rep.Write(&b); err != nil {
		t.Fatal(err)
	}
	if !hasRowEnding(b.String(), "chi_2", "-") {
		t.Errorf("text without a time per step: chi_2's cost is not \"-\":\n%s", b.String())
	}
}

// hasRowEnding reports whether text has a line that starts with name and
// ends with the field last.
func hasRowEnding(text, name, last string) bool {
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && f[0] == name && f[len(f)-1] == last {
			return true
		}
	}
	return false
}
