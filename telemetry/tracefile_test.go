package telemetry

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// failedRun is what emitFailedRun records.
type failedRun struct {
	run, prod, part trace.SpanContext
	totals          Totals
}

// failMessage is the status message of the failed run.
const failMessage = "chain 0: no proposal accepted"

// emitFailedRun creates the spans of a run that failed: "run" with status
// Error and its totals, "production", and a "part" with a link to the
// production span.
func emitFailedRun(tr trace.Tracer) failedRun {
	fr := failedRun{totals: Totals{Steps: 400, Acceptance: 0.25, ESS: 0.125, LogZ: -17.5, LogZError: 0.75}}
	ctx, run := tr.Start(context.Background(), "run",
		trace.WithAttributes(RunAttributes(runTheory, runL, map[string]float64{"beta": runBeta})...))
	pctx, prod := tr.Start(ctx, "production")
	_, part := tr.Start(pctx, "part", trace.WithLinks(trace.Link{SpanContext: prod.SpanContext()}),
		trace.WithAttributes(attribute.Int("latflow.part", 0)))
	fr.run, fr.prod, fr.part = run.SpanContext(), prod.SpanContext(), part.SpanContext()
	part.End()
	prod.End()
	run.SetAttributes(fr.totals.Attributes()...)
	run.SetStatus(codes.Error, failMessage)
	run.End()
	return fr
}

