package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"latflow/ensemble"
	"latflow/flow"
	"latflow/models"
)

// testRegistry puts a registry of tiny untrained models in place of the
// shipped ones for the test: a phi^4 model trained for hopping L=8,
// kappa=0.27, lambda=0.022 (total_wall_seconds 1234) and the phi^4
// default, a standard L=4 model.
func testRegistry(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	crit := filepath.Join(dir, "phi4-L8-k0.27-l0.022.flow")
	writeModel(t, crit, flow.Config{Theory: "phi4", L: 8, Layers: 2, Hidden: []int{4}, Kernel: 3}, ensemble.NewPhi4Hopping(8, 0.27, 0.022))
	m, err := flow.Load(crit)
	if err != nil {
		t.Fatal(err)
	}
	m.Provenance = flow.Provenance{Version: "test", Steps: 10, Estimator: "reverse fast-path", WallSeconds: 1000, TotalWallSeconds: 1234, TotalCPUSeconds: 1200}
	if err := flow.Save(crit, m); err != nil {
		t.Fatal(err)
	}
	writeModel(t, filepath.Join(dir, "phi4-def.flow"), flow.Config{Theory: "phi4", L: 4, Layers: 2, Hidden: []int{4}, Kernel: 3}, ensemble.NewPhi4Standard(4, -1, 0.5))
	saved := shippedModels
	shippedModels = models.NewRegistry(os.DirFS(dir), map[string]string{ensemble.Phi4: "phi4-def"})
	t.Cleanup(func() { shippedModels = saved })
}

