package telemetry

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// testShutdownTimeout keeps a test from hanging on a stuck exporter.
const testShutdownTimeout = 2 * time.Second

// shutdownSlack is how much longer than its timeout Shutdown may take.
const shutdownSlack = 2 * time.Second

// The run the tests trace: a "run" span with one "production" child, which
// has nParts "part" children.
const (
	runTheory = "u1"
	runL      = 8
	runBeta   = 2.0
	nParts    = 2
)

// envMap returns a Getenv reading only m.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// emitRun creates the spans of a small run.
func emitRun(tr trace.Tracer) {
	ctx, run := tr.Start(context.Background(), "run",
		trace.WithAttributes(RunAttributes(runTheory, runL, map[string]float64{"beta": runBeta})...))
	pctx, prod := tr.Start(ctx, "production")
	for i := range nParts {
		_, part := tr.Start(pctx, "part", trace.WithAttributes(attribute.Int("latflow.part", i)))
		part.End()
	}
	prod.End()
	run.End()
}

// span is an exported span as seen by a test, from OTLP or the trace file.
type span struct {
	name, traceID, spanID, parentID string
	attrs                           map[string]any // string, int64 or float64
	resource                        map[string]any
	status                          *tracepb.Status
	scope                           string
}

// checkRun checks that spans is the tree emitRun creates, with its
// attributes and the service name.
func checkRun(t *testing.T, spans []span, service string) {
	t.Helper()
	byName := map[string][]span{}
	for _, s := range spans {
		byName[s.name] = append(byName[s.name], s)
	}
	if got, want := len(spans), 2+nParts; got != want {
		t.Fatalf("got %d spans, want %d: %+v", got, want, spans)
	}
	if len(byName["run"]) != 1 || len(byName["production"]) != 1 || len(byName["part"]) != nParts {
		t.Fatalf("got span names %v, want run, production and %d part", names(spans), nParts)
	}
	run, prod := byName["run"][0], byName["production"][0]
	if run.parentID != "" {
		t.Errorf("run: got parent %q, want none", run.parentID)
	}
	if prod.parentID != run.spanID {
		t.Errorf("production: got parent %q, want run %q", prod.parentID, run.spanID)
	}
	for i, p := range byName["part"] {
		if p.parentID != prod.spanID {
			t.Errorf("part %d: got parent %q, want production %q", i, p.parentID, prod.spanID)
		}
	}
	for _, s := range spans {
		if s.traceID != run.traceID {
			t.Errorf("%s: got trace %q, want %q", s.name, s.traceID, run.traceID)
		}
		if got := s.resource["service.name"]; got != service {
			t.Errorf("%s: got service.name %v, want %q", s.name, got, service)
		}
	}
	want := map[string]any{"latflow.theory": runTheory, "latflow.L": int64(runL), "latflow.beta": runBeta}
	for k, w := range want {
		if got := run.attrs[k]; got != w {
			t.Errorf("run: got %s = %v (%T), want %v (%T)", k, got, got, w, w)
		}
	}
}

func names(spans []span) []string {
	var n []string
	for _, s := range spans {
		n = append(n, s.name)
	}
	return n
}

// collector is an OTLP/HTTP trace receiver.
type collector struct {
	mu    sync.Mutex
	spans []span
	errs  []string
}

func (c *collector) fail(format string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, format)
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/traces" || r.Method != http.MethodPost {
		c.fail("got " + r.Method + " " + r.URL.Path + ", want POST /v1/traces")
		http.NotFound(w, r)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			c.fail("gzip: " + err.Error())
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	data, err := io.ReadAll(body)
	if err != nil {
		c.fail("read body: " + err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(data, &req); err != nil {
		c.fail("unmarshal: " + err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	got := requestSpans(&req)
	c.mu.Lock()
	c.spans = append(c.spans, got...)
	c.mu.Unlock()
	resp, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

// requestSpans returns the spans of an OTLP request; ids are hex, as
// trace.TraceID.String gives them.
func requestSpans(req *coltracepb.ExportTraceServiceRequest) []span {
	var got []span
	for _, rs := range req.GetResourceSpans() {
		res := otlpAttrs(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				got = append(got, span{
					name:     s.GetName(),
					traceID:  hex.EncodeToString(s.GetTraceId()),
					spanID:   hex.EncodeToString(s.GetSpanId()),
					parentID: hex.EncodeToString(s.GetParentSpanId()),
					attrs:    otlpAttrs(s.GetAttributes()),
					resource: res,
					status:   s.GetStatus(),
					scope:    ss.GetScope().GetName(),
				})
			}
		}
	}
	return got
}

func otlpAttrs(kvs []*commonpb.KeyValue) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.GetKey()] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.GetKey()] = v.IntValue
		case *commonpb.AnyValue_DoubleValue:
			m[kv.GetKey()] = v.DoubleValue
		default:
			m[kv.GetKey()] = kv.GetValue().String()
		}
	}
	return m
}

