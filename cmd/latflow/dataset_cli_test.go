package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childLatflow returns a command running latflow in a child process.
func childLatflow(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "LATFLOW_BE_MAIN=1")
	return cmd
}

// waitForParts waits until dir holds at least n complete parts.
func waitForParts(t *testing.T, dir string, n int, limit time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		parts, _ := filepath.Glob(filepath.Join(dir, "part-*.arrow"))
		if len(parts) >= n {
			return parts
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %d parts in %s after %v", n, dir, limit)
	return nil
}

// TestAnalyzeHMCExact checks the whole path HMC -> Arrow dataset -> analyze
// against the exact U(1) values at L=8, beta=2 (physics.md section 1).
func TestAnalyzeHMCExact(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ds")
	code, _, errs := runCLI(t, "hmc", "--theory", "u1", "--L", "8", "--beta", "2", "--n", "6000", "--therm", "200",
		"--chains", "2", "--seed", "1", "--out", dir, "--save-every", "100", "--part-rows", "1500")
	if code != exitOK {
		t.Fatalf("hmc: exit %d: %s", code, errs)
	}
	code, out, errs := runCLI(t, "analyze", dir, "--therm", "100", "--json")
	if code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, errs)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	if r.Chains != 2 || r.Measurements != 2*(6000-100) {
		t.Errorf("got %d chains and %d measurements, want 2 and %d", r.Chains, r.Measurements, 2*5900)
	}
	const k = 3 // sigma
	checked := 0
	for _, o := range r.Observables {
		if o.Sigma == nil {
			continue
		}
		checked++
		if *o.Sigma > k || *o.Sigma < -k {
			t.Errorf("%s: got %g +- %g, exact %g: %.2f sigma", o.Name, o.Mean, o.Error, *o.Exact, *o.Sigma)
		}
	}
	if checked < 4 {
		t.Errorf("only %d observables had exact values, want at least 4", checked)
	}
	checkCost(t, "analyze", r)
}

// TestAnalyzeOldDatasetNoCost: a dataset written before the parts recorded
// their time per step is analysed without a cost ("-" in the table), and a
// note says why.
func TestAnalyzeOldDatasetNoCost(t *testing.T) {
	dir := filepath.Join("..", "..", "dataset", "testdata", "format1", "u1")
	code, out, errs := runCLI(t, "analyze", dir)
	if code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, errs)
	}
	lines := strings.Split(out, "\n")
	header := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "observable") {
			header = i
		}
	}
	if header < 0 || !strings.HasSuffix(strings.TrimSpace(lines[header]), "cost/ms") {
		t.Fatalf("no table with a cost/ms column:\n%s", out)
	}
	for _, l := range lines[header+1:] {
		if strings.TrimSpace(l) == "" {
			break
		}
		if f := strings.Fields(l); f[len(f)-1] != "-" {
			t.Errorf("row %q: cost %q, want \"-\"", l, f[len(f)-1])
		}
	}
	if !strings.Contains(out, "does not record the time per step") {
		t.Errorf("no note on the missing cost:\n%s", out)
	}
}

// TestKilledRunLeavesCompleteParts kills a running latflow hmc with SIGKILL
// and checks that only complete parts remain and that analyze reads them.
func TestKilledRunLeavesCompleteParts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ds")
	cmd := childLatflow(t, "hmc", "--L", "8", "--beta", "2", "--n", "10000000", "--therm", "10",
		"--out", dir, "--save-every", "5", "--part-rows", "200")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForParts(t, dir, 3, 60*time.Second)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	parts := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "part-") {
			parts++
			if !strings.HasSuffix(e.Name(), ".arrow") {
				t.Errorf("unexpected file %s", e.Name())
			}
		}
	}
	code, out, errs := runCLI(t, "analyze", dir, "--json")
	if code != exitOK {
		t.Fatalf("analyze after SIGKILL: exit %d: %s", code, errs)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Measurements != int64(200*parts) {
		t.Errorf("got %d rows from %d parts, want %d (only complete parts)", r.Measurements, parts, 200*parts)
	}
}

