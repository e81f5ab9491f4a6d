package telemetry

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// MaxTraceLine bounds one line of a trace file when it is read back: a
// batch of at most 512 spans (the batch span processor's default) with
// latflow's few attributes takes well under this.
const MaxTraceLine = 64 << 20

// fileClient is the otlptrace.Client of the trace file. Each batch of spans
// becomes one line: an ExportTraceServiceRequest in OTLP/JSON (see
// MarshalTraceLine). The first write error is kept, nothing is written after
// it, and the spans of this and every later batch are counted as lost; the
// error reaches the user once, from Telemetry.Shutdown, instead of once per
// batch through the OpenTelemetry error handler.
type fileClient struct {
	path string

	mu      sync.Mutex
	f       traceFile // nil once closed
	size    int64     // bytes of the complete lines written
	spans   int       // spans handed to the client
	written int       // spans on complete lines of the file
	err     error     // the first write or encoding error
}

// traceFile is what fileClient needs of its *os.File.
type traceFile interface {
	io.WriteCloser
	Truncate(size int64) error
}

var _ otlptrace.Client = (*fileClient)(nil)

// Start does nothing: the file is opened by Setup, so that a bad path is
// refused before the run starts.
func (c *fileClient) Start(context.Context) error { return nil }

// UploadTraces writes the spans as one line. It returns nil even when the
// write fails: the failure is reported by Err, and a partly written line
// is cut off.
func (c *fileClient) UploadTraces(_ context.Context, rs []*tracepb.ResourceSpans) error {
	n := countSpans(rs)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spans += n
	if c.err != nil {
		return nil
	}
	if c.f == nil {
		c.err = errors.New("spans arrived after the file was closed")
		return nil
	}
	line, err := MarshalTraceLine(&coltracepb.ExportTraceServiceRequest{ResourceSpans: rs})
	if err != nil {
		c.err = err
		return nil
	}
	if _, err := c.f.Write(append(line, '\n')); err != nil {
		c.err = fmt.Errorf("writing: %w", pathless(err))
		// Keep the file a sequence of complete lines, which a reader can
		// use up to the failure (a device such as /dev/full cannot be
		// truncated, and has nothing to keep).
		_ = c.f.Truncate(c.size)
		return nil
	}
	c.size += int64(len(line)) + 1
	c.written += n
	return nil
}

// Stop closes the file.
func (c *fileClient) Stop(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f == nil {
		return nil
	}
	err := c.f.Close()
	c.f = nil
	if err != nil && c.err == nil {
		c.err = fmt.Errorf("closing: %w", pathless(err))
	}
	return nil
}

// Err returns the first failure of the trace file, nil if every span was
// written. It says how many spans were lost.
func (c *fileClient) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		return nil
	}
	return &TraceFileError{Path: c.path, Lost: c.spans - c.written, Spans: c.spans, Err: c.err}
}

// close closes the file if Stop did not (the exporter was never shut down).
func (c *fileClient) close() {
	_ = c.Stop(context.Background())
}

// TraceFileError reports a trace file that could not be written completely,
// for example on a full disk.
type TraceFileError struct {
	Path        string
	Lost, Spans int // spans not in the file, of all spans of the run
	Err         error
}

func (e *TraceFileError) Error() string {
	return fmt.Sprintf("telemetry: trace file %s: %v; %d of %d spans are not in it", e.Path, e.Err, e.Lost, e.Spans)
}

func (e *TraceFileError) Unwrap() error { return e.Err }

