package models_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"testing/fstest"

	"latflow/ensemble"
	"latflow/flow"
	"latflow/models"
)

// modelFile returns the bytes of a tiny untrained model file for target t,
// with an evaluation of the given acceptance (none if acc is 0).
func modelFile(t *testing.T, target ensemble.Target, acc float64) []byte {
	t.Helper()
	cfg := flow.Config{Theory: flow.TheoryFor(target.Theory), L: target.L, Layers: 2, Mixtures: 2, Hidden: []int{4}, Kernel: 3}
	if cfg.Theory == flow.TheoryPhi4 {
		cfg.Mixtures = 0
	}
	f, err := flow.New[float64](cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	m := flow.NewModel(f)
	m.Target = target
	m.Provenance = flow.Provenance{Version: "test", Steps: 1, Estimator: "reverse standard", WallSeconds: 1}
	if acc > 0 {
		m.Provenance.Eval = &flow.Evaluation{Samples: 1000, ESS: acc / 2, Acceptance: acc}
	}
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRegistryForTarget: a registry finds the model trained for a target:
// the same theory, L and action, phi^4 couplings of the other
// parametrization included when they give the same action (kappa=1,
// lambda=0.5 is m2=-4, lambda=0.5); not another L, a coupling off by
// 1e-3, or the couplings that only a field rescaling makes equivalent.
// Among two models of one target it picks the higher acceptance.
func TestRegistryForTarget(t *testing.T) {
	crit := ensemble.NewPhi4Hopping(8, 0.27, 0.022)
	fsys := fstest.MapFS{
		"phi4-L8-k0.27-l0.022.flow":        {Data: modelFile(t, crit, 0.4)},
		"phi4-L8-k0.27-l0.022-better.flow": {Data: modelFile(t, crit, 0.7)},
		"phi4-L8-k1-l0.5.flow":             {Data: modelFile(t, ensemble.NewPhi4Hopping(8, 1, 0.5), 0)},
		"phi4-L4-m2-1-l0.5.flow":           {Data: modelFile(t, ensemble.NewPhi4Standard(4, -1, 0.5), 0.9)},
		"u1-L8-beta2.flow":                 {Data: modelFile(t, ensemble.NewU1(8, 2), 0.9)},
		"notes.txt":                        {Data: []byte("not a model")},
	}
	r := models.NewRegistry(fsys, map[string]string{ensemble.Phi4: "phi4-L4-m2-1-l0.5", ensemble.U1: "u1-L8-beta2"})
	if got := r.Names(); len(got) != 5 {
		t.Fatalf("Names: got %v, want the five .flow files", got)
	}
	// kappa, lambda of the hopping target, rescaled to the standard
	// parametrization: phi_s = sqrt(kappa) phi_h gives m2 = (1-2 lambda)/kappa - 4
	// and lambda_s = lambda/kappa^2, the same physics in another field.
	k, l := 0.27, 0.022
	rescaled := ensemble.NewPhi4Standard(8, (1-2*l)/k-4, l/(k*k))
	for _, c := range []struct {
		target ensemble.Target
		want   string // "" for none
	}{
		{crit, "phi4-L8-k0.27-l0.022-better"},
		{ensemble.NewPhi4Hopping(16, 0.27, 0.022), ""},
		{ensemble.NewPhi4Hopping(8, 0.271, 0.022), ""},
		{ensemble.NewPhi4Hopping(8, 0.27, 0.023), ""},
		{rescaled, ""},
		{ensemble.NewPhi4Standard(8, -4, 0.5), "phi4-L8-k1-l0.5"},
		{ensemble.NewPhi4Standard(4, -1, 0.5), "phi4-L4-m2-1-l0.5"},
		{ensemble.NewU1(8, 2), "u1-L8-beta2"},
		{ensemble.NewU1(8, 2.5), ""},
		{ensemble.NewU1(16, 2), ""},
		{ensemble.NewSchwinger(8, 2, 0.2), ""},
	} {
		info, b, ok, err := r.ForTarget(c.target)
		if err != nil {
			t.Fatalf("%s: %v", c.target, err)
		}
		if ok != (c.want != "") || info.Name != c.want || ok && len(b) == 0 {
			t.Errorf("%s: got %q (found %v, %d bytes), want %q", c.target, info.Name, ok, len(b), c.want)
		}
	}
	if info, _, err := r.Default(ensemble.Phi4); err != nil || info.Name != "phi4-L4-m2-1-l0.5" || !info.Default {
		t.Errorf("Default(phi4): got %q (default %v, %v)", info.Name, info.Default, err)
	}
	// A broken model file is an error, not a silent miss.
	fsys["phi4-L8-broken.flow"] = &fstest.MapFile{Data: []byte("LATFLOWM broken")}
	if _, _, _, err := r.ForTarget(crit); err == nil || !strings.Contains(err.Error(), "phi4-L8-broken") {
		t.Errorf("broken model file: got %v, want an error naming it", err)
	}
}

// TestShippedForTarget: each shipped model is found for its own training
// target.
func TestShippedForTarget(t *testing.T) {
	list, err := models.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		info, _, ok, err := models.ForTarget(m.Target)
		if err != nil || !ok || !models.SameAction(info.Target, m.Target) {
			t.Errorf("%s: ForTarget(%s) gave %q (%v, %v), want a model trained for it", m.Name, m.Target, info.Name, ok, err)
		}
	}
}