func (c *collector) result(t *testing.T) []span {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.errs {
		t.Errorf("collector: %s", e)
	}
	return c.spans
}

// poisonProcessEnv points the process environment at a dead endpoint, so a
// test fails if anything reads it instead of Options.Getenv.
func poisonProcessEnv(t *testing.T) {
	t.Setenv(envEndpoint, "http://127.0.0.1:1")
	t.Setenv(envTracesEndpoint, "http://127.0.0.1:1/nowhere")
	t.Setenv(envServiceName, "wrong-service")
}

func TestOTLPExport(t *testing.T) {
	poisonProcessEnv(t)
	for _, tc := range []struct{ name, variable, suffix string }{
		{"endpoint", envEndpoint, ""},
		{"traces_endpoint", envTracesEndpoint, "/v1/traces"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &collector{}
			srv := httptest.NewServer(c)
			defer srv.Close()
			tel, err := Setup(context.Background(), Options{
				Getenv: envMap(map[string]string{
					tc.variable:    srv.URL + tc.suffix,
					envServiceName: "latflow-test",
				}),
				ShutdownTimeout: testShutdownTimeout,
			})
			if err != nil {
				t.Fatalf("Setup: %v", err)
			}
			if !tel.Enabled() {
				t.Fatalf("got Enabled() = false, want true")
			}
			emitRun(tel.Tracer())
			if err := tel.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			checkRun(t, c.result(t), "latflow-test")
		})
	}
}

// readTraceFile decodes a trace file, one OTLP/JSON ExportTraceServiceRequest
// per line, with protojson (through UnmarshalTraceLine, which maps the hex ids
// of OTLP/JSON to the base64 of the protobuf JSON mapping).
func readTraceFile(t *testing.T, path string) []span {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading trace file: %v", err)
	}
	var spans []span
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var req coltracepb.ExportTraceServiceRequest
		if err := UnmarshalTraceLine(sc.Bytes(), &req); err != nil {
			t.Fatalf("line %d: got %v, want an ExportTraceServiceRequest", line, err)
		}
		spans = append(spans, requestSpans(&req)...)
	}
	return spans
}

func TestTraceFile(t *testing.T) {
	poisonProcessEnv(t)
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	tel, err := Setup(context.Background(), Options{
		TraceFile:       path,
		Version:         "v0.1.0",
		Getenv:          envMap(nil),
		ShutdownTimeout: testShutdownTimeout,
	})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	if !tel.Enabled() {
		t.Fatalf("got Enabled() = false, want true")
	}
	emitRun(tel.Tracer())
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	spans := readTraceFile(t, path)
	checkRun(t, spans, DefaultServiceName)
	if got := spans[0].resource["service.version"]; got != "v0.1.0" {
		t.Errorf("got service.version %v, want v0.1.0", got)
	}
}

func TestBothExporters(t *testing.T) {
	c := &collector{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	tel, err := Setup(context.Background(), Options{
		TraceFile:       path,
		ServiceName:     "latflow-both",
		Getenv:          envMap(map[string]string{envEndpoint: srv.URL}),
		ShutdownTimeout: testShutdownTimeout,
	})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	emitRun(tel.Tracer())
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	t.Run("otlp", func(t *testing.T) { checkRun(t, c.result(t), "latflow-both") })
	t.Run("file", func(t *testing.T) { checkRun(t, readTraceFile(t, path), "latflow-both") })
}

func TestOff(t *testing.T) {
	poisonProcessEnv(t)
	tel, err := Setup(context.Background(), Options{Getenv: envMap(nil)})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	for name, tel := range map[string]*Telemetry{"off": tel, "nil": nil} {
		t.Run(name, func(t *testing.T) {
			if tel.Enabled() {
				t.Errorf("got Enabled() = true, want false")
			}
			tr := tel.Tracer()
			ctx := context.Background()
			cctx, s := tr.Start(ctx, "run")
			if s.IsRecording() || s.SpanContext().IsValid() {
				t.Errorf("got recording=%v valid=%v, want a no-op span", s.IsRecording(), s.SpanContext().IsValid())
			}
			if cctx != ctx {
				t.Errorf("got a new context, want the one passed in")
			}
			s.End()
			allocs := testing.AllocsPerRun(100, func() {
				_, s := tr.Start(ctx, "part")
				s.End()
			})
			if allocs != 0 {
				t.Errorf("got %v allocs per span, want 0", allocs)
			}
			for i := range 2 {
				if err := tel.Shutdown(context.Background()); err != nil {
					t.Errorf("Shutdown %d: got %v, want nil", i, err)
				}
			}
		})
	}
}

func TestBadTraceFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "trace.jsonl")
	tel, err := Setup(context.Background(), Options{TraceFile: path, Getenv: envMap(nil)})
	if err == nil {
		_ = tel.Shutdown(context.Background())
		t.Fatalf("got nil error, want one for %s", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v, want an fs.ErrNotExist", err)
	}
	for _, want := range []string{"telemetry: cannot create trace file", path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to contain %q", err, want)
		}
	}
}

