package main

import (
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"latflow/flow"
)

// TestTrainSplineCoupling trains a spline flow a few steps with the fast
// path and with the forward objective, and checks the model file (its
// coupling, the parameter count of 3K-1 output channels) and that the
// model loads and samples.
func TestTrainSplineCoupling(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "spline.flow")
	code, stdout, errs := runCLI(t, trainArgs(out, "--coupling", "spline", "--spline-bins", "4", "--spline-bound", "3",
		"--steps", "3", "--eval", "500", "--json")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r struct {
		Description string                       `json:"description"`
		Eval        struct{ Acceptance float64 } `json:"evaluation"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	m, err := flow.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Config; c.Coupling != flow.CouplingSpline || c.Bins != 4 || c.SplineBound != 3 {
		t.Fatalf("model config coupling %q, bins %d, bound %g; want spline, 4, 3", c.Coupling, c.Bins, c.SplineBound)
	}
	aff := m.Config
	aff.Coupling, aff.Bins, aff.SplineBound = "", 0, 0
	fa, err := flow.New[float64](aff, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	// 3K-1 = 11 output channels instead of 2 in every last convolution
	// (hidden 4, kernel 3, 2 layers): 2 layers * 9 channels * (4*9 weights + 1 bias) more.
	if got, want := len(m.Params), fa.NumParams()+2*9*(4*9+1); got != want {
		t.Errorf("spline model has %d parameters, want %d (the affine flow's %d and 9 more output channels per layer)", got, want, fa.NumParams())
	}
	if !(r.Eval.Acceptance > 0) {
		t.Errorf("evaluation acceptance %v, want > 0", r.Eval.Acceptance)
	}
	if code, _, errs := runCLI(t, "sample", "--model", out, "--theory", "phi4", "--L", "4", "--n", "50", "--therm", "0"); code != exitOK {
		t.Errorf("sample with the spline model: exit %d: %s", code, errs)
	}
	data := hmcData(t, "1", "--theory", "phi4", "--L", "4", "--m2", "-1", "--lambda", "0.5")
	fwd := filepath.Join(dir, "fwd.flow")
	if code, _, errs := runCLI(t, trainArgs(fwd, "--coupling", "spline", "--objective", "forward", "--data", data, "--steps", "3")...); code != exitOK {
		t.Errorf("forward objective with --coupling spline: exit %d: %s", code, errs)
	}
}

// TestTrainSplineCouplingBadInput checks the usage errors of --coupling,
// --spline-bins and --spline-bound.
func TestTrainSplineCouplingBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown coupling", trainArgs(filepath.Join(dir, "a"), "--coupling", "cubic"), "--coupling"},
		{"bins without spline", trainArgs(filepath.Join(dir, "b"), "--spline-bins", "4"), "--spline-bins"},
		{"bound without spline", trainArgs(filepath.Join(dir, "c"), "--spline-bound", "4"), "--spline-bound"},
		{"one bin", trainArgs(filepath.Join(dir, "d"), "--coupling", "spline", "--spline-bins", "1"), "--spline-bins"},
		{"too many bins", trainArgs(filepath.Join(dir, "e"), "--coupling", "spline", "--spline-bins", "65"), "--spline-bins"},
		{"zero bound", trainArgs(filepath.Join(dir, "f"), "--coupling", "spline", "--spline-bound", "0"), "--spline-bound"},
		{"NaN bound", trainArgs(filepath.Join(dir, "g"), "--coupling", "spline", "--spline-bound", "NaN"), "--spline-bound"},
		{"spline for u1", []string{"train", "--theory", "u1", "--L", "8", "--coupling", "spline", "--out", filepath.Join(dir, "h")}, "--coupling"},
	}
	for _, c := range cases {
		code, _, errs := runCLI(t, c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d naming %s", c.name, code, errs, exitUsage, c.want)
		}
	}
}
