package observables_test

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"latflow/ensemble"
	"latflow/observables"
)

// TestStuck: the guard of a chain that hardly moves looks at the moves
// only, not at an estimated autocorrelation time.
func TestStuck(t *testing.T) {
	chain := func(n int, rejected func(i int) bool) []bool {
		c := make([]bool, n)
		for i := range c {
			c[i] = !rejected(i)
		}
		return c
	}
	for _, c := range []struct {
		name  string
		moved [][]bool
		want  string // "" for a chain that moved enough
	}{
		{"always moves", [][]bool{chain(20000, func(int) bool { return false })}, ""},
		{"runs of 3 in 400", [][]bool{chain(400, func(i int) bool { return i%4 != 0 })}, ""},
		{"99 moves", [][]bool{chain(99, func(int) bool { return false })}, "moved 99 times in 99 steps (fewer than 100)"},
		{"100 moves in two chains", [][]bool{chain(50, func(int) bool { return false }), chain(50, func(int) bool { return false })}, ""},
		{"9 of 20000", [][]bool{chain(20000, func(i int) bool { return i%2000 != 0 || i < 2000 })}, "moved 9 times in 20000 steps (fewer than 100), and one stood still for 2000 of its 20000 steps"},
		{"run of 201 in 20000", [][]bool{chain(20000, func(i int) bool { return i >= 1000 && i <= 1200 })}, "a chain stood still for 201 of its 20000 steps in a row (more than 1%)"},
		{"run of 200 in 20000", [][]bool{chain(20000, func(i int) bool { return i >= 1000 && i < 1200 })}, ""},
		{"one stuck chain of two", [][]bool{chain(1000, func(int) bool { return false }), chain(1000, func(i int) bool { return i > 500 })}, "stood still for 499 of its 1000 steps"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := observables.Stuck(c.moved)
			if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// reportWith returns a U(1) report of one row with an exact value.
func reportWith(est observables.Estimate, logZ observables.LogZEstimate) observables.Report {
	return observables.Report{
		Target: ensemble.NewU1(8, 3), Sampler: "test", Chains: 1, Measurements: 200, Acceptance: 0.05,
		Rows: []observables.Row{{Name: "plaquette", Est: est, Exact: 0.81, HasExact: true}},
		IMH:  &observables.IMHSummary{Proposals: 200, ESS: 1, LogZ: logZ},
	}
}

// writeBoth returns the text and the decoded JSON of r.
func writeBoth(t *testing.T, r observables.Report) (string, map[string]any) {
	t.Helper()
	var text, js bytes.Buffer
	if err := r.Write(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(js.Bytes(), &m); err != nil {
		t.Fatalf("bad JSON %s: %v", js.String(), err)
	}
	return text.String(), m
}

// TestReportNonFinite: estimates that are not finite (a flow whose log
// weights overflow gave log Z 1.8e288 +- Inf) are never shown as a
// deviation ("+0.00 sigma"), and the JSON, which has no infinity, is still
// written, with null for them.
func TestReportNonFinite(t *testing.T) {
	exact := 336.7
	for _, c := range []struct {
		name string
		est  observables.Estimate
		logZ observables.LogZEstimate
	}{
		{"log Z error Inf", observables.Estimate{Mean: 0.8, Err: 0.01}, observables.LogZEstimate{Value: 1.8e288, Error: math.Inf(1), Exact: &exact}},
		{"log Z NaN", observables.Estimate{Mean: 0.8, Err: 0.01}, observables.LogZEstimate{Value: math.NaN(), Error: 1, Exact: &exact}},
		{"mean Inf", observables.Estimate{Mean: math.Inf(1), Err: 1}, observables.LogZEstimate{Value: 336.7, Error: math.Inf(1), Exact: &exact}},
		{"error Inf", observables.Estimate{Mean: 1.4e14, Err: math.Inf(1)}, observables.LogZEstimate{Value: math.Inf(-1), Error: math.NaN(), Exact: &exact}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := reportWith(c.est, c.logZ)
			r.Notes = r.IMH.Notes()
			text, js := writeBoth(t, r)
			if strings.Contains(text, "sigma)") {
				t.Errorf("log Z shown with a deviation:\n%s", text)
			}
			if !strings.Contains(text, "note: log Z: the estimate") {
				t.Errorf("no note on the log Z that is not finite:\n%s", text)
			}
			rowFinite := !math.IsInf(c.est.Mean, 0) && !math.IsInf(c.est.Err, 0)
			for _, l := range strings.Split(text, "\n") {
				if strings.HasPrefix(l, "plaquette ") && !rowFinite && !strings.HasSuffix(l, " -") {
					t.Errorf("row not finite shown with a deviation: %q", l)
				}
			}
			row := js["observables"].([]any)[0].(map[string]any)
			if _, ok := row["deviation_sigma"]; ok && !rowFinite {
				t.Errorf("JSON row %v has a deviation", row)
			}
			lz := js["log_z"].(map[string]any)
			for _, k := range []string{"value", "error"} {
				if v, ok := lz[k].(float64); ok && (math.IsInf(v, 0) || math.IsNaN(v)) {
					t.Errorf("JSON log_z %s = %v", k, v)
				}
			}
		})
	}
}

// TestReportUnreliable: a report of chains that hardly moved marks every
// row unreliable, in the text (no deviation shown) and in the JSON
// ("reliable": false, no deviation_sigma), and says why first.
func TestReportUnreliable(t *testing.T) {
	exact := 336.7
	r := reportWith(observables.Estimate{Mean: 0.8414, Err: 0.00021, TauInt: 133, N: 20000}, observables.LogZEstimate{Value: 336.6, Error: 0.1, Exact: &exact})
	r.Rows = append(r.Rows, observables.Row{Name: "Q", Est: observables.Estimate{Mean: 0, Err: 0, N: 20000}})
	text, js := writeBoth(t, r)
	if !strings.Contains(text, "+149.52") {
		t.Fatalf("the reliable report shows no deviation +149.52:\n%s", text)
	}
	for _, row := range js["observables"].([]any) {
		if row.(map[string]any)["reliable"] != true {
			t.Errorf("reliable report: JSON row %v not reliable", row)
		}
	}
	r.Unreliable = "the chains moved 9 times in 20000 steps (fewer than 100)"
	text, js = writeBoth(t, r)
	if strings.Contains(text, "+149.52") {
		t.Errorf("unreliable report shows the deviation +149.52:\n%s", text)
	}
	for _, name := range []string{"plaquette ", "Q "} {
		found := false
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, name) {
				found = true
				// In the dev/sigma column, which cost/ms follows.
				if !strings.Contains(l+" ", " unreliable ") {
					t.Errorf("row %q not marked unreliable", l)
				}
			}
		}
		if !found {
			t.Errorf("no row %q in\n%s", name, text)
		}
	}
	if !strings.Contains(text, "note: every row is unreliable: the chains moved 9 times") {
		t.Errorf("no note saying why:\n%s", text)
	}
	for _, row := range js["observables"].([]any) {
		m := row.(map[string]any)
		if m["reliable"] != false {
			t.Errorf("JSON row %v: want \"reliable\": false", m)
		}
		if _, ok := m["deviation_sigma"]; ok {
			t.Errorf("JSON row %v: want no deviation_sigma", m)
		}
	}
	if js["unreliable"] != r.Unreliable {
		t.Errorf("JSON unreliable: got %v, want %q", js["unreliable"], r.Unreliable)
	}
}

// TestFrozenTopology: a gauge charge that never moved in at least MinMoves
// measurements makes the table unreliable; one change of Q, fewer
// measurements, phi^4, or a pure U(1) beta where the exact weight leaves no
// other sector resolvable do not.
func TestFrozenTopology(t *testing.T) {
	series := func(chains ...[]float64) observables.Series {
		return observables.Series{Obs: map[string][][]float64{observables.ColCharge: chains}}
	}
	flat := func(n int, q float64) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = q
		}
		return x
	}
	schw := ensemble.NewSchwinger(16, 8, 0.255)
	moved := flat(300, 0)
	moved[150] = 1
	cases := []struct {
		name   string
		t      ensemble.Target
		s      observables.Series
		frozen bool
	}{
		{"schwinger frozen, two chains", schw, series(flat(200, 0), flat(200, 0)), true},
		{"schwinger frozen at Q = -1", schw, series(flat(200, -1)), true},
		{"two chains in different sectors", schw, series(flat(200, 0), flat(200, 1)), false},
		{"one change of Q", schw, series(moved), false},
		{"too few measurements", schw, series(flat(observables.MinMoves-1, 0)), false},
		{"u1 with topology", ensemble.NewU1(8, 2), series(flat(200, 0)), true},
		{"u1 beyond the exact sectors", ensemble.NewU1(4, 1e4), series(flat(200, 0)), false},
		{"phi4", ensemble.NewPhi4Standard(8, -1, 0.5), series(flat(200, 0)), false},
	}
	for _, c := range cases {
		got := observables.FrozenTopology(c.t, c.s)
		if (got != "") != c.frozen {
			t.Errorf("%s: FrozenTopology = %q, want frozen %v", c.name, got, c.frozen)
		}
		if c.frozen && !strings.Contains(got, "frozen topology") {
			t.Errorf("%s: reason %q does not say frozen topology", c.name, got)
		}
	}
	if got := observables.Unreliable("", "a", "", "b"); got != "a; b" {
		t.Errorf("Unreliable: got %q, want %q", got, "a; b")
	}
}