// pathless returns the error inside an *os.PathError, which would repeat
// the file's name.
func pathless(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func countSpans(rs []*tracepb.ResourceSpans) int {
	n := 0
	for _, r := range rs {
		for _, s := range r.GetScopeSpans() {
			n += len(s.GetSpans())
		}
	}
	return n
}

// marshalOptions encode enums as numbers, as OTLP/JSON requires.
var marshalOptions = protojson.MarshalOptions{UseEnumNumbers: true}

// MarshalTraceLine encodes req in OTLP/JSON, the encoding of the
// OpenTelemetry Collector's otlpjsonfile receiver and of OTLP/HTTP with JSON:
// the protobuf JSON mapping (protojson: lowerCamelCase field names, 64-bit
// integers as decimal strings) with enums as numbers and trace and span ids
// as hex strings instead of base64. The result is compact JSON on one line,
// with object keys in sorted order.
func MarshalTraceLine(req *coltracepb.ExportTraceServiceRequest) ([]byte, error) {
	b, err := marshalOptions.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("telemetry: encoding spans: %w", err)
	}
	return recodeIDs(b, base64ToHex)
}

// UnmarshalTraceLine decodes one line written by MarshalTraceLine (or any
// OTLP/JSON ExportTraceServiceRequest) into req.
func UnmarshalTraceLine(line []byte, req *coltracepb.ExportTraceServiceRequest) error {
	b, err := recodeIDs(line, hexToBase64)
	if err != nil {
		return err
	}
	if err := protojson.Unmarshal(b, req); err != nil {
		return fmt.Errorf("telemetry: decoding spans: %w", err)
	}
	return nil
}

// ReadTraceFile reads a trace file: one ExportTraceServiceRequest per line.
// Errors name the line.
func ReadTraceFile(r io.Reader) ([]*coltracepb.ExportTraceServiceRequest, error) {
	var reqs []*coltracepb.ExportTraceServiceRequest
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, MaxTraceLine)
	for line := 1; sc.Scan(); line++ {
		req := &coltracepb.ExportTraceServiceRequest{}
		if err := UnmarshalTraceLine(sc.Bytes(), req); err != nil {
			return reqs, fmt.Errorf("line %d: %w", line, err)
		}
		reqs = append(reqs, req)
	}
	if err := sc.Err(); err != nil {
		return reqs, fmt.Errorf("after line %d: %w", len(reqs), err)
	}
	return reqs, nil
}

// Span and link fields that hold ids, hex in OTLP/JSON and base64 in the
// protobuf JSON mapping.
var (
	spanIDFields = []string{"traceId", "spanId", "parentSpanId"}
	linkIDFields = []string{"traceId", "spanId"}
)

// recodeIDs rewrites the id fields of the spans and links of an
// ExportTraceServiceRequest in JSON with conv and returns compact JSON.
// Only these paths are touched, so an attribute that happens to be called
// traceId is left alone.
func recodeIDs(b []byte, conv func(string) (string, error)) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keep numbers as written
	var req map[string]any
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("telemetry: not a JSON object: %w", err)
	}
	for _, rs := range objects(req["resourceSpans"]) {
		for _, ss := range objects(rs["scopeSpans"]) {
			for _, s := range objects(ss["spans"]) {
				if err := recodeFields(s, spanIDFields, conv); err != nil {
					return nil, fmt.Errorf("telemetry: span %v: %w", s["name"], err)
				}
				for _, l := range objects(s["links"]) {
					if err := recodeFields(l, linkIDFields, conv); err != nil {
						return nil, fmt.Errorf("telemetry: link of span %v: %w", s["name"], err)
					}
				}
			}
		}
	}
	return json.Marshal(req)
}

// objects returns the JSON objects of an array, skipping other values.
func objects(v any) []map[string]any {
	arr, _ := v.([]any)
	out := make([]map[string]any, 0, len(arr))
	for _, e := range arr {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func recodeFields(m map[string]any, fields []string, conv func(string) (string, error)) error {
	for _, k := range fields {
		v, ok := m[k]
		if !ok {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s is %T, want a string", k, v)
		}
		c, err := conv(s)
		if err != nil {
			return fmt.Errorf("%s %q: %w", k, s, err)
		}
		m[k] = c
	}
	return nil
}

func base64ToHex(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func hexToBase64(s string) (string, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}
