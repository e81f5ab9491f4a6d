package main

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"latflow/ensemble"
	"latflow/telemetry"
)

// tracing is the telemetry of one command: a "run" span with the command,
// and the target when there is one.
type tracing struct {
	tel    *telemetry.Telemetry
	Tracer trace.Tracer
	span   trace.Span
}

// startTracing sets up the exporters of --trace-file (refused if the file
// exists, unless force) and OTEL_EXPORTER_OTLP_ENDPOINT, and starts the
// run span. t may be nil.
func startTracing(ctx context.Context, file string, force bool, command string, t *ensemble.Target) (context.Context, *tracing, error) {
	tel, err := telemetry.Setup(ctx, telemetry.Options{TraceFile: file, Overwrite: force, Version: Version})
	if err != nil {
		return ctx, nil, usagef("--%s: %v", flagTraceFile, err)
	}
	tr := &tracing{tel: tel, Tracer: tel.Tracer()}
	var attrs []attribute.KeyValue
	if t != nil {
		attrs = telemetry.RunAttributes(t.Theory, t.L, t.Couplings)
	}
	ctx, tr.span = tr.Tracer.Start(ctx, "run", trace.WithAttributes(attrs...))
	tr.span.SetAttributes(attribute.String("latflow.command", command))
	return ctx, tr, nil
}

// Span returns the run span.
func (tr *tracing) Span() trace.Span { return tr.span }

// finish ends the run span, with status Error and the message if the
// command failed or was interrupted, and flushes the exporters. It returns
// err, or the flush error if err is nil.
func (tr *tracing) finish(err error) error {
	if err != nil {
		tr.span.SetStatus(codes.Error, err.Error())
	}
	tr.span.End()
	if serr := tr.tel.Shutdown(context.Background()); serr != nil && err == nil {
		return fmt.Errorf("flushing traces: %w", serr)
	}
	return err
}
