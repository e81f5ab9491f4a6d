package telemetry_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"go.opentelemetry.io/otel/trace"

	"latflow/telemetry"
)

// noEnv stands for an environment without OTEL_* variables.
func noEnv(string) string { return "" }

func Example() {
	dir, err := os.MkdirTemp("", "telemetry-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "trace.jsonl")

	ctx := context.Background()
	tel, err := telemetry.Setup(ctx, telemetry.Options{TraceFile: path, Version: "v0.1.0", Getenv: noEnv})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tel.Shutdown(ctx) // harmless after the explicit call below
	fmt.Println("enabled:", tel.Enabled())

	tr := tel.Tracer()
	ctx, run := tr.Start(ctx, "run",
		trace.WithAttributes(telemetry.RunAttributes("u1", 8, map[string]float64{"beta": 2})...))
	_, prod := tr.Start(ctx, "production")
	prod.End()
	run.End()
	if err := tel.Shutdown(ctx); err != nil {
		fmt.Println(err)
		return
	}

	f, err := os.Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	reqs, err := telemetry.ReadTraceFile(f) // one ExportTraceServiceRequest per line
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, req := range reqs {
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					fmt.Println("span:", s.GetName())
				}
			}
		}
	}
	// Output:
	// enabled: true
	// span: production
	// span: run
}

func ExampleSetup_off() {
	tel, err := telemetry.Setup(context.Background(), telemetry.Options{Getenv: noEnv})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, span := tel.Tracer().Start(context.Background(), "run")
	span.End()
	fmt.Println("enabled:", tel.Enabled(), "recording:", span.IsRecording())
	// Output:
	// enabled: false recording: false
}

func ExampleRunAttributes() {
	for _, kv := range telemetry.RunAttributes("phi4", 8, map[string]float64{"m2": -4, "lambda": 8}) {
		fmt.Printf("%s=%s\n", kv.Key, kv.Value.Emit())
	}
	// Output:
	// latflow.theory=phi4
	// latflow.L=8
	// latflow.lambda=8
	// latflow.m2=-4
}