var (
	hexTraceID = regexp.MustCompile(`^[0-9a-f]{32}$`)
	hexSpanID  = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

// TestTraceFileOTLPJSON writes a failed run to a trace file and decodes
// every line back with protojson into the OTLP types: one
// ExportTraceServiceRequest per line, span names, parent links, the error
// status, the run's attributes and totals. The raw lines are checked for
// what the Collector's otlpjsonfile receiver needs: hex ids and numeric
// enums.
func TestTraceFileOTLPJSON(t *testing.T) {
	poisonProcessEnv(t)
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	tel, err := Setup(context.Background(), Options{TraceFile: path, Getenv: envMap(nil), ShutdownTimeout: testShutdownTimeout})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	fr := emitFailedRun(tel.Tracer())
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("raw", func(t *testing.T) {
		sc := bufio.NewScanner(bytes.NewReader(data))
		lines, spans := 0, 0
		for sc.Scan() {
			lines++
			var req struct {
				ResourceSpans []struct {
					ScopeSpans []struct {
						Spans []struct {
							Name                               string
							TraceID                            string `json:"traceId"`
							SpanID                             string `json:"spanId"`
							ParentSpanID                       string `json:"parentSpanId"`
							Kind                               any
							Status                             struct{ Code any }
							Links                              []struct{ TraceID, SpanID string }
							StartTimeUnixNano, EndTimeUnixNano string
						}
					}
				}
			}
			if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
				t.Fatalf("line %d: %v", lines, err)
			}
			for _, rs := range req.ResourceSpans {
				for _, ss := range rs.ScopeSpans {
					for _, s := range ss.Spans {
						spans++
						if !hexTraceID.MatchString(s.TraceID) || !hexSpanID.MatchString(s.SpanID) {
							t.Errorf("%s: got traceId %q spanId %q, want lowercase hex of 32 and 16 digits", s.Name, s.TraceID, s.SpanID)
						}
						if s.ParentSpanID != "" && !hexSpanID.MatchString(s.ParentSpanID) {
							t.Errorf("%s: got parentSpanId %q, want 16 hex digits", s.Name, s.ParentSpanID)
						}
						if _, ok := s.Kind.(float64); !ok {
							t.Errorf("%s: got kind %#v, want a number", s.Name, s.Kind)
						}
						if s.Name == "run" {
							if c, ok := s.Status.Code.(float64); !ok || c != float64(tracepb.Status_STATUS_CODE_ERROR) {
								t.Errorf("run: got status code %#v, want the number %d", s.Status.Code, tracepb.Status_STATUS_CODE_ERROR)
							}
						}
						for _, l := range s.Links {
							if l.TraceID != fr.prod.TraceID().String() || l.SpanID != fr.prod.SpanID().String() {
								t.Errorf("%s: got link %s/%s, want %s/%s", s.Name, l.TraceID, l.SpanID, fr.prod.TraceID(), fr.prod.SpanID())
							}
						}
						if s.StartTimeUnixNano == "" || s.EndTimeUnixNano == "" {
							t.Errorf("%s: got times %q, %q, want both", s.Name, s.StartTimeUnixNano, s.EndTimeUnixNano)
						}
					}
				}
			}
		}
		if lines == 0 || spans != 3 {
			t.Fatalf("got %d lines with %d spans, want the run's 3 spans", lines, spans)
		}
	})

	t.Run("protojson", func(t *testing.T) {
		reqs, err := ReadTraceFile(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("ReadTraceFile: %v", err)
		}
		if n := bytes.Count(data, []byte("\n")); len(reqs) != n {
			t.Errorf("got %d requests, want one per line (%d)", len(reqs), n)
		}
		byName := map[string]*tracepb.Span{}
		for _, req := range reqs {
			for _, rs := range req.GetResourceSpans() {
				for _, ss := range rs.GetScopeSpans() {
					if got := ss.GetScope().GetName(); got != tracerName {
						t.Errorf("got scope %q, want %q", got, tracerName)
					}
					for _, s := range ss.GetSpans() {
						if byName[s.GetName()] != nil {
							t.Errorf("span %q twice", s.GetName())
						}
						byName[s.GetName()] = s
					}
				}
			}
		}
		for _, w := range []struct {
			name         string
			sc, parent   trace.SpanContext
			parentWanted bool
		}{
			{"run", fr.run, trace.SpanContext{}, false},
			{"production", fr.prod, fr.run, true},
			{"part", fr.part, fr.prod, true},
		} {
			s := byName[w.name]
			if s == nil {
				t.Errorf("no %q span in %v", w.name, byName)
				continue
			}
			tid, sid := w.sc.TraceID(), w.sc.SpanID()
			if !bytes.Equal(s.GetTraceId(), tid[:]) || !bytes.Equal(s.GetSpanId(), sid[:]) {
				t.Errorf("%s: got ids %x/%x, want %s/%s", w.name, s.GetTraceId(), s.GetSpanId(), tid, sid)
			}
			var wantParent []byte
			if w.parentWanted {
				p := w.parent.SpanID()
				wantParent = p[:]
			}
			if !bytes.Equal(s.GetParentSpanId(), wantParent) {
				t.Errorf("%s: got parent %x, want %x", w.name, s.GetParentSpanId(), wantParent)
			}
		}
		run := byName["run"]
		if run == nil {
			t.FailNow()
		}
		if st := run.GetStatus(); st.GetCode() != tracepb.Status_STATUS_CODE_ERROR || st.GetMessage() != failMessage {
			t.Errorf("run: got status %v %q, want STATUS_CODE_ERROR %q", st.GetCode(), st.GetMessage(), failMessage)
		}
		if st := byName["production"].GetStatus(); st.GetCode() != tracepb.Status_STATUS_CODE_UNSET {
			t.Errorf("production: got status %v, want unset", st.GetCode())
		}
		if links := byName["part"].GetLinks(); len(links) != 1 || !bytes.Equal(links[0].GetSpanId(), func() []byte { id := fr.prod.SpanID(); return id[:] }()) {
			t.Errorf("part: got links %v, want one to production %s", links, fr.prod.SpanID())
		}
		attrs := otlpAttrs(run.GetAttributes())
		want := map[string]any{
			"latflow.theory": runTheory, "latflow.L": int64(runL), "latflow.beta": runBeta,
			"latflow.steps": fr.totals.Steps, "latflow.acceptance": fr.totals.Acceptance, "latflow.ess": fr.totals.ESS,
			"latflow.log_z": fr.totals.LogZ, "latflow.log_z_error": fr.totals.LogZError,
		}
		for k, w := range want {
			if got := attrs[k]; got != w {
				t.Errorf("run: got %s = %v (%T), want %v (%T)", k, got, got, w, w)
			}
		}
		if got := otlpAttrs(byName["part"].GetAttributes())["latflow.part"]; got != int64(0) {
			t.Errorf("part: got latflow.part = %v (%T), want 0", got, got)
		}
		res := otlpAttrs(reqs[0].GetResourceSpans()[0].GetResource().GetAttributes())
		if got := res["service.name"]; got != DefaultServiceName {
			t.Errorf("got service.name %v, want %q", got, DefaultServiceName)
		}
	})
}

