package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// runCLI runs latflow in-process and returns exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runContext(context.Background(), append([]string{"latflow"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestBadFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		flag string // the flag the message must name
	}{
		{"L below 4", []string{"hmc", "--L", "2"}, "--L"},
		{"u1 L not multiple of 4", []string{"hmc", "--theory", "u1", "--L", "6"}, "--L"},
		{"phi4 L odd", []string{"hmc", "--theory", "phi4", "--L", "7"}, "--L"},
		{"beta zero", []string{"hmc", "--beta", "0"}, "--beta"},
		{"beta negative", []string{"hmc", "--beta", "-1"}, "--beta"},
		{"n zero", []string{"hmc", "--n", "0"}, "--n"},
		{"n one", []string{"hmc", "--n", "1"}, "--n"},
		{"sample n one", []string{"sample", "--n", "1"}, "--n"},
		{"n negative", []string{"hmc", "--n", "-5"}, "--n"},
		{"unknown theory", []string{"hmc", "--theory", "su3"}, "--theory"},
		{"phi4 mixed parametrizations", []string{"hmc", "--theory", "phi4", "--kappa", "0.3", "--m2", "-4", "--lambda", "0.02"}, "--kappa"},
		{"phi4 kappa without lambda", []string{"hmc", "--theory", "phi4", "--kappa", "0.3"}, "--lambda"},
		{"phi4 with beta", []string{"hmc", "--theory", "phi4", "--beta", "2"}, "--beta"},
		{"u1 with m2", []string{"hmc", "--theory", "u1", "--m2", "1"}, "--m2"},
		{"negative lambda", []string{"hmc", "--theory", "phi4", "--lambda", "-1"}, "--lambda"},
		{"tau zero", []string{"hmc", "--tau", "0"}, "--tau"},
		{"tau not a number", []string{"hmc", "--tau", "long"}, "--tau"},
		{"tau auto with md-steps", []string{"hmc", "--tau", "auto", "--md-steps", "5"}, "--md-steps"},
		{"tau auto short therm", []string{"hmc", "--tau", "auto", "--therm", "100"}, "--therm"},
		{"tau auto in sample", []string{"sample", "--hmc-every", "2", "--tau", "auto"}, "--tau"},
		{"therm negative", []string{"hmc", "--therm", "-1"}, "--therm"},
		{"chains too many", []string{"hmc", "--chains", "2000"}, "--chains"},
		{"md-steps zero", []string{"hmc", "--md-steps", "0"}, "--md-steps"},
		{"chains zero", []string{"hmc", "--chains", "0"}, "--chains"},
		{"exact beta zero", []string{"exact", "--beta", "0"}, "--beta"},
		{"exact L zero", []string{"exact", "--L", "0"}, "--L"},
		{"not a number", []string{"hmc", "--L", "abc"}, "L"},
		{"unknown flag", []string{"hmc", "--bogus", "1"}, "bogus"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != exitUsage {
				t.Errorf("exit code: got %d, want %d (stderr %q)", code, exitUsage, errs)
			}
			if !strings.Contains(errs, tc.flag) {
				t.Errorf("stderr %q does not name %s", errs, tc.flag)
			}
			if out != "" && !strings.Contains(tc.name, "flag") && !strings.Contains(tc.name, "number") {
				t.Errorf("stdout not empty on bad input: %q", out)
			}
			if n := strings.Count(strings.TrimSpace(lastLine(errs)), "\n"); n != 0 {
				t.Errorf("error message spans lines: %q", errs)
			}
		})
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}

