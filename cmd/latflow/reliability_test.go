package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"latflow/ensemble"
	"latflow/flow"
)

// reliabilityJSON is the part of the --json report the tests of
// reliability read.
type reliabilityJSON struct {
	Acceptance  float64 `json:"acceptance"`
	Unreliable  string  `json:"unreliable"`
	Observables []struct {
		Name     string   `json:"name"`
		Sigma    *float64 `json:"deviation_sigma"`
		Reliable *bool    `json:"reliable"`
	} `json:"observables"`
	Notes []string `json:"notes"`
}

// runReliability runs latflow with args and --json, and decodes the report.
func runReliability(t *testing.T, args ...string) reliabilityJSON {
	t.Helper()
	code, out, errs := runCLI(t, append(args, "--json")...)
	if code != exitOK {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	var r reliabilityJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: bad JSON %q: %v", args, out, err)
	}
	if len(r.Observables) == 0 {
		t.Fatalf("%v: no observables in %q", args, out)
	}
	return r
}

// TestHMCAnticorrelatedKeepsTable: strongly anticorrelated data (here
// exp(-dH) of a free-like phi^4 run) keep the table, with a note, where the
// run exited 1 with "... not positive" and lost it (issue 19, A.6).
func TestHMCAnticorrelatedKeepsTable(t *testing.T) {
	args := []string{"hmc", "--theory", "phi4", "-L", "8", "-n", "50", "--therm", "30", "--lambda", "0.02", "--kappa", "0"}
	code, out, errs := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d, want 0 with the table: %s", code, lastLine(errs))
	}
	for _, want := range []string{"<exp(-dH)>", "note: <exp(-dH)>: anticorrelated data"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout does not contain %q:\n%s", want, out)
		}
	}
}

// TestSampleTransferredModel: the shipped U(1) model (beta 3, L=16, on the
// plaquette base) sampled at beta 6 uses its base at beta 6, and accepts
// most proposals; with the base left at beta 3 it accepted 9 of 20000 at
// L=32 and 0.0005 at L=16 (issue 19, A.1a).
func TestSampleTransferredModel(t *testing.T) {
	r := runReliability(t, "sample", "--beta", "6", "--L", "16", "--n", "400", "--seed", "1")
	if r.Acceptance < 0.9 {
		t.Errorf("acceptance at beta 6: got %v, want above 0.9 (the plaquette proposal's 0.98)", r.Acceptance)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "with its plaquette base at beta=6 (trained on beta=3)") {
		t.Errorf("notes %q do not say the base is at beta=6", r.Notes)
	}
	if r.Unreliable != "" {
		t.Errorf("got unreliable %q, want a reliable table", r.Unreliable)
	}
}

// TestSampleUnreliable: chains that moved fewer than 100 times, or stood
// still for more than 1% of their proposals, mark every row unreliable,
// whatever tau_int is estimated (issue 19, A.1b); a flow whose log weights
// overflow (log Z 1.8e288 +- Inf) has no deviation shown, and its JSON is
// written (issue 19, A.2: "json: unsupported value: +Inf").
func TestSampleUnreliable(t *testing.T) {
	stuck := filepath.Join(t.TempDir(), "stuck.flow")
	writeModel(t, stuck, flow.Config{Theory: "u1", L: 8, Layers: 2, Mixtures: 2, Hidden: []int{4}, Kernel: 3,
		Base: flow.BasePlaquettes, BaseBeta: 1e300, BaseMode: flow.BaseModeSpread}, ensemble.NewU1(8, 3))
	for _, c := range []struct {
		name       string
		args       []string
		unreliable string // a substring of the reason; "" for a reliable table
	}{
		{"plaquettes 3000", []string{"--proposal", "plaquettes", "--n", "3000"}, ""},
		{"plaquettes 50", []string{"--proposal", "plaquettes", "--n", "50"}, "moved 50 times in 50 steps (fewer than 100)"},
		{"stuck flow", []string{"--model", stuck, "--n", "200"}, "stood still for"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"sample", "--L", "8", "--seed", "1"}, c.args...)
			r := runReliability(t, args...)
			if !strings.Contains(r.Unreliable, c.unreliable) || (c.unreliable == "") != (r.Unreliable == "") {
				t.Errorf("unreliable: got %q, want %q", r.Unreliable, c.unreliable)
			}
			for _, o := range r.Observables {
				if o.Reliable == nil || *o.Reliable != (c.unreliable == "") {
					t.Errorf("%s: reliable %v, want %v", o.Name, o.Reliable, c.unreliable == "")
				}
				if c.unreliable != "" && o.Sigma != nil {
					t.Errorf("%s: deviation_sigma %v in an unreliable table", o.Name, *o.Sigma)
				}
			}
			// analyze of the dataset judges it as sample did.
			dir := filepath.Join(t.TempDir(), "ds")
			if code, _, errs := runCLI(t, append(args, "--out", dir)...); code != exitOK {
				t.Fatalf("--out: exit %d: %s", code, errs)
			}
			if a := runReliability(t, "analyze", dir); a.Unreliable != r.Unreliable {
				t.Errorf("analyze: unreliable %q, sample %q", a.Unreliable, r.Unreliable)
			}
			code, out, errs := runCLI(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			table := strings.SplitN(strings.SplitN(out, "\n\n", 2)[1], "\n\n", 2)[0]
			for _, l := range strings.Split(table, "\n")[1:] {
				// "unreliable" in the dev/sigma column (cost/ms follows it).
				if marked := strings.Contains(l+" ", " unreliable "); marked != (c.unreliable != "") {
					t.Errorf("row %q: marked unreliable %v, want %v", l, marked, c.unreliable != "")
				}
			}
			if c.name == "stuck flow" {
				if !strings.Contains(out, "log Z") || strings.Contains(out, "+0.00 sigma") || !strings.Contains(out, "note: log Z: the estimate") {
					t.Errorf("log Z that is not finite shown as a deviation, or without a note:\n%s", out)
				}
			}
		})
	}
}