// TestMarshalTraceLineRoundTrip checks that the hex ids survive a round
// trip, and that only the ids of spans and links are recoded: an attribute
// named traceId keeps its value.
func TestMarshalTraceLineRoundTrip(t *testing.T) {
	tid := bytes.Repeat([]byte{0xab}, 16)
	sid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	req := &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{{
			Name: "s", TraceId: tid, SpanId: sid, ParentSpanId: sid, Kind: tracepb.Span_SPAN_KIND_INTERNAL,
			Attributes: attrKV("traceId", "not an id"),
			Links:      []*tracepb.Span_Link{{TraceId: tid, SpanId: sid}},
		}}}},
	}}}
	line, err := MarshalTraceLine(req)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsRune(line, '\n') {
		t.Errorf("got a line with a newline: %s", line)
	}
	for _, want := range []string{`"traceId":"abababababababababababababababab"`, `"spanId":"0102030405060708"`, `"parentSpanId":"0102030405060708"`, `"kind":1`, `"stringValue":"not an id"`} {
		if !bytes.Contains(line, []byte(want)) {
			t.Errorf("got %s, want it to contain %s", line, want)
		}
	}
	var back coltracepb.ExportTraceServiceRequest
	if err := UnmarshalTraceLine(line, &back); err != nil {
		t.Fatal(err)
	}
	s := back.GetResourceSpans()[0].GetScopeSpans()[0].GetSpans()[0]
	if !bytes.Equal(s.GetTraceId(), tid) || !bytes.Equal(s.GetSpanId(), sid) || !bytes.Equal(s.GetParentSpanId(), sid) ||
		!bytes.Equal(s.GetLinks()[0].GetTraceId(), tid) || !bytes.Equal(s.GetLinks()[0].GetSpanId(), sid) {
		t.Errorf("got ids %x %x %x, link %x %x, want %x %x %x, link %x %x", s.GetTraceId(), s.GetSpanId(), s.GetParentSpanId(),
			s.GetLinks()[0].GetTraceId(), s.GetLinks()[0].GetSpanId(), tid, sid, sid, tid, sid)
	}
	if got := otlpAttrs(s.GetAttributes())["traceId"]; got != "not an id" {
		t.Errorf("got attribute traceId %v, want it unchanged", got)
	}
	if err := UnmarshalTraceLine([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x","traceId":"zz"}]}]}]}`), &back); err == nil {
		t.Errorf("got nil error for a traceId that is not hex, want one")
	}
}

func attrKV(k, v string) []*commonpb.KeyValue {
	return []*commonpb.KeyValue{{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}}
}

// TestTraceFileFull writes a trace to /dev/full, as on a full disk: the
// error is reported once, by Shutdown, as a *TraceFileError naming the file,
// the cause and the number of spans lost, and nothing goes to the
// OpenTelemetry error handler (which would print a line per batch).
func TestTraceFileFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	var logged bytes.Buffer
	log.SetOutput(&logged)
	defer log.SetOutput(os.Stderr)
	tel, err := Setup(context.Background(), Options{TraceFile: "/dev/full", Overwrite: true, Getenv: envMap(nil), ShutdownTimeout: testShutdownTimeout})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	emitRun(tel.Tracer())
	err = tel.Shutdown(context.Background())
	var fe *TraceFileError
	if !errors.As(err, &fe) {
		t.Fatalf("Shutdown: got %v, want a *TraceFileError", err)
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("got %v, want ENOSPC inside", err)
	}
	if fe.Path != "/dev/full" || fe.Spans != 2+nParts || fe.Lost != fe.Spans {
		t.Errorf("got path %q, %d of %d spans lost, want /dev/full, %d of %d", fe.Path, fe.Lost, fe.Spans, 2+nParts, 2+nParts)
	}
	for _, want := range []string{"/dev/full", "no space left on device", "4 of 4 spans"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to contain %q", err, want)
		}
	}
	if strings.Count(err.Error(), "/dev/full") != 1 {
		t.Errorf("got %q, want the file named once", err)
	}
	if logged.Len() > 0 {
		t.Errorf("got %q from the error handler, want nothing (the error is Shutdown's)", logged.String())
	}
	if err2 := tel.Shutdown(context.Background()); err2 != err {
		t.Errorf("second Shutdown: got %v, want the same error", err2)
	}
}

