package telemetry

import (
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
)

func TestRunAttributes(t *testing.T) {
	got := RunAttributes("phi4", 16, map[string]float64{"m2": -4, "lambda": 8})
	want := []attribute.KeyValue{
		attribute.String("latflow.theory", "phi4"),
		attribute.Int("latflow.L", 16),
		attribute.Float64("latflow.lambda", 8),
		attribute.Float64("latflow.m2", -4),
	}
	if len(got) != len(want) {
		t.Fatalf("got %d attributes %v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("attribute %d: got %s=%v, want %s=%v", i, got[i].Key, got[i].Value.Emit(), want[i].Key, want[i].Value.Emit())
		}
	}
}

func TestCouplingKeyPanics(t *testing.T) {
	for _, name := range []string{"", "theory", "L"} {
		t.Run("name="+name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.HasPrefix(s, "telemetry: ") {
					t.Errorf("got panic %v, want one starting with \"telemetry: \"", r)
				}
			}()
			CouplingKey(name)
		})
	}
}