// TestSamplePicksShippedModel: without --model, sample uses the shipped
// model trained for the target (and says so), the default elsewhere, and
// reports the picked model's total training time; models lists it with
// its total.
func TestSamplePicksShippedModel(t *testing.T) {
	testRegistry(t)
	run := func(args ...string) jsonReport {
		return sampleJSON(t, append([]string{"sample", "--theory", "phi4", "--n", "100", "--therm", "10", "--batch", "50"}, args...)...)
	}
	r := run("--L", "8", "--kappa", "0.27", "--lambda", "0.022")
	if !strings.Contains(r.Sampler, "shipped:phi4-L8-k0.27-l0.022") || r.TrainingSeconds != 1234 {
		t.Errorf("at the model's target: sampler %q, training_seconds %g; want shipped:phi4-L8-k0.27-l0.022 and its total 1234", r.Sampler, r.TrainingSeconds)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "no --model: shipped:phi4-L8-k0.27-l0.022, the shipped model trained for this target") {
		t.Errorf("at the model's target: notes %q, want one saying the shipped model trained for this target was picked", r.Notes)
	}
	for _, args := range [][]string{
		{"--L", "16", "--kappa", "0.27", "--lambda", "0.022"},
		{"--L", "8", "--kappa", "0.28", "--lambda", "0.022"},
		{"--L", "8", "--m2", "-1", "--lambda", "0.5"},
	} {
		r := run(args...)
		if !strings.Contains(r.Sampler, "shipped:phi4-def") || strings.Contains(strings.Join(r.Notes, "\n"), "no --model:") {
			t.Errorf("%v: sampler %q, notes %q; want the default shipped:phi4-def as before", args, r.Sampler, r.Notes)
		}
	}
	// --model still wins.
	r = run("--L", "8", "--kappa", "0.27", "--lambda", "0.022", "--model", "shipped:phi4-def")
	if !strings.Contains(r.Sampler, "shipped:phi4-def") {
		t.Errorf("--model shipped:phi4-def: sampler %q", r.Sampler)
	}

	code, out, errs := runCLI(t, "models", "--json")
	if code != exitOK {
		t.Fatalf("models --json: exit %d: %s", code, errs)
	}
	var list []struct {
		Name string          `json:"name"`
		Prov flow.Provenance `json:"provenance"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "phi4-L8-k0.27-l0.022" || list[0].Prov.TotalWallSeconds != 1234 || list[0].Prov.TotalCPUSeconds != 1200 {
		t.Errorf("models --json: got %+v, want the two test models, the first with total_wall_seconds 1234 and total_cpu_seconds 1200", list)
	}
	code, out, _ = runCLI(t, "models")
	if code != exitOK || !strings.Contains(out, "1234 s") {
		t.Errorf("models: exit %d, output %q, want the total training time 1234 s", code, out)
	}
}

// TestSamplePicksShippedSchwingerModel: sample --theory schwinger without
// --model or --proposal takes the shipped model trained for the target
// (beta and kappa) and the plaquette proposal elsewhere; models --json
// lists the model's target with both couplings.
func TestSamplePicksShippedSchwingerModel(t *testing.T) {
	dir := t.TempDir()
	const name = "schwinger-L4-b2-k0.2"
	file := filepath.Join(dir, name+".flow")
	if code, _, errs := runCLI(t, "train", "--theory", "schwinger", "--L", "4", "--beta", "2", "--kappa", "0.2",
		"--layers", "2", "--hidden", "4", "--batch", "8", "--steps", "3", "--out", file); code != exitOK {
		t.Fatalf("train: exit %d: %s", code, errs)
	}
	saved := shippedModels
	shippedModels = models.NewRegistry(os.DirFS(dir), map[string]string{})
	t.Cleanup(func() { shippedModels = saved })

	run := func(args ...string) jsonReport {
		return sampleJSON(t, append([]string{"sample", "--theory", "schwinger", "--L", "4", "--beta", "2", "--n", "100", "--therm", "10", "--seed", "2"}, args...)...)
	}
	r := run("--kappa", "0.2")
	if !strings.Contains(r.Sampler, models.Prefix+name) || !strings.Contains(strings.Join(r.Notes, "\n"), "no --model: "+models.Prefix+name) {
		t.Errorf("at the model's target: sampler %q, notes %q; want %s%s, picked with a note", r.Sampler, r.Notes, models.Prefix, name)
	}
	for _, args := range [][]string{{"--kappa", "0.21"}, {"--kappa", "0.2", "--proposal", "plaquettes"}} {
		r := run(args...)
		if !strings.Contains(r.Sampler, "plaquettes") || strings.Contains(r.Sampler, models.Prefix) {
			t.Errorf("%v: sampler %q, want the plaquette proposal", args, r.Sampler)
		}
	}

	code, out, errs := runCLI(t, "models", "--json")
	if code != exitOK {
		t.Fatalf("models --json: exit %d: %s", code, errs)
	}
	var list []struct {
		Name   string          `json:"name"`
		Target ensemble.Target `json:"target"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != name || list[0].Target.Theory != ensemble.Schwinger ||
		list[0].Target.Couplings[ensemble.Beta] != 2 || list[0].Target.Couplings[ensemble.Kappa] != 0.2 {
		t.Errorf("models --json: got %+v, want %s with theory schwinger, beta 2 and kappa 0.2", list, name)
	}
}

// TestSampleSchwingerShippedAtTarget: each shipped Schwinger model is
// what sample --theory schwinger takes at its training target without
// --model or --proposal.
func TestSampleSchwingerShippedAtTarget(t *testing.T) {
	list, err := models.List()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range list {
		tg := m.Target
		if tg.Theory != ensemble.Schwinger {
			continue
		}
		n++
		r := sampleJSON(t, "sample", "--theory", "schwinger", "--L", fmt.Sprint(tg.L), "--beta", fmt.Sprint(tg.Couplings[ensemble.Beta]),
			"--kappa", fmt.Sprint(tg.Couplings[ensemble.Kappa]), "--n", "30", "--therm", "0", "--batch", "30")
		if !strings.Contains(r.Sampler, models.Prefix+m.Name) {
			t.Errorf("at the target of %s: sampler %q, want the shipped model", m.Name, r.Sampler)
		}
	}
	if n == 0 {
		t.Skip("no Schwinger model is shipped")
	}
}