// TestTraceFileLostCount checks the count of lost spans when the file
// fails after some batches were written: the spans of complete lines are
// not counted as lost.
func TestTraceFileLostCount(t *testing.T) {
	c := &fileClient{path: "x"}
	f, err := os.CreateTemp(t.TempDir(), "trace")
	if err != nil {
		t.Fatal(err)
	}
	c.f = f
	batch := func(n int) []*tracepb.ResourceSpans {
		spans := make([]*tracepb.Span, n)
		for i := range spans {
			spans[i] = &tracepb.Span{Name: "s", TraceId: make([]byte, 16), SpanId: make([]byte, 8)}
		}
		return []*tracepb.ResourceSpans{{ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans}}}}
	}
	ctx := context.Background()
	if err := c.UploadTraces(ctx, batch(3)); err != nil || c.Err() != nil {
		t.Fatalf("first batch: got %v, %v, want nil", err, c.Err())
	}
	_ = f.Close() // the next write fails
	if err := c.UploadTraces(ctx, batch(2)); err != nil {
		t.Errorf("got %v, want nil (the error is kept for Err)", err)
	}
	_ = c.UploadTraces(ctx, batch(4))
	var fe *TraceFileError
	if err := c.Err(); !errors.As(err, &fe) || fe.Lost != 6 || fe.Spans != 9 {
		t.Errorf("got %v, want 6 of 9 spans lost", err)
	}
}

// shortFile accepts limit bytes and then fails a write after writing part
// of it, as a disk that fills up does.
type shortFile struct {
	bytes.Buffer
	limit     int
	truncated int64
}

func (f *shortFile) Write(p []byte) (int, error) {
	if room := f.limit - f.Len(); len(p) > room {
		f.Buffer.Write(p[:room])
		return room, syscall.ENOSPC
	}
	return f.Buffer.Write(p)
}

func (f *shortFile) Truncate(size int64) error {
	f.truncated = size
	f.Buffer.Truncate(int(size))
	return nil
}

func (f *shortFile) Close() error { return nil }

// TestTraceFilePartialLine: a write that fails halfway through a line is
// cut off, so that the file holds only complete lines, which decode.
func TestTraceFilePartialLine(t *testing.T) {
	batch := []*tracepb.ResourceSpans{{ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{
		{Name: "part", TraceId: bytes.Repeat([]byte{1}, 16), SpanId: bytes.Repeat([]byte{2}, 8)}}}}}}
	line, err := MarshalTraceLine(&coltracepb.ExportTraceServiceRequest{ResourceSpans: batch})
	if err != nil {
		t.Fatal(err)
	}
	f := &shortFile{limit: 2*(len(line)+1) + len(line)/2} // two lines and half of the third
	c := &fileClient{path: "trace.jsonl", f: f}
	for range 4 {
		_ = c.UploadTraces(context.Background(), batch)
	}
	var fe *TraceFileError
	if err := c.Err(); !errors.As(err, &fe) || fe.Lost != 2 || fe.Spans != 4 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("got %v, want ENOSPC with 2 of 4 spans lost", err)
	}
	if want := int64(2 * (len(line) + 1)); f.truncated != want || int64(f.Len()) != want {
		t.Errorf("got the file truncated to %d (length %d), want %d: two complete lines", f.truncated, f.Len(), want)
	}
	reqs, err := ReadTraceFile(bytes.NewReader(f.Bytes()))
	if err != nil || len(reqs) != 2 {
		t.Errorf("got %d requests, %v, want the 2 complete lines", len(reqs), err)
	}
}
