package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"latflow/telemetry"
)

// traceSpans decodes a trace file, one OTLP/JSON ExportTraceServiceRequest
// per line, with protojson, and returns its spans.
func traceSpans(t *testing.T, path string) []*tracepb.Span {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	reqs, err := telemetry.ReadTraceFile(f)
	if err != nil {
		t.Fatalf("trace file %s: %v", path, err)
	}
	var spans []*tracepb.Span
	for _, req := range reqs {
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				spans = append(spans, ss.GetSpans()...)
			}
		}
	}
	return spans
}

// runSpan returns the one span named "run".
func runSpan(t *testing.T, spans []*tracepb.Span) *tracepb.Span {
	t.Helper()
	var run *tracepb.Span
	for _, s := range spans {
		if s.GetName() == "run" {
			if run != nil {
				t.Fatalf("two run spans")
			}
			run = s
		}
	}
	if run == nil {
		t.Fatalf("no run span among %d", len(spans))
	}
	return run
}

// spanAttrs returns the attributes of s as Go values: string, int64, float64.
func spanAttrs(s *tracepb.Span) map[string]any {
	m := map[string]any{}
	for _, kv := range s.GetAttributes() {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.GetKey()] = v.StringValue
		case *commonpb.AnyValue_DoubleValue:
			m[kv.GetKey()] = v.DoubleValue
		case *commonpb.AnyValue_IntValue:
			m[kv.GetKey()] = v.IntValue
		default:
			m[kv.GetKey()] = kv.GetValue().String()
		}
	}
	return m
}

// TestTraceFileRunTotals runs sample with the plaquette proposal (an
// independence Metropolis chain with a log Z) and checks that the run span
// carries the totals of the printed report: steps, acceptance, ESS and
// log Z, and that every span of the file hangs off the run span.
func TestTraceFileRunTotals(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	code, out, errs := runCLI(t, "sample", "--L", "4", "--beta", "2", "--proposal", "plaquettes", "--n", "300", "--therm", "10",
		"--chains", "2", "--json", "--trace-file", path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep jsonReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.LogZ == nil {
		t.Fatalf("got report %q (%v), want one with log Z", out, err)
	}
	spans := traceSpans(t, path)
	run := runSpan(t, spans)
	a := spanAttrs(run)
	if run.GetStatus().GetCode() != tracepb.Status_STATUS_CODE_UNSET {
		t.Errorf("run: got status %v, want unset", run.GetStatus())
	}
	for k, want := range map[string]any{
		"latflow.command": "sample", "latflow.theory": "u1", "latflow.L": int64(4), "latflow.beta": 2.0,
		"latflow.steps": rep.Measurements, "latflow.acceptance": rep.Acceptance,
		"latflow.ess": rep.ESS, "latflow.log_z": rep.LogZ.Value, "latflow.log_z_error": rep.LogZ.Error,
	} {
		if got := a[k]; got != want {
			t.Errorf("run: got %s = %v (%T), want %v (%T) as in the report", k, got, got, want, want)
		}
	}
	ids := map[string]string{} // span id -> name
	for _, s := range spans {
		ids[string(s.GetSpanId())] = s.GetName()
	}
	for _, s := range spans {
		if s == run {
			continue
		}
		if !bytes.Equal(s.GetTraceId(), run.GetTraceId()) {
			t.Errorf("%s: got trace %x, want the run's %x", s.GetName(), s.GetTraceId(), run.GetTraceId())
		}
		parent, ok := ids[string(s.GetParentSpanId())]
		if !ok {
			t.Errorf("%s: parent %x is not in the file", s.GetName(), s.GetParentSpanId())
		}
		if want := map[string]string{"thermalization": "run", "production": "run", "part": "production"}[s.GetName()]; want != "" && parent != want {
			t.Errorf("%s: got parent %q, want %q", s.GetName(), parent, want)
		}
	}
}

// TestTraceFileFailedRun: a run that fails after it started (no HMC
// trajectory accepted) has a run span with status Error and the message.
func TestTraceFileFailedRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	code, _, errs := runCLI(t, "hmc", "--L", "4", "--n", "20", "--therm", "0", "--tau", "50", "--md-steps", "1", "--trace-file", path)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d: %s", code, exitFailed, errs)
	}
	run := runSpan(t, traceSpans(t, path))
	st := run.GetStatus()
	if st.GetCode() != tracepb.Status_STATUS_CODE_ERROR || !strings.Contains(st.GetMessage(), "no trajectory was accepted") {
		t.Errorf("run: got status %v %q, want STATUS_CODE_ERROR with the error", st.GetCode(), st.GetMessage())
	}
	if !strings.Contains(errs, st.GetMessage()) {
		t.Errorf("status message %q is not the error printed: %s", st.GetMessage(), errs)
	}
}

// TestTraceFileFull writes the trace to /dev/full, as on a full disk (issue
// 19 C.14): the run's results are printed, the failure is reported once in
// one clear line naming --trace-file, the cause and the spans lost, no raw
// exporter lines appear, and the exit code is 1.
func TestTraceFileFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	cmd := childLatflow(t, "hmc", "--L", "4", "--n", "200", "--therm", "10", "--json", "--trace-file", "/dev/full", "--force")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != exitFailed {
		t.Fatalf("got exit %d (%v), want %d; stderr %q", code, err, exitFailed, stderr.String())
	}
	var rep jsonReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || rep.Measurements != 200 {
		t.Errorf("got stdout %q (%v), want the report of 200 measurements", stdout.String(), err)
	}
	errs := stderr.String()
	if n := strings.Count(errs, "/dev/full"); n != 1 {
		t.Errorf("got /dev/full named %d times in stderr, want once: %q", n, errs)
	}
	if strings.Contains(errs, "failed to encode") || strings.Contains(errs, "traces export") {
		t.Errorf("got raw exporter lines in stderr: %q", errs)
	}
	msg := lastLine(errs)
	for _, want := range []string{"--trace-file /dev/full", "no space left on device", "spans are missing", "run itself completed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("got last line %q, want it to contain %q", msg, want)
		}
	}
}

// TestTraceFileTrainTotals: a training run's span carries the steps done
// and the evaluation's ESS and acceptance, as in its report.
func TestTraceFileTrainTotals(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trace.jsonl")
	code, out, errs := runCLI(t, "train", "--L", "4", "--layers", "2", "--mixtures", "2", "--hidden", "4", "--steps", "5", "--batch", "8",
		"--eval-every", "0", "--eval", "256", "--out", filepath.Join(dir, "m.flow"), "--json", "--trace-file", path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Steps int64 `json:"steps"`
		Eval  *struct {
			ESS        float64 `json:"ess"`
			Acceptance float64 `json:"acceptance"`
		} `json:"evaluation"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Eval == nil {
		t.Fatalf("got report %q (%v), want one with an evaluation", out, err)
	}
	a := spanAttrs(runSpan(t, traceSpans(t, path)))
	for k, want := range map[string]any{
		"latflow.command": "train", "latflow.steps": rep.Steps, "latflow.steps_requested": int64(5),
		"latflow.ess": rep.Eval.ESS, "latflow.acceptance": rep.Eval.Acceptance,
	} {
		if got := a[k]; got != want {
			t.Errorf("run: got %s = %v (%T), want %v (%T) as in the report", k, got, got, want, want)
		}
	}
}
