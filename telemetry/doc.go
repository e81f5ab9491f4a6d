// Package telemetry sets up OpenTelemetry tracing for latflow runs: off by
// default, spans to an OTLP/JSON file (--trace-file), to an OTLP/HTTP
// collector (the standard OTEL_EXPORTER_OTLP_* environment), or both.
//
// Conventions:
//
//   - Tracing is off unless a trace file is given or OTEL_EXPORTER_OTLP_ENDPOINT
//     or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set. When off, Tracer returns a
//     tracer whose Start neither allocates nor records; the context it returns
//     is the one passed in (it does not carry the no-op span).
//   - No global OpenTelemetry state is set (no otel.SetTracerProvider): the
//     caller passes Telemetry.Tracer to the code it instruments. Errors of
//     the OTLP/HTTP exporter during a run go to the OpenTelemetry error
//     handler (stderr by default); errors of the trace file do not (see
//     below).
//   - The environment is read through Options.Getenv (os.Getenv when nil):
//     OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is (an empty path means
//     "/"); otherwise OTEL_EXPORTER_OTLP_ENDPOINT is a base URL to which
//     "/v1/traces" is appended. The scheme must be http (plain text) or https
//     (TLS). OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL=grpc is refused. Other
//     OTEL_EXPORTER_OTLP_* settings (headers, compression, timeout,
//     certificates) are read from the process environment by the exporter.
//   - service.name is OTEL_SERVICE_NAME if set, else Options.ServiceName, else
//     "latflow"; service.version is Options.Version when not empty. Every span
//     is sampled (a run has few spans).
//   - Inside a Slurm job the resource also carries slurm.job_id,
//     slurm.array_job_id and slurm.array_task_id (strings, from SLURM_JOB_ID,
//     SLURM_ARRAY_JOB_ID and SLURM_ARRAY_TASK_ID), each when its variable is
//     set, so that the spans of the tasks of one array job can be told apart.
//   - The trace file is what the OpenTelemetry Collector's otlpjsonfile
//     receiver reads: one ExportTraceServiceRequest per line (a batch of
//     spans, in the order they end) in OTLP/JSON, the protobuf JSON mapping
//     of go.opentelemetry.io/proto/otlp with two changes the OTLP
//     specification makes: trace and span ids are hex strings, not base64,
//     and enums are numbers. MarshalTraceLine writes a line,
//     UnmarshalTraceLine and ReadTraceFile read them back with protojson.
//   - A trace file that cannot be written (a full disk) loses the spans
//     from the failure on, and the run goes on: its results do not depend
//     on the trace. The failure is reported once, by Shutdown, as a
//     *TraceFileError with the cause and the number of spans missing from
//     the file.
//   - Shutdown flushes and closes everything; it is idempotent, safe to call
//     from a signal path concurrently with normal exit, ignores cancellation
//     of its context (a signal path's context is usually already cancelled)
//     but not its deadline, and is bounded by Options.ShutdownTimeout
//     (DefaultShutdownTimeout).
//
// Span attribute keys set by RunAttributes:
//
//	latflow.theory   string  the theory, e.g. "u1" or "phi4"
//	latflow.L        int     the lattice extent L (V = L*L sites)
//	latflow.<name>   float   one per coupling, e.g. latflow.beta,
//	                         latflow.m2, latflow.lambda, latflow.kappa
//
// and by Totals.Attributes, the results of the whole run on its run span,
// each where the run has it:
//
//	latflow.steps        int    measurements of all chains, or training steps
//	latflow.acceptance   float  acceptance rate of the proposals
//	latflow.ess          float  ESS/N of the flow's importance weights
//	latflow.log_z        float  importance-sampling estimate of log Z
//	latflow.log_z_error  float  its error
package telemetry
