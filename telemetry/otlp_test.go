package telemetry

import "testing"

func TestOTLPEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name        string
		env         map[string]string
		want        string
		wantInvalid bool
	}{
		{"unset", nil, "", false},
		{"base", map[string]string{envEndpoint: "http://collector:4318"}, "http://collector:4318/v1/traces", false},
		{"base_slash", map[string]string{envEndpoint: "http://collector:4318/"}, "http://collector:4318/v1/traces", false},
		{"base_path", map[string]string{envEndpoint: "https://host/otlp"}, "https://host/otlp/v1/traces", false},
		{"traces_as_is", map[string]string{envTracesEndpoint: "http://host:4318/custom"}, "http://host:4318/custom", false},
		{"traces_no_path", map[string]string{envTracesEndpoint: "http://host:4318"}, "http://host:4318/", false},
		{"traces_wins", map[string]string{envEndpoint: "http://a:1", envTracesEndpoint: "http://b:2/t"}, "http://b:2/t", false},
		{"no_scheme", map[string]string{envEndpoint: "collector:4318"}, "", true},
		{"no_host", map[string]string{envEndpoint: "http:///v1"}, "", true},
		{"grpc", map[string]string{envEndpoint: "http://a:1", envTracesProtocol: "grpc"}, "", true},
		{"http_json", map[string]string{envEndpoint: "http://a:1", envProtocol: "http/json"}, "http://a:1/v1/traces", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := otlpEndpoint(envMap(tc.env))
			if (err != nil) != tc.wantInvalid {
				t.Fatalf("got error %v, want error: %v", err, tc.wantInvalid)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
