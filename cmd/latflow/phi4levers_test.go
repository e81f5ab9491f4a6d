package main

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"latflow/flow"
)

// TestTrainPhi4Levers trains on the gauss-k base with the propagator of an
// HMC dataset and --z2, and checks the model file and its evaluation.
func TestTrainPhi4Levers(t *testing.T) {
	data := hmcData(t, "1", "--theory", "phi4", "--L", "4", "--m2", "-1", "--lambda", "0.5")
	out := filepath.Join(t.TempDir(), "lev.flow")
	stdout := runOK(t, trainArgs(out, "--base", "gauss-k", "--base-propagator", data, "--z2",
		"--layer-init", "identity", "--steps", "2", "--lr", "1e-6", "--eval", "4000", "--json")...)
	var r struct {
		Eval struct{ Acceptance float64 } `json:"evaluation"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	m := loadFlow(t, out)
	if m.Config.Base != flow.BaseGaussK || len(m.Config.BasePropagator) != 16 || !m.Config.Z2 {
		t.Fatalf("model config %+v, want base gauss-k with 16 propagator values and z2", m.Config)
	}
	// The base alone (identity layers): the measured propagator accepts
	// about 0.27 at this point, the N(0, 1) base about 0.002.
	normal := filepath.Join(t.TempDir(), "normal.flow")
	stdout2 := runOK(t, trainArgs(normal, "--layer-init", "identity", "--steps", "2", "--lr", "1e-6", "--eval", "4000", "--json")...)
	var rn struct {
		Eval struct{ Acceptance float64 } `json:"evaluation"`
	}
	if err := json.Unmarshal([]byte(stdout2), &rn); err != nil {
		t.Fatal(err)
	}
	if r.Eval.Acceptance < 0.15 || r.Eval.Acceptance < 10*rn.Eval.Acceptance {
		t.Errorf("acceptance of the base: gauss-k %v, normal %v; want gauss-k > 0.15 and 10x normal", r.Eval.Acceptance, rn.Eval.Acceptance)
	}
}

// TestTrainPhi4LeversBadInput checks the usage errors of --base gauss-k,
// --base-propagator and --z2.
func TestTrainPhi4LeversBadInput(t *testing.T) {
	data := hmcData(t, "1", "--theory", "phi4", "--L", "4", "--m2", "-1", "--lambda", "0.5")
	data6 := hmcData(t, "1", "--theory", "phi4", "--L", "6", "--m2", "-1", "--lambda", "0.5")
	noConfigs := hmcData(t, "0", "--theory", "phi4", "--L", "4", "--m2", "-1", "--lambda", "0.5")
	dir := t.TempDir()
	checkUsageErrors(t, []usageCase{
		{"gauss-k without propagator", trainArgs(filepath.Join(dir, "a"), "--base", "gauss-k"), "--base-propagator"},
		{"propagator without gauss-k", trainArgs(filepath.Join(dir, "b"), "--base-propagator", data), "--base-propagator"},
		{"propagator at another L", trainArgs(filepath.Join(dir, "c"), "--base", "gauss-k", "--base-propagator", data6), "L=6"},
		{"propagator without configurations", trainArgs(filepath.Join(dir, "d"), "--base", "gauss-k", "--base-propagator", noConfigs), "--base-propagator"},
		{"z2 for u1", []string{"train", "--theory", "u1", "--L", "8", "--z2", "--out", filepath.Join(dir, "e")}, "--z2"},
		{"gauss-k for u1", []string{"train", "--theory", "u1", "--L", "8", "--base", "gauss-k", "--out", filepath.Join(dir, "f")}, "gauss-k"},
	})
}

// TestTrainZ2TrainsQ: --z2 changes the proposal, not training: the
// parameters are bit for bit those of the run without it (z2.go of
// package flow says why), while the evaluation differs.
func TestTrainZ2TrainsQ(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.flow"), filepath.Join(dir, "b.flow")
	for _, c := range []struct {
		out  string
		args []string
	}{{a, nil}, {b, []string{"--z2"}}} {
		args := trainArgs(c.out, append([]string{"--steps", "5", "--eval", "500"}, c.args...)...)
		if code, _, errs := runCLI(t, args...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
	}
	if !sameBits(loadParams(t, a), loadParams(t, b)) {
		t.Errorf("--z2 changed the trained parameters")
	}
	ma := loadFlow(t, a)
	mb := loadFlow(t, b)
	if ma.Config.Z2 || !mb.Config.Z2 {
		t.Errorf("z2 in the models: %v and %v, want false and true", ma.Config.Z2, mb.Config.Z2)
	}
	if ea, eb := ma.Provenance.Eval, mb.Provenance.Eval; ea == nil || eb == nil || ea.Acceptance == eb.Acceptance {
		t.Errorf("evaluations %+v and %+v, want two that differ", ea, eb)
	}
}

// TestTrainInitZ2: --z2 is not architecture, so a run started with --init
// may turn the symmetrized proposal on (a model trained without it becomes
// a Z2-symmetric proposal by fine-tuning) and off again; the other flow
// flags still exclude --init, and --z2 stays phi4-only.
func TestTrainInitZ2(t *testing.T) {
	dir := t.TempDir()
	// initArgs are smallTrain's without the architecture flags.
	initArgs := func(out string, extra ...string) []string {
		args := []string{"train", "--theory", "phi4", "--L", "4", "--m2", "-1", "--lambda", "0.5", "--batch", "8", "--lr", "0.01", "--seed", "3", "--out", out}
		return append(args, extra...)
	}
	plain := filepath.Join(dir, "plain.flow")
	runOK(t, trainArgs(plain, "--steps", "2")...)
	on := filepath.Join(dir, "on.flow")
	runOK(t, initArgs(on, "--steps", "2", "--init", plain, "--z2")...)
	off := filepath.Join(dir, "off.flow")
	runOK(t, initArgs(off, "--steps", "2", "--init", on)...)
	off2 := filepath.Join(dir, "off2.flow")
	runOK(t, initArgs(off2, "--steps", "2", "--init", on, "--z2=false")...)
	for _, c := range []struct {
		file string
		want bool
	}{{plain, false}, {on, true}, {off, true}, {off2, false}} {
		m := loadFlow(t, c.file)
		if m.Config.Z2 != c.want {
			t.Errorf("%s: Z2 %v, want %v", filepath.Base(c.file), m.Config.Z2, c.want)
		}
	}
	if code, _, errs := runCLI(t, initArgs(filepath.Join(dir, "x.flow"), "--steps", "2", "--init", plain, "--hidden", "4")...); code != exitUsage || !strings.Contains(errs, "--init") {
		t.Errorf("--hidden with --init: exit %d, stderr %q, want %d naming --init", code, errs, exitUsage)
	}
}

// TestTrainInitGaussKAtNewL: a model on the gauss-k base moves to another
// L with --init and --base-propagator, its base then holding the
// propagator measured at the new L and its coupling layers the model's
// parameters; without --base-propagator the error says how, and a model on
// another base refuses it.
func TestTrainInitGaussKAtNewL(t *testing.T) {
	phi4 := []string{"--theory", "phi4", "--m2", "-1", "--lambda", "0.5"}
	data4 := hmcData(t, "1", append([]string{"--L", "4"}, phi4...)...)
	data6 := hmcData(t, "1", append([]string{"--L", "6"}, phi4...)...)
	dir := t.TempDir()
	small := filepath.Join(dir, "small.flow")
	runOK(t, trainArgs(small, "--base", "gauss-k", "--base-propagator", data4, "--steps", "2")...)
	at6 := func(out string, extra ...string) []string {
		args := []string{"train", "--L", "6", "--batch", "8", "--steps", "1", "--lr", "1e-12", "--seed", "3", "--out", out}
		return append(append(args, phi4...), extra...)
	}
	big := filepath.Join(dir, "big.flow")
	runOK(t, at6(big, "--init", small, "--base-propagator", data6)...)
	ms := loadFlow(t, small)
	mb := loadFlow(t, big)
	if mb.Config.Base != flow.BaseGaussK || mb.Config.L != 6 || len(mb.Config.BasePropagator) != 36 {
		t.Errorf("transferred model: base %q at L=%d with %d propagator values, want gauss-k at L=6 with 36", mb.Config.Base, mb.Config.L, len(mb.Config.BasePropagator))
	}
	// The propagator is the one measured at L=6: a fresh model on the
	// gauss-k base of data6 holds the same values.
	fresh := filepath.Join(dir, "fresh.flow")
	runOK(t, at6(fresh, "--base", "gauss-k", "--base-propagator", data6)...)
	mf := loadFlow(t, fresh)
	if !sameBits(mb.Config.BasePropagator, mf.Config.BasePropagator) {
		t.Errorf("transferred propagator %v, want the one measured on the L=6 dataset %v", mb.Config.BasePropagator, mf.Config.BasePropagator)
	}
	// One step at lr 1e-12 leaves the layers where --init put them.
	for i, p := range ms.Params {
		if d := mb.Params[i] - p; d > 1e-6 || d < -1e-6 {
			t.Fatalf("parameter %d: %g after transfer, %g in the L=4 model", i, mb.Params[i], p)
		}
	}

	normal := filepath.Join(dir, "normal.flow")
	runOK(t, at6(normal)...)
	checkUsageErrors(t, []usageCase{
		{"no propagator for the new L", at6(filepath.Join(dir, "x"), "--init", small), "--base-propagator"},
		{"propagator of the old L", at6(filepath.Join(dir, "y"), "--init", small, "--base-propagator", data4), "L=4"},
		{"model on the normal base", at6(filepath.Join(dir, "z"), "--init", normal, "--base-propagator", data6), "normal"},
	})
}

// TestTrainZeroMode: --zero-mode-bins appends the zero-mode layer to a new
// flow (with the default bound) or, with --init, to a model without one,
// as the identity after the model's own parameters; bad values are usage
// errors naming the flag.
func TestTrainZeroMode(t *testing.T) {
	dir := t.TempDir()
	zm := filepath.Join(dir, "zm.flow")
	out := runOK(t, trainArgs(zm, "--steps", "2", "--zero-mode-bins", "4")...)
	if !strings.Contains(out, "zero-mode spline (4 bins on [-2, 2])") {
		t.Errorf("train output does not describe the zero-mode layer:\n%s", out)
	}
	m := loadFlow(t, zm)
	if m.Config.ZeroModeBins != 4 || m.Config.ZeroModeBound != defaultZeroModeBound {
		t.Errorf("model: zero_mode_bins %d, bound %g, want 4 and %g", m.Config.ZeroModeBins, m.Config.ZeroModeBound, float64(defaultZeroModeBound))
	}

	plain := filepath.Join(dir, "plain.flow")
	runOK(t, trainArgs(plain, "--steps", "2")...)
	added := filepath.Join(dir, "added.flow")
	runOK(t, initTrainArgs("4", added, "--init", plain, "--zero-mode-bins", "3", "--zero-mode-bound", "1.5")...)
	mp := loadFlow(t, plain)
	ma := loadFlow(t, added)
	if ma.Config.ZeroModeBins != 3 || ma.Config.ZeroModeBound != 1.5 || len(ma.Params) != len(mp.Params)+3*3-1 {
		t.Fatalf("--init plus layer: zero_mode_bins %d, bound %g, %d parameters, want 3, 1.5 and %d",
			ma.Config.ZeroModeBins, ma.Config.ZeroModeBound, len(ma.Params), len(mp.Params)+8)
	}
	for i, p := range ma.Params {
		want := 0.0
		if i < len(mp.Params) {
			want = mp.Params[i]
		}
		if math.Abs(p-want) > 1e-6*math.Max(1, math.Abs(want)) { // float32 flow
			t.Fatalf("parameter %d after one step at lr 1e-12: %g, want %g (the model's, then the identity layer's zeros)", i, p, want)
		}
	}

	checkUsageErrors(t, []usageCase{
		{"bins=1", trainArgs(filepath.Join(dir, "x.flow"), "--zero-mode-bins", "1"), "--zero-mode-bins"},
		{"bins=65", trainArgs(filepath.Join(dir, "x.flow"), "--zero-mode-bins", "65"), "--zero-mode-bins"},
		{"bound=0", trainArgs(filepath.Join(dir, "x.flow"), "--zero-mode-bins", "4", "--zero-mode-bound", "0"), "--zero-mode-bound"},
		{"bound without bins", trainArgs(filepath.Join(dir, "x.flow"), "--zero-mode-bound", "1"), "--zero-mode-bound"},
		{"u1", []string{"train", "--theory", "u1", "--L", "4", "--beta", "1", "--zero-mode-bins", "4", "--out", filepath.Join(dir, "x.flow")}, "--zero-mode-bins"},
		{"init has one", initTrainArgs("4", filepath.Join(dir, "x.flow"), "--init", zm, "--zero-mode-bins", "4"), "has one already"},
	})
}

// usageCase is a command line that must exit with a usage error whose
// message contains want.
type usageCase struct {
	name string
	args []string
	want string
}

// checkUsageErrors runs each case and checks exit code exitUsage and want
// in stderr.
func checkUsageErrors(t *testing.T, cases []usageCase) {
	t.Helper()
	for _, c := range cases {
		code, _, errs := runCLI(t, c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d naming %q", c.name, code, errs, exitUsage, c.want)
		}
	}
}

// initTrainArgs is one training step at lr 1e-12 of a small phi^4 target
// at extent L into out, then extra (an --init run that keeps the model's
// parameters to float32 precision).
func initTrainArgs(L, out string, extra ...string) []string {
	a := []string{"train", "--theory", "phi4", "--L", L, "--m2", "-1", "--lambda", "0.5", "--batch", "8",
		"--steps", "1", "--lr", "1e-12", "--seed", "3", "--out", out}
	return append(a, extra...)
}

// Parameters of a phi^4 coupling with hidden [3]: conv 1->3 (3*9+3) and
// 3->2 (2*3*9+2), the last convolution's 56; and of a zero-mode spline of
// 4 bins.
const hidden3Params, hidden3LastConv, zeroMode4Params = 30 + 56, 56, 3*4 - 1

// checkGrownParams checks the parameters of a model grown from m0 (one step
// at lr 1e-12, a float32 flow) by n layers of hidden [3] placed before
// m0's zero-mode layer: m0's own before and after them, zero last
// convolutions in them (their first convolutions are random).
func checkGrownParams(t *testing.T, m0, m1 []float64, n int) {
	t.Helper()
	added := n * hidden3Params
	if len(m1) != len(m0)+added {
		t.Fatalf("grown model: %d parameters, want %d", len(m1), len(m0)+added)
	}
	own := len(m0) - zeroMode4Params
	for i, p := range m1 {
		var want float64
		switch k := i - own; {
		case k < 0:
			want = m0[i]
		case k >= added:
			want = m0[i-added]
		case k%hidden3Params >= hidden3Params-hidden3LastConv:
			want = 0
		default:
			continue // a new first convolution: random
		}
		if math.Abs(p-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Fatalf("parameter %d after one step at lr 1e-12: %g, want %g", i, p, want)
		}
	}
}

// TestTrainAddLayers checks --init M --add-layers N: the model's couplings
// keep their parameters, N identity couplings follow (their last
// convolutions zero), the zero-mode layer stays last with its parameters,
// and bad values exit with a usage error naming the flag.
func TestTrainAddLayers(t *testing.T) {
	dir := t.TempDir()
	zm := filepath.Join(dir, "zm.flow")
	runOK(t, trainArgs(zm, "--steps", "2", "--zero-mode-bins", "4", "--layers", "2", "--hidden", "3")...)
	grown := filepath.Join(dir, "grown.flow")
	out := runOK(t, initTrainArgs("4", grown, "--init", zm, "--add-layers", "3")...)
	if !strings.Contains(out, "flow 5 layers") {
		t.Errorf("train output does not describe 2+3 layers:\n%s", out)
	}
	m0 := loadFlow(t, zm)
	m1 := loadFlow(t, grown)
	if m1.Config.Layers != 5 {
		t.Errorf("grown model: %d layers, want 5", m1.Config.Layers)
	}
	checkGrownParams(t, m0.Params, m1.Params, 3)
	checkUsageErrors(t, []usageCase{
		{"no --init", trainArgs(filepath.Join(dir, "x.flow"), "--add-layers", "2"), "--add-layers"},
		{"zero", initTrainArgs("4", filepath.Join(dir, "x.flow"), "--init", zm, "--add-layers", "0"), "--add-layers"},
		{"too many", initTrainArgs("4", filepath.Join(dir, "x.flow"), "--init", zm, "--add-layers", "1023"), "--add-layers"},
	})
}

// TestTrainBlocks checks --blocks: a new flow gets the block couplings
// (described, in the model, trained), --init adds them as the identity
// after the model's couplings (their last convolutions zero) and before
// its zero-mode layer, and bad values exit with a usage error naming the
// flag.
func TestTrainBlocks(t *testing.T) {
	dir := t.TempDir()
	args := func(out string, extra ...string) []string {
		a := []string{"train", "--theory", "phi4", "--L", "8", "--m2", "-1", "--lambda", "0.5", "--batch", "8",
			"--layers", "2", "--hidden", "3", "--seed", "3", "--out", out}
		return append(a, extra...)
	}
	bl := filepath.Join(dir, "bl.flow")
	code, _, errs := runCLI(t, args(bl, "--steps", "2", "--blocks", "2,4")...)
	if code != exitUsage || !strings.Contains(errs, "blocks[1]=4") {
		t.Errorf("--blocks 2,4 at L=8 (L/4 = 2 < kernel 3): exit %d, stderr %q, want %d naming blocks[1]", code, errs, exitUsage)
	}
	out := runOK(t, args(bl, "--steps", "2", "--blocks", "2,2")...)
	if !strings.Contains(out, "block couplings of blocks [2 2]") {
		t.Errorf("train output does not describe the block couplings:\n%s", out)
	}
	mb := loadFlow(t, bl)
	if fmt.Sprint(mb.Config.Blocks) != "[2 2]" || len(mb.Params) != 4*hidden3Params {
		t.Errorf("model: blocks %v, %d parameters; want [2 2] and %d", mb.Config.Blocks, len(mb.Params), 4*hidden3Params)
	}

	zm := filepath.Join(dir, "zm.flow")
	runOK(t, args(zm, "--steps", "2", "--zero-mode-bins", "4")...)
	grown := filepath.Join(dir, "grown.flow")
	runOK(t, initTrainArgs("8", grown, "--init", zm, "--blocks", "2")...)
	m0 := loadFlow(t, zm)
	m1 := loadFlow(t, grown)
	if fmt.Sprint(m1.Config.Blocks) != "[2]" {
		t.Errorf("grown model: blocks %v, want [2]", m1.Config.Blocks)
	}
	checkGrownParams(t, m0.Params, m1.Params, 1)

	// A block size that fits the L trained for but not the model's own.
	at16 := []string{"train", "--theory", "phi4", "--L", "16", "--m2", "-1", "--lambda", "0.5", "--batch", "4", "--steps", "1", "--seed", "3"}
	moved := filepath.Join(dir, "moved.flow")
	runOK(t, append(at16, "--out", moved, "--init", zm, "--blocks", "4")...)
	if m, err := flow.Load(moved); err != nil || fmt.Sprint(m.Config.Blocks) != "[4]" || m.Config.L != 16 {
		t.Errorf("moved model: %v, blocks %v at L=%d, want [4] at L=16", err, m.Config.Blocks, m.Config.L)
	}

	checkUsageErrors(t, []usageCase{
		{"odd coarse extent", args(filepath.Join(dir, "x.flow"), "--blocks", "8"), "--blocks"},
		{"not a divisor", args(filepath.Join(dir, "x.flow"), "--blocks", "3"), "--blocks"},
		{"empty", args(filepath.Join(dir, "x.flow"), "--blocks", ""), "--blocks"},
		{"not a number", args(filepath.Join(dir, "x.flow"), "--blocks", "2,x"), "--blocks"},
		{"u1", []string{"train", "--theory", "u1", "--L", "8", "--beta", "1", "--blocks", "2", "--out", filepath.Join(dir, "x.flow")}, "--blocks"},
	})
}

// TestTrainSpectral checks --spectral: a new flow gets the spectral layer
// (described, in the model), --init adds it as the identity before the
// model's zero-mode layer (every other parameter kept), --init of a model
// with one refines it to a multiple of its node count (the same theta at
// every momentum), and bad values exit with a usage error naming the flag.
func TestTrainSpectral(t *testing.T) {
	dir := t.TempDir()
	args := func(out string, extra ...string) []string {
		a := []string{"train", "--theory", "phi4", "--L", "8", "--m2", "-1", "--lambda", "0.5", "--batch", "8",
			"--layers", "2", "--hidden", "3", "--seed", "3", "--out", out, "--zero-mode-bins", "4"}
		return append(a, extra...)
	}
	sp := filepath.Join(dir, "sp.flow")
	out := runOK(t, args(sp, "--steps", "3", "--spectral", "2")...)
	if !strings.Contains(out, "spectral layer (nodes pi/2 apart)") {
		t.Errorf("train output does not describe the spectral layer:\n%s", out)
	}
	ms := loadFlow(t, sp)
	if ms.Config.Spectral != 2 || len(ms.Params) != 2*hidden3Params+flow.SpectralParams(2)+zeroMode4Params {
		t.Errorf("model: spectral %d, %d parameters; want 2 and %d", ms.Config.Spectral, len(ms.Params), 2*hidden3Params+flow.SpectralParams(2)+zeroMode4Params)
	}

	zm := filepath.Join(dir, "zm.flow")
	runOK(t, args(zm, "--steps", "2")...)
	grown := filepath.Join(dir, "grown.flow")
	runOK(t, initTrainArgs("8", grown, "--init", zm, "--spectral", "2")...)
	m0, m1 := loadFlow(t, zm), loadFlow(t, grown)
	ns, own := flow.SpectralParams(2), len(m0.Params)-zeroMode4Params
	if m1.Config.Spectral != 2 || len(m1.Params) != len(m0.Params)+ns {
		t.Fatalf("grown model: spectral %d, %d parameters; want 2 and %d", m1.Config.Spectral, len(m1.Params), len(m0.Params)+ns)
	}
	for i, p := range m1.Params {
		want := 0.0 // the new layer, after one step at lr 1e-12
		switch {
		case i < own:
			want = m0.Params[i]
		case i >= own+ns:
			want = m0.Params[i-ns]
		}
		if math.Abs(p-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Fatalf("grown model: parameter %d is %g, want %g", i, p, want)
		}
	}

	// --spectral 0 for a model without the layer asks for what it has.
	runOK(t, initTrainArgs("8", filepath.Join(dir, "none.flow"), "--init", zm, "--spectral", "0")...)

	fine := filepath.Join(dir, "fine.flow")
	runOK(t, initTrainArgs("8", fine, "--init", sp, "--spectral", "4")...)
	mf := loadFlow(t, fine)
	a, err := flow.Build[float64](ms)
	if err != nil {
		t.Fatal(err)
	}
	b, err := flow.Build[float64](mf)
	if err != nil {
		t.Fatal(err)
	}
	sa, sb := a.Layers[2].(*flow.SpectralScale[float64]), b.Layers[2].(*flow.SpectralScale[float64])
	if sa.Theta(0.25, 0.5) == 0 || math.Abs(sa.Theta(0.25, 0.5)-sb.Theta(0.25, 0.5)) > 1e-6 {
		t.Errorf("refined model: theta(pi/4, pi/2) = %g, the model's %g; want the same, not 0", sb.Theta(0.25, 0.5), sa.Theta(0.25, 0.5))
	}

	checkUsageErrors(t, []usageCase{
		{"negative", args(filepath.Join(dir, "x.flow"), "--spectral", "-1"), "--spectral"},
		{"too many nodes", args(filepath.Join(dir, "x.flow"), "--spectral", "65"), "--spectral"},
		{"u1", []string{"train", "--theory", "u1", "--L", "8", "--beta", "1", "--spectral", "2", "--out", filepath.Join(dir, "x.flow")}, "--spectral"},
		{"not a multiple", initTrainArgs("8", filepath.Join(dir, "x.flow"), "--init", sp, "--spectral", "3"), "--spectral"},
		{"removed", initTrainArgs("8", filepath.Join(dir, "x.flow"), "--init", sp, "--spectral", "0"), "--spectral"},
	})
}

// runOK runs latflow with args and stops the test unless it exits 0; it
// returns the standard output.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("latflow %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

// loadFlow reads the model file path or stops the test.
func loadFlow(t *testing.T, path string) flow.Model {
	t.Helper()
	m, err := flow.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