// TestInterruptedRun sends SIGINT: the open part is finished, the run exits
// with code 3 and says how many steps were saved, and analyze reads it all.
func TestInterruptedRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ds")
	trace := filepath.Join(t.TempDir(), "trace.json")
	cmd := childLatflow(t, "hmc", "--L", "8", "--beta", "2", "--n", "10000000", "--therm", "10",
		"--out", dir, "--part-rows", "300", "--trace-file", trace)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForParts(t, dir, 2, 60*time.Second)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: got %v, want code %d; stderr %q", err, exitInterrupted, stderr.String())
	}
	msg := lastLine(stderr.String())
	if !strings.Contains(msg, "interrupted") || !strings.Contains(msg, "steps saved") {
		t.Errorf("message %q does not say how many steps were saved", msg)
	}
	code, out, errs := runCLI(t, "analyze", dir, "--json")
	if code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, errs)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if want := "; " + itoa(r.Measurements) + " steps saved"; !strings.Contains(msg, want) {
		t.Errorf("message %q, want it to contain %q (rows analyze found)", msg, want)
	}
	// Spans were flushed on the signal path.
	names := spanNames(t, trace)
	for _, want := range []string{"run", "thermalization", "production", "part"} {
		if !names[want] {
			t.Errorf("trace file lacks a %q span after SIGINT (have %v)", want, names)
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// spanNames reads a trace file and returns the span names.
func spanNames(t *testing.T, path string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, s := range traceSpans(t, path) {
		names[s.GetName()] = true
	}
	return names
}

func TestTraceFileSpans(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ds")
	trace := filepath.Join(t.TempDir(), "trace.json")
	code, _, errs := runCLI(t, "hmc", "--L", "4", "--n", "500", "--therm", "20", "--out", dir, "--part-rows", "200", "--trace-file", trace)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	data, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	names := spanNames(t, trace)
	for _, want := range []string{"run", "thermalization", "production", "part"} {
		if !names[want] {
			t.Errorf("no %q span in %s", want, trace)
		}
	}
	for _, attr := range []string{"latflow.theory", "latflow.L", "latflow.beta", "latflow.acceptance", "latflow.rows"} {
		if !bytes.Contains(data, []byte(`"`+attr+`"`)) {
			t.Errorf("trace lacks attribute %s", attr)
		}
	}
	if n := bytes.Count(data, []byte(`"name":"part"`)); n != 3 {
		t.Errorf("got %d part spans, want 3 (500 rows in parts of 200)", n)
	}
}

func TestAnalyzeBadInput(t *testing.T) {
	tmp := t.TempDir()
	empty := filepath.Join(tmp, "empty")
	garbage := filepath.Join(tmp, "garbage")
	for _, d := range []string{empty, garbage} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(garbage, "part-c0000-00000.arrow"), []byte("not arrow at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	b2, b3 := filepath.Join(tmp, "b2"), filepath.Join(tmp, "b3")
	for _, a := range [][]string{
		{"hmc", "--L", "4", "--beta", "2", "--n", "20", "--therm", "0", "--out", b2},
		{"hmc", "--L", "4", "--beta", "3", "--n", "20", "--therm", "0", "--out", b3},
	} {
		if code, _, errs := runCLI(t, a...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", a, code, errs)
		}
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no directory", []string{"analyze"}, "DIR"},
		{"missing directory", []string{"analyze", filepath.Join(tmp, "nope")}, "nope"},
		{"no parts", []string{"analyze", empty}, "no part"},
		{"not Arrow", []string{"analyze", garbage}, "part-c0000-00000.arrow"},
		{"different couplings", []string{"analyze", b2, b3}, "beta"},
		{"therm too large", []string{"analyze", "--therm", "50", b2}, "--therm"},
		{"therm negative", []string{"analyze", "--therm", "-1", b2}, "--therm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code == exitOK {
				t.Fatalf("exit 0, want non-zero; stdout %q", out)
			}
			if strings.Count(strings.TrimRight(errs, "\n"), "\n") != 0 {
				t.Errorf("error spans several lines: %q", errs)
			}
			if !strings.Contains(errs, tc.want) {
				t.Errorf("stderr %q does not mention %q", errs, tc.want)
			}
		})
	}
}

func TestHMCOutputBadInput(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ds := filepath.Join(tmp, "ds")
	if code, _, errs := runCLI(t, "hmc", "--L", "4", "--n", "10", "--therm", "0", "--out", ds); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	before, _ := filepath.Glob(filepath.Join(ds, "*"))
	for _, tc := range []struct {
		name string
		args []string
		flag string
	}{
		{"save-every negative", []string{"hmc", "--out", filepath.Join(tmp, "x"), "--save-every", "-1"}, "--save-every"},
		{"save-every without out", []string{"hmc", "--save-every", "10"}, "--save-every"},
		{"out is a file", []string{"hmc", "--out", file}, "--out"},
		{"out exists", []string{"hmc", "--L", "4", "--out", ds}, "--out"},
		{"part-rows zero", []string{"hmc", "--out", filepath.Join(tmp, "y"), "--part-rows", "0"}, "--part-rows"},
		{"trace file in missing dir", []string{"hmc", "--L", "4", "--n", "5", "--trace-file", filepath.Join(tmp, "no", "t.json")}, "--trace-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI(t, tc.args...)
			if code != exitUsage {
				t.Errorf("exit: got %d, want %d (%q)", code, exitUsage, errs)
			}
			if !strings.Contains(errs, tc.flag) {
				t.Errorf("stderr %q does not name %s", errs, tc.flag)
			}
		})
	}
	after, _ := filepath.Glob(filepath.Join(ds, "*"))
	if len(after) != len(before) {
		t.Errorf("existing dataset changed: %v -> %v", before, after)
	}
}