func TestBadEndpoint(t *testing.T) {
	for _, tc := range []struct{ name, variable, value string }{
		{"no_scheme", envEndpoint, "localhost:4318"},
		{"grpc_scheme", envTracesEndpoint, "grpc://localhost:4317"},
		{"grpc_protocol", envProtocol, "grpc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{tc.variable: tc.value}
			if tc.variable == envProtocol {
				env[envEndpoint] = "http://localhost:4318"
			}
			_, err := Setup(context.Background(), Options{Getenv: envMap(env)})
			if err == nil || !strings.Contains(err.Error(), tc.variable) {
				t.Errorf("got %v, want an error naming %s", err, tc.variable)
			}
		})
	}
}

// hangingTelemetry exports to a collector that never answers, with a run's
// spans pending.
func hangingTelemetry(t *testing.T, timeout time.Duration) *Telemetry {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	tel, err := Setup(context.Background(), Options{
		Getenv:          envMap(map[string]string{envEndpoint: srv.URL}),
		ShutdownTimeout: timeout,
	})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	emitRun(tel.Tracer())
	return tel
}

// TestShutdownBounded checks that a collector that never answers cannot
// hold Shutdown past its timeout even with a cancelled context (as from a
// signal path), and that later calls return at once with the same result.
func TestShutdownBounded(t *testing.T) {
	const timeout = 200 * time.Millisecond
	tel := hangingTelemetry(t, timeout)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	took := make([]time.Duration, 3)
	for i := range errs {
		wg.Go(func() {
			start := time.Now()
			errs[i] = tel.Shutdown(ctx)
			took[i] = time.Since(start)
		})
	}
	wg.Wait()
	for i := range errs {
		if took[i] > timeout+shutdownSlack {
			t.Errorf("call %d: Shutdown took %v, want at most %v", i, took[i], timeout+shutdownSlack)
		}
		if !errors.Is(errs[i], context.DeadlineExceeded) {
			t.Errorf("call %d: got %v, want context.DeadlineExceeded", i, errs[i])
		}
	}
	start := time.Now()
	if err := tel.Shutdown(context.Background()); err != errs[0] {
		t.Errorf("repeated Shutdown: got %v, want %v", err, errs[0])
	}
	if d := time.Since(start); d > timeout/2 {
		t.Errorf("repeated Shutdown took %v, want it immediate", d)
	}
}

// TestShutdownDeadline checks that a context deadline earlier than the
// shutdown timeout is honoured.
func TestShutdownDeadline(t *testing.T) {
	const deadline = 150 * time.Millisecond
	tel := hangingTelemetry(t, DefaultShutdownTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	err := tel.Shutdown(ctx)
	if d := time.Since(start); d > deadline+shutdownSlack {
		t.Errorf("Shutdown took %v, want at most %v", d, deadline+shutdownSlack)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
}

// TestShutdownIdempotent checks that the trace file is closed once and a
// second Shutdown reports no error.
func TestShutdownIdempotent(t *testing.T) {
	tel, err := Setup(context.Background(), Options{
		TraceFile: filepath.Join(t.TempDir(), "trace.jsonl"),
		Getenv:    envMap(nil),
	})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	for i := range 2 {
		if err := tel.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown %d: got %v, want nil", i, err)
		}
	}
}

func BenchmarkSpanOff(b *testing.B) {
	tel, err := Setup(context.Background(), Options{Getenv: envMap(nil)})
	if err != nil {
		b.Fatal(err)
	}
	benchSpan(b, tel)
}

func BenchmarkSpanFile(b *testing.B) {
	tel, err := Setup(context.Background(), Options{TraceFile: os.DevNull, Overwrite: true, Getenv: envMap(nil)})
	if err != nil {
		b.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	benchSpan(b, tel)
}

// benchSpan times starting and ending one child span.
func benchSpan(b *testing.B, tel *Telemetry) {
	tr := tel.Tracer()
	ctx, run := tr.Start(context.Background(), "run")
	defer run.End()
	b.ReportAllocs()
	for b.Loop() {
		_, s := tr.Start(ctx, "part")
		s.End()
	}
}

// TestTraceFileExists: an existing file is never truncated without
// Overwrite (a typo in --trace-file once destroyed a model file).
func TestTraceFileExists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.flow")
	const content = "precious"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	tel, err := Setup(context.Background(), Options{TraceFile: path, Getenv: envMap(nil)})
	if err == nil {
		_ = tel.Shutdown(context.Background())
		t.Fatalf("got nil error for an existing trace file, want one")
	}
	if !strings.Contains(err.Error(), "exists") {
		t.Errorf("got error %q, want one saying the file exists", err)
	}
	if b, _ := os.ReadFile(path); string(b) != content {
		t.Fatalf("file changed to %q, want %q", b, content)
	}
	tel, err = Setup(context.Background(), Options{TraceFile: path, Overwrite: true, Getenv: envMap(nil)})
	if err != nil {
		t.Fatalf("with Overwrite: %v", err)
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
