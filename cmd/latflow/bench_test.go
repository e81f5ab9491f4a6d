package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBench checks that latflow bench times the six estimators: six table
// rows, and six JSON entries with positive times and consistent ratios.
func TestBench(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--theory", "phi4", "--L", "4", "--layers", "2", "--hidden", "4", "--batch", "4", "--repeat", "2"},
		{"bench", "--theory", "u1", "--L", "4", "--layers", "2", "--mixtures", "2", "--hidden", "4", "--batch", "4", "--repeat", "1"},
	} {
		t.Run(args[2], func(t *testing.T) {
			code, out, errs := runCLI(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			rows := 0
			for _, line := range strings.Split(out, "\n") {
				f := strings.Fields(line)
				if len(f) >= 4 && (f[0] == "reverse" || f[0] == "forward") {
					rows++
				}
			}
			if rows != 6 {
				t.Errorf("got %d estimator rows, want 6:\n%s", rows, out)
			}

			code, out, errs = runCLI(t, append(args, "--json")...)
			if code != exitOK {
				t.Fatalf("--json: exit %d: %s", code, errs)
			}
			var r benchReport
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("bad JSON %q: %v", out, err)
			}
			if len(r.Rows) != 6 {
				t.Fatalf("got %d estimators, want 6", len(r.Rows))
			}
			seen := map[string]bool{}
			for i, row := range r.Rows {
				seen[row.Objective+" "+row.Gradient] = true
				if !(row.Median > 0) || len(row.Seconds) != r.Repeat {
					t.Errorf("%s %s: median %g from %d timings, want > 0 from %d", row.Objective, row.Gradient, row.Median, len(row.Seconds), r.Repeat)
				}
				std := r.Rows[i-i%3].Median
				if got, want := row.VsStandard, row.Median/std; got != want {
					t.Errorf("%s %s: ratio to standard got %g, want %g", row.Objective, row.Gradient, got, want)
				}
				if (row.Gradient == "fast-path") != (row.DropInOverFast > 0) {
					t.Errorf("%s %s: drop-in/fast ratio %g, want one on the fast-path rows only", row.Objective, row.Gradient, row.DropInOverFast)
				}
			}
			if len(seen) != 6 {
				t.Errorf("got estimators %v, want six different ones", seen)
			}
		})
	}
	code, _, errs := runCLI(t, "bench", "--theory", "phi4", "--L", "4", "--repeat", "0")
	if code != exitUsage || !strings.Contains(errs, "--repeat") {
		t.Errorf("--repeat 0: exit %d, stderr %q, want %d naming --repeat", code, errs, exitUsage)
	}
}
