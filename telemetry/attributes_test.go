package telemetry

import (
	"math"
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
	for _, name := range []string{"", "theory", "L", "steps", "acceptance", "ess", "log_z", "log_z_error"} {
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

func TestTotalsAttributes(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		totals Totals
		want   []attribute.KeyValue
	}{
		{"imh", Totals{Steps: 2000, Acceptance: 0.5, ESS: 0.25, LogZ: -3.5, LogZError: 0.125},
			[]attribute.KeyValue{KeySteps.Int64(2000), KeyAcceptance.Float64(0.5), KeyESS.Float64(0.25), KeyLogZ.Float64(-3.5), KeyLogZError.Float64(0.125)}},
		{"hmc", Totals{Steps: 300, Acceptance: 0.9, ESS: nan, LogZ: nan, LogZError: nan},
			[]attribute.KeyValue{KeySteps.Int64(300), KeyAcceptance.Float64(0.9)}},
		{"infinite", Totals{Steps: 1, Acceptance: math.Inf(1), ESS: math.Inf(-1), LogZ: nan, LogZError: nan},
			[]attribute.KeyValue{KeySteps.Int64(1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.totals.Attributes()
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("attribute %d: got %s=%v, want %s=%v", i, got[i].Key, got[i].Value.Emit(), tc.want[i].Key, tc.want[i].Value.Emit())
				}
			}
		})
	}
}
