package ensemble_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"latflow/ensemble"
	"latflow/gauge"
	"latflow/lattice"
)

func TestTargetValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		t    ensemble.Target
		want string // "" for valid, else a substring of the error
	}{
		{"u1", ensemble.NewU1(16, 3), ""},
		{"phi4 standard", ensemble.NewPhi4Standard(8, -4, 8), ""},
		{"phi4 hopping", ensemble.NewPhi4Hopping(8, 0.3, 0.022), ""},
		{"unknown theory", ensemble.Target{Theory: "su2", L: 8}, `theory "su2"`},
		{"L small", ensemble.NewU1(2, 3), "L=2"},
		{"L huge", ensemble.NewU1(1<<40, 3), "L=1099511627776"},
		{"beta zero", ensemble.NewU1(8, 0), "beta=0"},
		{"beta NaN", ensemble.NewU1(8, math.NaN()), "beta=NaN"},
		{"beta Inf", ensemble.NewU1(8, math.Inf(1)), "beta=+Inf"},
		{"m2 NaN", ensemble.NewPhi4Standard(8, math.NaN(), 8), "m2=NaN"},
		{"lambda Inf", ensemble.NewPhi4Standard(8, -4, math.Inf(1)), "lambda=+Inf"},
		{"lambda negative", ensemble.NewPhi4Hopping(8, 0.3, -1), "lambda=-1"},
		{"kappa NaN", ensemble.NewPhi4Hopping(8, math.NaN(), 0.1), "kappa=NaN"},
		{"u1 with phi4 coupling", ensemble.Target{Theory: ensemble.U1, L: 8, Couplings: map[string]float64{"beta": 1, "m2": 1}}, "couplings [beta m2]"},
		{"phi4 missing coupling", ensemble.Target{Theory: ensemble.Phi4, L: 8, Parametrization: "standard", Couplings: map[string]float64{"m2": 1}}, "want exactly [m2 lambda]"},
		{"phi4 no parametrization", ensemble.Target{Theory: ensemble.Phi4, L: 8, Couplings: map[string]float64{"m2": 1, "lambda": 1}}, `parametrization ""`},
		{"u1 with parametrization", ensemble.Target{Theory: ensemble.U1, L: 8, Parametrization: "standard", Couplings: map[string]float64{"beta": 1}}, `parametrization "standard"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.t.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("got error %v, want none", err)
			case c.want != "" && err == nil:
				t.Fatalf("got no error, want one containing %q", c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Fatalf("got error %q, want one containing %q", err, c.want)
			}
		})
	}
}

func TestTargetDiffAndJSON(t *testing.T) {
	a := ensemble.NewU1(16, 3)
	if name, _, _ := a.Diff(a.Clone()); name != "" {
		t.Errorf("Diff of a clone: got %q, want none", name)
	}
	for _, c := range []struct {
		b          ensemble.Target
		name, x, y string
	}{
		{ensemble.NewU1(8, 3), "L", "16", "8"},
		{ensemble.NewU1(16, 2.5), "beta", "3", "2.5"},
		{ensemble.NewPhi4Standard(16, -4, 8), "theory", "u1", "phi4"},
	} {
		name, x, y := a.Diff(c.b)
		if name != c.name || x != c.x || y != c.y {
			t.Errorf("Diff(%v): got (%q, %q, %q), want (%q, %q, %q)", c.b, name, x, y, c.name, c.x, c.y)
		}
	}
	h := ensemble.NewPhi4Hopping(8, 0.3, 0.022)
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"theory":"phi4","L":8,"couplings":{"kappa":0.3,"lambda":0.022},"parametrization":"hopping"}`
	if string(b) != want {
		t.Errorf("JSON: got %s, want %s", b, want)
	}
	var back ensemble.Target
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(h) {
		t.Errorf("JSON round trip: got %v (%v), want %v", back, err, h)
	}
}

func TestTargetAction(t *testing.T) {
	g := lattice.NewGeometry(8)
	if a, ok := ensemble.NewU1(8, 2).Action(g).(gauge.WilsonAction); !ok || a.Beta != 2 {
		t.Errorf("u1 action: got %#v, want WilsonAction with beta 2", a)
	}
	if a, ok := ensemble.NewPhi4Hopping(8, 0.3, 0.02).Action(g).(lattice.Phi4Action); !ok || a.Param != lattice.Hopping || a.Kappa != 0.3 {
		t.Errorf("phi4 action: got %v, want hopping kappa=0.3", a)
	}
	if a, ok := ensemble.NewPhi4Standard(8, -4, 8).Action(g).(lattice.Phi4Action); !ok || a.Param != lattice.Standard || a.M2 != -4 {
		t.Errorf("phi4 action: got %v, want standard m2=-4", a)
	}
	if got := ensemble.NewU1(8, 2).Size(); got != 128 {
		t.Errorf("u1 Size: got %d, want 128", got)
	}
	if got := ensemble.NewPhi4Standard(8, 1, 1).Size(); got != 64 {
		t.Errorf("phi4 Size: got %d, want 64", got)
	}
}

func TestSchwingerTarget(t *testing.T) {
	good := ensemble.NewSchwinger(8, 2, 0.26)
	if err := good.Validate(); err != nil {
		t.Fatalf("valid target: %v", err)
	}
	if good.Size() != 2*64 || good.ConfigName() != "links" || !good.Gauge() {
		t.Errorf("size %d, config %q, gauge %v: want the U(1) links", good.Size(), good.ConfigName(), good.Gauge())
	}
	for _, c := range []struct {
		name string
		t    ensemble.Target
		want string
	}{
		{"odd L", ensemble.NewSchwinger(7, 2, 0.26), "L=7"},
		{"kappa zero", ensemble.NewSchwinger(8, 2, 0), "kappa=0"},
		{"kappa above 0.5", ensemble.NewSchwinger(8, 2, 0.51), "kappa=0.51"},
		{"no kappa", ensemble.Target{Theory: ensemble.Schwinger, L: 8, Couplings: map[string]float64{ensemble.Beta: 2}}, "couplings"},
		{"parametrization", ensemble.Target{Theory: ensemble.Schwinger, L: 8, Couplings: map[string]float64{ensemble.Beta: 2, ensemble.Kappa: 0.2}, Parametrization: "hopping"}, "parametrization"},
	} {
		err := c.t.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %q", c.name, err, c.want)
		}
	}
	if name, _, _ := good.Diff(ensemble.NewSchwinger(8, 2, 0.27)); name != ensemble.Kappa {
		t.Errorf("Diff names %q, want kappa", name)
	}
	if name, _, _ := good.Diff(ensemble.NewU1(8, 2)); name != "theory" {
		t.Errorf("Diff with U(1) names %q, want theory", name)
	}
}
