package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"latflow/ensemble"
	"latflow/observables"
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

// writeReport records the totals of rep on the run span and prints rep.
func (tr *tracing) writeReport(w io.Writer, rep observables.Report, asJSON bool) error {
	tr.span.SetAttributes(reportTotals(rep).Attributes()...)
	return writeReport(w, rep, asJSON)
}

// reportTotals returns the totals of a run's report: its measurements and
// acceptance and, for independence Metropolis, the ESS and log Z.
func reportTotals(rep observables.Report) telemetry.Totals {
	t := telemetry.Totals{Steps: rep.Measurements, Acceptance: rep.Acceptance, ESS: math.NaN(), LogZ: math.NaN(), LogZError: math.NaN()}
	if s := rep.IMH; s != nil {
		t.ESS, t.LogZ, t.LogZError = s.ESS, s.LogZ.Value, s.LogZ.Error
	}
	return t
}

// finish ends the run span, with status Error and the message if the
// command failed or was interrupted, and flushes the exporters. It returns
// err, joined with the flush error if there is one: a trace file that could
// not be written (a full disk) fails a run that succeeded, with one message
// that says what is missing, while its results stand.
func (tr *tracing) finish(err error) error {
	if err != nil {
		tr.span.SetStatus(codes.Error, err.Error())
	}
	tr.span.End()
	serr := tr.tel.Shutdown(context.Background())
	if serr == nil {
		return err
	}
	var fe *telemetry.TraceFileError
	if errors.As(serr, &fe) {
		serr = fmt.Errorf("--%s %s: %v; %d of %d spans are missing from it", flagTraceFile, fe.Path, fe.Err, fe.Lost, fe.Spans)
	} else {
		serr = fmt.Errorf("flushing traces: %w", serr)
	}
	if err == nil {
		return fmt.Errorf("%w (the run itself completed)", serr)
	}
	return errors.Join(err, serr)
}
