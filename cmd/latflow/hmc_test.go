package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestHMCUnboundedAction: phi^4 at --lambda 0 with a mass term that leaves
// the action unbounded below (the default --m2 -4 among them) or flat is
// refused as such with exit 2, naming --lambda and the coupling; a free
// field with a positive mass term runs.
func TestHMCUnboundedAction(t *testing.T) {
	phi4 := []string{"hmc", "--theory", "phi4", "--L", "8", "--n", "50", "--therm", "40", "--lambda", "0"}
	for _, c := range []struct {
		name string
		args []string
		want []string // in the message
	}{
		{"default m2", nil, []string{"--lambda 0", "--m2 -4 (the default)", "unbounded below", "--m2 > 0"}},
		{"m2 zero", []string{"--m2", "0"}, []string{"--lambda 0", "--m2 0", "unbounded below (or flat)"}},
		{"m2 negative", []string{"--m2", "-1"}, []string{"--m2 -1", "unbounded below"}},
		{"kappa 1/4", []string{"--kappa", "0.25"}, []string{"--lambda 0", "--kappa 0.25", "--kappa < 0.25"}},
		{"kappa large", []string{"--kappa", "0.3"}, []string{"--kappa 0.3", "unbounded below"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, append(append([]string(nil), phi4...), c.args...)...)
			if code != exitUsage {
				t.Errorf("got exit %d, want %d (stderr %q)", code, exitUsage, errs)
			}
			for _, w := range c.want {
				if !strings.Contains(errs, w) {
					t.Errorf("got message %q, want it to contain %q", errs, w)
				}
			}
			if strings.Contains(errs, "raise --md-steps") || out != "" {
				t.Errorf("got stdout %q and message %q: the run started", out, errs)
			}
		})
	}
	free := []string{"hmc", "--theory", "phi4", "--L", "4", "--n", "200", "--therm", "40", "--lambda", "0"}
	for _, args := range [][]string{{"--m2", "0.5"}, {"--kappa", "0.2"}} {
		if code, _, errs := runCLI(t, append(append([]string(nil), free...), args...)...); code != exitOK {
			t.Errorf("free field %v: got exit %d (%s), want %d", args, code, errs, exitOK)
		}
	}
}

// TestHMCThermTooShortToTune: with tuned leapfrog steps, an hmc run that
// accepts nothing because --therm is shorter than one tuning block says
// that thermalization is too short to tune, not "raise --md-steps" (the
// steps are tuned, not the user's); with --md-steps given, the step size is
// what to change. A run shorter than one block that does accept reports
// its steps as not tuned.
func TestHMCThermTooShortToTune(t *testing.T) {
	code, _, errs := runCLI(t, "hmc", "--theory", "phi4", "--L", "8", "--n", "50", "--therm", "19")
	if code != exitFailed {
		t.Errorf("--therm 19: got exit %d, want %d (stderr %q)", code, exitFailed, errs)
	}
	for _, w := range []string{"thermalization is too short to tune", "--therm 19", "one tuning block of 20", "raise --therm"} {
		if !strings.Contains(errs, w) {
			t.Errorf("--therm 19: got message %q, want it to contain %q", lastLine(errs), w)
		}
	}
	if strings.Contains(errs, "raise --md-steps") {
		t.Errorf("--therm 19: got message %q, which blames --md-steps", lastLine(errs))
	}

	code, _, errs = runCLI(t, "hmc", "--theory", "phi4", "--L", "8", "--n", "50", "--therm", "19", "--md-steps", "10")
	if code != exitFailed || !strings.Contains(errs, "raise --md-steps") {
		t.Errorf("--md-steps 10: got exit %d and %q, want %d and raise --md-steps", code, lastLine(errs), exitFailed)
	}

	code, out, errs := runCLI(t, "hmc", "--theory", "phi4", "--L", "4", "--m2", "1", "--lambda", "0", "--n", "50", "--therm", "5", "--json")
	if code != exitOK {
		t.Fatalf("free field, --therm 5: exit %d: %s", code, errs)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Sampler, "not tuned: --therm 5") || strings.Contains(r.Sampler, ", tuned") {
		t.Errorf("--therm 5: got sampler %q, want its steps marked not tuned", r.Sampler)
	}
}
