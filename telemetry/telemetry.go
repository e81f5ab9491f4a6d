package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// DefaultServiceName is the service.name used when neither
// OTEL_SERVICE_NAME nor Options.ServiceName is set.
const DefaultServiceName = "latflow"

// DefaultShutdownTimeout bounds Shutdown when Options.ShutdownTimeout is zero.
const DefaultShutdownTimeout = 5 * time.Second

// tracerName is the instrumentation scope of the spans latflow creates.
const tracerName = "latflow"

// envServiceName overrides the service name, as in every OpenTelemetry SDK.
const envServiceName = "OTEL_SERVICE_NAME"

// Options configures Setup. The zero value means tracing off (unless the
// OTLP environment variables are set).
type Options struct {
	// TraceFile, when not empty, is created and receives the spans in
	// OTLP/JSON, one ExportTraceServiceRequest per line. An existing file is refused (so that a typo cannot destroy a
	// model or a dataset part) unless Overwrite is set.
	TraceFile string
	Overwrite bool
	// ServiceName is the service.name resource attribute; OTEL_SERVICE_NAME
	// takes precedence, DefaultServiceName is used when both are empty.
	ServiceName string
	// Version is the service.version resource attribute and the tracer's
	// instrumentation version; omitted when empty.
	Version string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// ShutdownTimeout bounds Shutdown; zero means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
}

// Telemetry owns the tracer provider, its exporters and the trace file.
// A nil *Telemetry behaves as tracing off.
type Telemetry struct {
	provider *sdktrace.TracerProvider // nil when off
	tracer   trace.Tracer
	file     *fileClient // nil without a trace file
	timeout  time.Duration

	once        sync.Once
	shutdownErr error
}

// Setup builds the exporters asked for by opt and its environment. With
// neither a trace file nor an OTLP endpoint it returns a Telemetry that is
// off and costs nothing. Errors name what failed.
func Setup(ctx context.Context, opt Options) (*Telemetry, error) {
	getenv := opt.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if opt.ShutdownTimeout < 0 {
		panic(fmt.Sprintf("telemetry: negative ShutdownTimeout %v", opt.ShutdownTimeout))
	}
	t := &Telemetry{tracer: offTracer{}, timeout: opt.ShutdownTimeout}
	if t.timeout == 0 {
		t.timeout = DefaultShutdownTimeout
	}

	endpoint, err := otlpEndpoint(getenv)
	if err != nil {
		return nil, err
	}
	if endpoint == "" && opt.TraceFile == "" {
		return t, nil
	}

	res, err := newResource(ctx, opt, getenv)
	if err != nil {
		return nil, err
	}
	popts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
	}

	var exporters []sdktrace.SpanExporter
	cleanup := func() {
		for _, e := range exporters {
			_ = e.Shutdown(ctx)
		}
		if t.file != nil {
			t.file.close()
		}
	}
	if endpoint != "" {
		// WithEndpointURL overrides the exporter's own reading of the
		// endpoint from the process environment, so Getenv decides, and it
		// selects plain text for http:// and TLS for https://.
		e, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
		if err != nil {
			return nil, fmt.Errorf("telemetry: cannot create OTLP exporter for %s: %w", endpoint, err)
		}
		exporters = append(exporters, e)
	}
	if opt.TraceFile != "" {
		flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
		if opt.Overwrite {
			flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		}
		f, err := os.OpenFile(opt.TraceFile, flag, 0o644)
		if errors.Is(err, os.ErrExist) {
			cleanup()
			return nil, fmt.Errorf("telemetry: trace file %s exists (nothing was overwritten)", opt.TraceFile)
		}
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("telemetry: cannot create trace file: %w", err)
		}
		t.file = &fileClient{path: opt.TraceFile, f: f}
		e, err := otlptrace.New(ctx, t.file)
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("telemetry: cannot create trace file exporter: %w", err)
		}
		exporters = append(exporters, e)
	}
	for _, e := range exporters {
		popts = append(popts, sdktrace.WithBatcher(e))
	}

	t.provider = sdktrace.NewTracerProvider(popts...)
	var topts []trace.TracerOption
	if opt.Version != "" {
		topts = append(topts, trace.WithInstrumentationVersion(opt.Version))
	}
	t.tracer = t.provider.Tracer(tracerName, topts...)
	return t, nil
}

// newResource describes the service: service.name, service.version, the
// telemetry.sdk.* attributes and, inside a Slurm job, its job, array job and
// array task ids. It reads OTEL_SERVICE_NAME and the SLURM_* variables
// through getenv and nothing from the process environment.
func newResource(ctx context.Context, opt Options, getenv func(string) string) (*resource.Resource, error) {
	name := getenv(envServiceName)
	if name == "" {
		name = opt.ServiceName
	}
	if name == "" {
		name = DefaultServiceName
	}
	attrs := []resource.Option{
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceName(name)),
	}
	if opt.Version != "" {
		attrs = append(attrs, resource.WithAttributes(semconv.ServiceVersion(opt.Version)))
	}
	if slurm := slurmAttributes(getenv); len(slurm) > 0 {
		attrs = append(attrs, resource.WithAttributes(slurm...))
	}
	res, err := resource.New(ctx, attrs...)
	if err != nil {
		return nil, fmt.Errorf("telemetry: cannot build resource: %w", err)
	}
	return res, nil
}

// Tracer returns the tracer for latflow's spans; when tracing is off its
// spans cost nothing and record nothing.
func (t *Telemetry) Tracer() trace.Tracer {
	if t == nil {
		return offTracer{}
	}
	return t.tracer
}

// Enabled reports whether spans are exported anywhere.
func (t *Telemetry) Enabled() bool {
	return t != nil && t.provider != nil
}

// Shutdown flushes the pending spans to every exporter, shuts them down and
// closes the trace file. If the trace file could not be written completely
// (a full disk, say), the error is a *TraceFileError that says how many
// spans are missing from it; this is the one report of that failure. It waits at most the shutdown timeout or until the
// deadline of ctx, whichever comes first; cancellation of ctx is ignored.
// Only the first call does the work; later and concurrent calls wait for it
// and return its result.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	t.once.Do(func() {
		if t.provider == nil {
			return
		}
		deadline := time.Now().Add(t.timeout)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
		defer cancel()
		var errs []error
		if err := t.provider.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("telemetry: flushing spans: %w", err))
		}
		if t.file != nil {
			t.file.close() // in case the exporter was not shut down in time
			if err := t.file.Err(); err != nil {
				errs = append(errs, err)
			}
		}
		t.shutdownErr = errors.Join(errs...)
	})
	return t.shutdownErr
}
