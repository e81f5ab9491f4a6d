package models_test

import (
	"strings"
	"testing"

	"latflow/ensemble"
	"latflow/flow"
	"latflow/models"
)

// minEvalSamples is the least number of fresh proposals a shipped model's
// ESS and acceptance are measured on.
const minEvalSamples = 100000

func TestShippedModels(t *testing.T) {
	list, err := models.List()
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]int{}
	for _, m := range list {
		if err := m.Target.Validate(); err != nil {
			t.Errorf("%s: training target: %v", m.Name, err)
		}
		if m.Config.Theory != flow.TheoryFor(m.Target.Theory) { // a u1 flow for the Schwinger model
			t.Errorf("%s: flow for %s trained for %s", m.Name, m.Config.Theory, m.Target.Theory)
		}
		if len(m.SHA256) != 64 {
			t.Errorf("%s: SHA-256 %q", m.Name, m.SHA256)
		}
		if m.Default {
			defaults[m.Target.Theory]++
		}
		// Provenance: how it was trained, and its quality measured on at
		// least 100k fresh proposals.
		p := m.Provenance
		if len(p.Commands) == 0 || p.Steps < 1 || !(p.WallSeconds > 0) {
			t.Errorf("%s: provenance %+v lacks the training commands, steps or wall time", m.Name, p)
		}
		if e := p.Eval; e == nil || e.Samples < minEvalSamples || !(e.ESS > 0 && e.ESS <= 1) || !(e.Acceptance > 0 && e.Acceptance <= 1) {
			t.Errorf("%s: evaluation %+v, want ESS and acceptance on at least %d fresh proposals", m.Name, e, minEvalSamples)
		}
	}
	for _, theory := range []string{ensemble.U1, ensemble.Phi4} {
		if defaults[theory] != 1 {
			t.Errorf("theory %s: got %d default models, want 1", theory, defaults[theory])
		}
		info, b, err := models.Default(theory)
		if err != nil || !info.Default || info.Target.Theory != theory || len(b) == 0 {
			t.Errorf("Default(%s): got %s (default %v, %d bytes, %v)", theory, info.Name, info.Default, len(b), err)
		}
	}
	if _, _, err := models.Default("su3"); err == nil || !strings.Contains(err.Error(), "su3") {
		t.Errorf("Default(su3): got %v, want an error naming su3", err)
	}
	if _, _, err := models.Get("../models"); err == nil {
		t.Errorf("Get(../models): got no error")
	}
}

func TestGetUnknownListsNames(t *testing.T) {
	names := models.Names()
	if len(names) < 2 {
		t.Fatalf("Names: got %v, want the shipped models", names)
	}
	_, _, err := models.Get("nope")
	if err == nil {
		t.Fatal("Get(nope): got no error")
	}
	for _, want := range append(names, `"nope"`) {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Get(nope): error %q does not name %s", err, want)
		}
	}
}
