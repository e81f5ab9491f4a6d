package telemetry

import (
	"fmt"
	"net/url"
	"strings"
)

// Standard OTLP exporter environment variables read through Options.Getenv.
const (
	envEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	envProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	envTracesProtocol = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
)

// tracesPath is appended to OTEL_EXPORTER_OTLP_ENDPOINT, per the OTLP
// exporter specification.
const tracesPath = "/v1/traces"

// otlpEndpoint returns the full OTLP/HTTP traces URL the environment asks
// for, or "" when OTLP export is off. The per-signal variable wins and is
// used as is; the general one is a base URL.
func otlpEndpoint(getenv func(string) string) (string, error) {
	for _, name := range []string{envTracesProtocol, envProtocol} {
		if p := strings.TrimSpace(getenv(name)); p == "grpc" {
			return "", fmt.Errorf("telemetry: %s=%s is not supported; use http/protobuf", name, p)
		}
	}
	name, perSignal := envTracesEndpoint, true
	raw := strings.TrimSpace(getenv(name))
	if raw == "" {
		name, perSignal = envEndpoint, false
		raw = strings.TrimSpace(getenv(name))
	}
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("telemetry: %s: %w", name, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("telemetry: %s=%q: want an http:// or https:// URL with a host", name, raw)
	}
	switch {
	case perSignal && u.Path == "":
		u.Path = "/"
	case !perSignal:
		u.Path = strings.TrimSuffix(u.Path, "/") + tracesPath
	}
	return u.String(), nil
}