func TestExactCommand(t *testing.T) {
	code, out, errs := runCLI(t, "exact", "--beta", "3.0", "--L", "16", "--json")
	if code != exitOK {
		t.Fatalf("exit code %d, stderr %q", code, errs)
	}
	var r exactReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	// physics.md section 1, L=16, beta=3.
	const tol = 5e-7
	if r.Q2 == nil || r.ChiT == nil {
		t.Fatalf("got no <Q^2> or chi_t in %q", out)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"plaquette", r.MeanCos, 0.8099853},
		{"q2", *r.Q2, 2.831565},
		{"chi_t", *r.ChiT, 0.01106080},
		{"logZ", r.LogZHaar, 405.838751},
		{"action", r.MeanAction, -622.0687},
	} {
		if rel := (c.got - c.want) / c.want; rel > tol || rel < -tol {
			t.Errorf("%s: got %.9g, want %.9g", c.name, c.got, c.want)
		}
	}
	code, out, _ = runCLI(t, "exact", "--beta", "2", "--L", "8")
	if code != exitOK || !strings.Contains(out, "0.69777") {
		t.Errorf("text output for L=8 beta=2 lacks <cos P> = 0.69777: %q", out)
	}
}

func TestHMCCommandSmall(t *testing.T) {
	for _, args := range [][]string{
		{"hmc", "--theory", "u1", "--L", "4", "--beta", "1", "--n", "200", "--therm", "20", "--json"},
		{"hmc", "--theory", "phi4", "--L", "4", "--m2", "1", "--lambda", "0", "--n", "200", "--therm", "20", "--chains", "2", "--json"},
		{"hmc", "--theory", "phi4", "--L", "4", "--kappa", "0.2", "--lambda", "0.02", "--n", "100", "--therm", "10", "--json"},
	} {
		t.Run(strings.Join(args[1:5], " "), func(t *testing.T) {
			code, out, errs := runCLI(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			var r jsonReport
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("bad JSON %q: %v", out, err)
			}
			if r.Acceptance <= 0.3 || r.Acceptance > 1 {
				t.Errorf("acceptance: got %g, want in (0.3, 1]", r.Acceptance)
			}
			if len(r.Observables) < 4 {
				t.Errorf("got %d observables, want at least 4", len(r.Observables))
			}
			checkCost(t, "hmc", r)
		})
	}
	// The same seed gives the same table.
	a1, o1, _ := runCLI(t, "hmc", "--L", "4", "--n", "50", "--therm", "5", "--seed", "7", "--json")
	a2, o2, _ := runCLI(t, "hmc", "--L", "4", "--n", "50", "--therm", "5", "--seed", "7", "--json")
	strip := func(s string) string { // drop the timing line
		var lines []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.Contains(l, "seconds_per_step") && !strings.Contains(l, "cost_seconds") {
				lines = append(lines, l)
			}
		}
		return strings.Join(lines, "\n")
	}
	if a1 != 0 || a2 != 0 || strip(o1) != strip(o2) {
		t.Errorf("same seed, different output:\n%s\n%s", o1, o2)
	}
}

// TestHMCDefaultTauAuto: hmc chooses its trajectory length by default and
// says so; with a --therm too short for the search it runs tau=1 and says
// why.
func TestHMCDefaultTauAuto(t *testing.T) {
	args := []string{"hmc", "--theory", "phi4", "--L", "4", "--kappa", "0.27", "--lambda", "0.022", "--n", "100", "--json"}
	code, out, errs := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	if !strings.Contains(r.Sampler, "tau=auto, chose ") || !strings.Contains(strings.Join(r.Notes, "\n"), "tau auto chose") {
		t.Errorf("default: sampler %q, notes %q; want the length chosen by tau auto", r.Sampler, r.Notes)
	}
	code, out, errs = runCLI(t, append(args, "--therm", "100")...)
	if code != exitOK {
		t.Fatalf("--therm 100: exit %d, stderr %q", code, errs)
	}
	r = jsonReport{}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	if !strings.Contains(r.Sampler, "tau=1,") || !strings.Contains(strings.Join(r.Notes, "\n"), "--therm 100 is below") {
		t.Errorf("--therm 100: sampler %q, notes %q; want tau=1 and a note why", r.Sampler, r.Notes)
	}
}
