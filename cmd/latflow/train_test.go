package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"latflow/ensemble"
	"latflow/flow"
	"latflow/flowtrain"
	"latflow/models"
)

// smallTrain are the flags of a tiny phi^4 training run (L=4, two layers)
// that takes milliseconds.
var smallTrain = []string{"train", "--theory", "phi4", "--L", "4", "--m2", "-1", "--lambda", "0.5",
	"--layers", "2", "--hidden", "4", "--batch", "8", "--lr", "0.01", "--seed", "3"}

func trainArgs(out string, extra ...string) []string {
	args := append(append([]string(nil), smallTrain...), "--out", out)
	return append(args, extra...)
}

// hmcData writes a small HMC dataset for the forward objective and
// returns its directory; saveEvery 0 saves no configurations.
func hmcData(t *testing.T, saveEvery string, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	all := append([]string{"hmc"}, args...)
	all = append(all, "--n", "40", "--therm", "10", "--seed", "1", "--out", dir)
	if saveEvery != "0" {
		all = append(all, "--save-every", saveEvery)
	}
	if code, _, errs := runCLI(t, all...); code != exitOK {
		t.Fatalf("hmc %v: exit %d: %s", all, code, errs)
	}
	return dir
}

// loadParams returns the parameters of the model file at path.
func loadParams(t *testing.T, path string) []float64 {
	t.Helper()
	m, err := flow.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m.Params
}

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// TestTrainBadInput checks that bad flags and data exit with code 2, a
// one-line message naming the flag, and write nothing.
func TestTrainBadInput(t *testing.T) {
	phi4Data := hmcData(t, "2", "--theory", "phi4", "--L", "4", "--m2", "-1", "--lambda", "0.5")
	u1Data := hmcData(t, "2", "--theory", "u1", "--L", "4", "--beta", "1")
	noConfigs := hmcData(t, "0", "--theory", "phi4", "--L", "4", "--m2", "-1", "--lambda", "0.5")
	hopping := hmcData(t, "2", "--theory", "phi4", "--L", "4", "--kappa", "0.2", "--lambda", "0.5")
	fwd := []string{"--objective", "forward", "--data"}

	existing := filepath.Join(t.TempDir(), "existing.flow")
	sentinel := []byte("not to be overwritten")
	if err := os.WriteFile(existing, sentinel, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		extra []string
		flag  string
		out   string // --out; "" for a fresh name
	}{
		{"forward without data", []string{"--objective", "forward"}, "--data", ""},
		{"data of another theory", append(fwd, u1Data), "--data", ""},
		{"data of another L", append(append(fwd, phi4Data), "--L", "6"), "--data", ""},
		{"data of another m2", append(append(fwd, phi4Data), "--m2", "-2"), "--data", ""},
		{"data of another parametrization", append(fwd, hopping), "--data", ""},
		{"data without configurations", append(fwd, noConfigs), "--data", ""},
		{"data missing", append(fwd, filepath.Join(t.TempDir(), "none")), "--data", ""},
		{"data with reverse", []string{"--data", phi4Data}, "--data", ""},
		{"batch zero", []string{"--batch", "0"}, "--batch", ""},
		{"batch negative", []string{"--batch", "-4"}, "--batch", ""},
		{"steps zero", []string{"--steps", "0"}, "--steps", ""},
		{"steps negative", []string{"--steps", "-1"}, "--steps", ""},
		{"lr zero", []string{"--lr", "0"}, "--lr", ""},
		{"unknown base", []string{"--base", "gaussian"}, "base", ""},
		{"plaquette base for phi4", []string{"--base", "plaquettes"}, "--base", ""},
		{"base-beta without plaquettes", []string{"--base-beta", "2"}, "--base-beta", ""},
		{"base-mode without plaquettes", []string{"--base-mode", "spread"}, "--base-mode", ""},
		{"unknown layer-init", []string{"--layer-init", "zeros"}, "init", ""},
		{"eval-every negative", []string{"--eval-every", "-1"}, "--eval-every", ""},
		{"lr negative", []string{"--lr", "-1e-3"}, "--lr", ""},
		{"unknown objective", []string{"--objective", "sideways"}, "--objective", ""},
		{"unknown gradient", []string{"--gradient", "fastest"}, "--gradient", ""},
		{"unknown schedule", []string{"--schedule", "linear"}, "--schedule", ""},
		{"clip negative", []string{"--clip", "-1"}, "--clip", ""},
		{"bad hidden", []string{"--hidden", "4,x"}, "--hidden", ""},
		{"even kernel", []string{"--kernel", "2"}, "--kernel", ""},
		{"mixtures for phi4", []string{"--mixtures", "2"}, "--mixtures", ""},
		{"unknown precision", []string{"--precision", "float16"}, "--precision", ""},
		{"resume and force", []string{"--resume", "--force"}, "--resume", ""},
		{"max-time negative", []string{"--max-time", "-1s"}, "--max-time", ""},
		{"max-cpu-time negative", []string{"--max-cpu-time", "-1s"}, "--max-cpu-time", ""},
		{"eval negative", []string{"--eval", "-5"}, "--eval", ""},
		{"resume without checkpoint", []string{"--resume"}, "--resume", ""},
		{"existing model", nil, "--out", existing},
		{"max skips zero", []string{"--max-skips", "0"}, "--max-skips", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := tc.out
			if out == "" {
				out = filepath.Join(t.TempDir(), "model.flow")
			}
			code, stdout, errs := runCLI(t, trainArgs(out, tc.extra...)...)
			if code != exitUsage {
				t.Errorf("exit code: got %d, want %d (stderr %q)", code, exitUsage, errs)
			}
			if !strings.Contains(errs, tc.flag) {
				t.Errorf("stderr %q does not name %s", errs, tc.flag)
			}
			if strings.Count(strings.TrimRight(errs, "\n"), "\n") != 0 {
				t.Errorf("stderr spans lines, want one: %q", errs)
			}
			if stdout != "" {
				t.Errorf("stdout not empty on bad input: %q", stdout)
			}
			if tc.out == "" {
				if _, err := os.Stat(out); err == nil {
					t.Errorf("%s was written on bad input", out)
				}
			}
		})
	}
	if b, err := os.ReadFile(existing); err != nil || !bytes.Equal(b, sentinel) {
		t.Errorf("existing model file changed: %q, %v", b, err)
	}
	// The missing flag is not --out: no --out at all.
	code, _, errs := runCLI(t, smallTrain...)
	if code != exitUsage || !strings.Contains(errs, "--out") {
		t.Errorf("no --out: got exit %d, stderr %q, want %d naming --out", code, errs, exitUsage)
	}
}

// TestTrainResume checks that continuing from a checkpoint gives the model
// of an uninterrupted run bit for bit, that resuming refuses other
// parameters naming the flag, and that an interrupted run exits with 3 and
// leaves a checkpoint to continue from.
func TestTrainResume(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.flow")
	if code, _, errs := runCLI(t, trainArgs(ref, "--steps", "6", "--checkpoint-every", "0", "--schedule", "plateau")...); code != exitOK {
		t.Fatalf("reference run: exit %d: %s", code, errs)
	}
	want := loadParams(t, ref)

	t.Run("from periodic checkpoint", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "a.flow")
		args := trainArgs(out, "--steps", "6", "--checkpoint-every", "4", "--schedule", "plateau")
		if code, _, errs := runCLI(t, args...); code != exitOK {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if !sameBits(loadParams(t, out), want) {
			t.Fatal("a run with checkpoints differs from one without")
		}
		c, err := flowtrain.LoadCheckpoint(out + ".ckpt")
		if err != nil || c.Step != 4 {
			t.Fatalf("checkpoint: got %v (step %d), want the one of step 4", err, c.Step)
		}
		if err := os.Remove(out); err != nil {
			t.Fatal(err)
		}
		code, _, errs := runCLI(t, append(args, "--resume", "--threads", "1", "--checkpoint-every", "1")...)
		if code != exitOK || !strings.Contains(errs, "continuing from step 4") {
			t.Fatalf("resume: exit %d, stderr %q, want 0 and \"continuing from step 4\"", code, errs)
		}
		if !sameBits(loadParams(t, out), want) {
			t.Error("resumed run: model differs from the uninterrupted run, want bit-identical")
		}
		// The provenance records both sessions' command lines.
		m, err := flow.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		if cmds := m.Provenance.Commands; len(cmds) != 2 || strings.Contains(cmds[0], "--resume") || !strings.Contains(cmds[1], "--resume") {
			t.Errorf("provenance commands %q, want the first session's and then the resumed one's", cmds)
		}
		rows, _, err := flowtrain.ReadLog(out + ".log.arrow")
		if err != nil || len(rows) != 6 {
			t.Errorf("log after resume: got %d rows (%v), want 6", len(rows), err)
		}
	})

	t.Run("interrupted", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "b.flow")
		args := trainArgs(out, "--steps", "6", "--schedule", "plateau")
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // as if SIGINT arrived before the first step
		var stdout, stderr bytes.Buffer
		code := runContext(ctx, append([]string{"latflow"}, args...), &stdout, &stderr)
		// Before its first update a run writes nothing, so the advice is
		// to start again, and starting again works.
		if code != exitInterrupted || !strings.Contains(stderr.String(), "start again") || strings.Contains(stderr.String(), "--resume") {
			t.Fatalf("interrupted run: exit %d, stderr %q, want %d and the advice to start again", code, stderr.String(), exitInterrupted)
		}
		for _, p := range []string{out, out + ".ckpt", out + ".log.arrow"} {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("a run interrupted before its first step wrote %s", p)
			}
		}
		code, _, errs := runCLI(t, args...)
		if code != exitOK {
			t.Fatalf("start again: exit %d: %s", code, errs)
		}
		if !sameBits(loadParams(t, out), want) {
			t.Error("restarted after interrupt: model differs from the uninterrupted run, want bit-identical")
		}
	})

	t.Run("mismatch", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "c.flow")
		args := trainArgs(out, "--steps", "4", "--checkpoint-every", "2", "--schedule", "plateau")
		if code, _, errs := runCLI(t, args...); code != exitOK {
			t.Fatalf("exit %d: %s", code, errs)
		}
		before, err := os.ReadFile(out + ".ckpt")
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ flag, value string }{
			{"--batch", "16"}, {"--seed", "4"}, {"--lr", "0.02"}, {"--gradient", "standard"},
			{"--layers", "3"}, {"--m2", "-2"}, {"--steps", "5"}, {"--schedule", "cosine"},
		} {
			code, _, errs := runCLI(t, append(args, "--resume", tc.flag, tc.value)...)
			if code != exitUsage || !strings.Contains(errs, tc.flag) || strings.Count(strings.TrimRight(errs, "\n"), "\n") != 0 {
				t.Errorf("resume with %s %s: exit %d, stderr %q, want %d and one line naming %s", tc.flag, tc.value, code, errs, exitUsage, tc.flag)
			}
		}
		if after, err := os.ReadFile(out + ".ckpt"); err != nil || !bytes.Equal(after, before) {
			t.Error("a refused resume changed the checkpoint")
		}
	})

	t.Run("corrupted checkpoint", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "d.flow")
		args := trainArgs(out, "--steps", "2", "--checkpoint-every", "2")
		if code, _, errs := runCLI(t, args...); code != exitOK {
			t.Fatalf("exit %d: %s", code, errs)
		}
		b, err := os.ReadFile(out + ".ckpt")
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0x40
		if err := os.WriteFile(out+".ckpt", b, 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errs := runCLI(t, append(args, "--resume")...)
		if code != exitFailed || !strings.Contains(errs, "checksum mismatch") || !strings.Contains(errs, ".ckpt") ||
			strings.Count(strings.TrimRight(errs, "\n"), "\n") != 0 {
			t.Errorf("corrupted checkpoint: exit %d, stderr %q, want %d and one line naming the file and the checksum", code, errs, exitFailed)
		}
	})
}

// TestTrainRuns trains each theory and objective briefly and checks the
// files and the JSON summary.
func TestTrainRuns(t *testing.T) {
	phi4Data := hmcData(t, "2", "--theory", "phi4", "--L", "4", "--m2", "-1", "--lambda", "0.5")
	u1Data := hmcData(t, "2", "--theory", "u1", "--L", "4", "--beta", "1")
	u1 := []string{"train", "--theory", "u1", "--L", "4", "--beta", "1", "--layers", "2", "--mixtures", "2",
		"--hidden", "4", "--batch", "4", "--steps", "3"}
	cases := []struct {
		name string
		args func(out string) []string
	}{
		{"phi4/reverse/fast-path/float32", func(out string) []string {
			return trainArgs(out, "--steps", "5", "--precision", "float32")
		}},
		{"phi4/forward/fast-path", func(out string) []string {
			return trainArgs(out, "--steps", "5", "--objective", "forward", "--data", phi4Data)
		}},
		{"u1/reverse/fast-path", func(out string) []string { return append(u1, "--out", out) }},
		{"u1/forward/standard", func(out string) []string {
			return append(u1, "--out", out, "--objective", "forward", "--gradient", "standard", "--data", u1Data)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "m.flow")
			code, stdout, errs := runCLI(t, append(tc.args(out), "--json")...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var r trainReport
			if err := json.Unmarshal([]byte(stdout), &r); err != nil {
				t.Fatalf("bad JSON %q: %v", stdout, err)
			}
			m, err := flow.Load(out)
			if err != nil {
				t.Fatal(err)
			}
			if m.Provenance.Steps != r.Steps || m.Provenance.Estimator != r.Estimator || m.Provenance.Version != Version ||
				m.Config.Theory != r.Theory || len(m.Params) != r.Params || r.Skipped != 0 || r.FinalLoss == nil {
				t.Errorf("model %+v and report %+v disagree", m.Provenance, r)
			}
			rows, md, err := flowtrain.ReadLog(out + ".log.arrow")
			if err != nil || len(rows) != r.Steps || md["latflow.theory"] != r.Theory {
				t.Errorf("log: %d rows, theory %q, error %v; want %d rows of %s", len(rows), md["latflow.theory"], err, r.Steps, r.Theory)
			}
		})
	}
}

// TestTrainInit: --init continues from a model's parameters at another L;
// the provenance keeps both commands and adds the steps; architecture
// flags and a model of the other theory are refused; a resume must name
// the same --init.
func TestTrainInit(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.flow")
	if code, _, errs := runCLI(t, trainArgs(small, "--steps", "3")...); code != exitOK {
		t.Fatalf("first run: %s", errs)
	}
	big := filepath.Join(dir, "big.flow")
	args := []string{"train", "--theory", "phi4", "--L", "8", "--m2", "-1", "--lambda", "0.5", "--batch", "8", "--steps", "2",
		"--init", small, "--out", big, "--checkpoint-every", "1", "--eval-every", "1"}
	if code, _, errs := runCLI(t, args...); code != exitOK {
		t.Fatalf("continuation: %s", errs)
	}
	m, err := flow.Load(big)
	if err != nil {
		t.Fatal(err)
	}
	p := m.Provenance
	if len(p.Commands) != 2 || !strings.Contains(p.Commands[1], "--init") || p.Steps != 5 || m.Config.L != 8 || m.Config.Layers != 2 {
		t.Errorf("got commands %q, steps %d, L %d, layers %d; want both commands, 5 steps, L=8 and the small model's 2 layers",
			p.Commands, p.Steps, m.Config.L, m.Config.Layers)
	}
	rows, _, err := flowtrain.ReadLog(big + trainLogSuffix)
	if err != nil || len(rows) != 2 || !(rows[0].ESSFresh > 0) {
		t.Errorf("log: got %+v (%v), want 2 rows with ess_fresh", rows, err)
	}
	u1 := filepath.Join(dir, "u1.flow")
	writeModel(t, u1, flow.Config{Theory: "u1", L: 8, Layers: 2, Mixtures: 2, Hidden: []int{4}, Kernel: 3}, ensemble.NewU1(8, 3))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--init", small, "--layers", "3"}, "--layers"},
		{[]string{"--init", u1}, "--init"},
		{[]string{"--init", filepath.Join(dir, "none.flow")}, "--init"},
	} {
		code, _, errs := runCLI(t, trainArgs(filepath.Join(dir, "x.flow"), c.args...)...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q: want exit %d naming %s", c.args, code, errs, exitUsage, c.want)
		}
	}
	// Resuming the continuation without --init is refused.
	resume := []string{"train", "--theory", "phi4", "--L", "8", "--m2", "-1", "--lambda", "0.5", "--batch", "8", "--steps", "4",
		"--out", big, "--resume"}
	if code, _, errs := runCLI(t, resume...); code != exitUsage || !strings.Contains(errs, "--init") {
		t.Errorf("resume without --init: exit %d, stderr %q", code, errs)
	}
}

// TestTrainPlaquetteBase: a U(1) flow on the plaquette base (spread by
// default) with identity layers starts as its base: a high acceptance after
// two steps, and the model file records the base.
func TestTrainPlaquetteBase(t *testing.T) {
	out := filepath.Join(t.TempDir(), "u1.flow")
	code, stdout, errs := runCLI(t, "train", "--theory", "u1", "--L", "8", "--beta", "3", "--layers", "2", "--mixtures", "2", "--hidden", "4",
		"--base", "plaquettes", "--layer-init", "identity", "--batch", "16", "--lr", "1e-5", "--steps", "2", "--eval", "2000", "--out", out, "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r struct {
		Eval struct{ Acceptance float64 } `json:"evaluation"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	// The spread base alone accepts 0.96 at L=8, beta=3.
	if r.Eval.Acceptance < 0.9 {
		t.Errorf("acceptance %v, want the base's (about 0.96)", r.Eval.Acceptance)
	}
	m, err := flow.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.Base != flow.BasePlaquettes || m.Config.BaseMode != flow.BaseModeSpread || m.Config.BaseBeta != 3 || m.Config.Init != flow.InitIdentity {
		t.Errorf("model config %+v, want the spread plaquette base at beta 3 with identity init", m.Config)
	}
}

// TestArchDefaultBase: U(1) flows default to the spread plaquette base with
// identity layers; an explicit --base uniform keeps random layers, and
// phi^4 keeps its normal base.
func TestArchDefaultBase(t *testing.T) {
	cases := []struct {
		name               string
		theory             string
		set                flagSet
		base, layerInit    string
		wantBase, wantInit string
		wantMode           string
	}{
		{"u1 default", theoryU1, flagSet{}, "", "", flow.BasePlaquettes, flow.InitIdentity, flow.BaseModeSpread},
		{"u1 uniform", theoryU1, flagSet{flagBase: true}, flow.BaseUniform, "", flow.BaseUniform, "", ""},
		{"u1 plaquettes random layers", theoryU1, flagSet{flagLayerInit: true}, "", flow.InitRandom, flow.BasePlaquettes, flow.InitRandom, flow.BaseModeSpread},
		{"phi4 default", theoryPhi4, flagSet{}, "", "", "", "", ""},
	}
	for _, c := range cases {
		o := archOptions{hidden: "8,8", kernel: 3, precision: precisionFloat32, base: c.base, layerInit: c.layerInit, set: c.set}
		target := ensemble.Target{Theory: c.theory, L: 8, Couplings: map[string]float64{ensemble.Beta: 3}}
		if c.theory == theoryPhi4 {
			target.Couplings = map[string]float64{ensemble.M2: -4, ensemble.Lambda: 8}
		}
		cfg, _, err := o.config(target)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if cfg.Base != c.wantBase || cfg.Init != c.wantInit || cfg.BaseMode != c.wantMode {
			t.Errorf("%s: base %q init %q mode %q, want %q %q %q", c.name, cfg.Base, cfg.Init, cfg.BaseMode, c.wantBase, c.wantInit, c.wantMode)
		}
		if c.wantBase == flow.BasePlaquettes && cfg.BaseBeta != 3 {
			t.Errorf("%s: base beta %v, want the target's 3", c.name, cfg.BaseBeta)
		}
	}
}

// tinyU1 are the flags of a tiny U(1) training run on the plaquette base.
var tinyU1 = []string{"train", "--theory", "u1", "--L", "4", "--beta", "1", "--layers", "1", "--mixtures", "1",
	"--hidden", "2", "--batch", "4", "--eval-every", "0"}

// noFiles fails the test for each file of the run --out out that exists.
func noFiles(t *testing.T, out string) {
	t.Helper()
	for _, p := range []string{out, out + checkpointSuffix, out + trainLogSuffix} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s exists, want nothing written", p)
		}
	}
}

// TestTrainBaseBetaBound: --base-beta is bounded like --beta (issue 19,
// A.2): 1e300 trained with every step skipped and saved the model.
func TestTrainBaseBetaBound(t *testing.T) {
	for _, v := range []string{"1e300", "1.000001e6", "0", "-1", "NaN", "Inf"} {
		t.Run(v, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "bb.flow")
			code, stdout, errs := runCLI(t, append(append([]string(nil), tinyU1...), "--steps", "2", "--base-beta", v, "--out", out)...)
			if code != exitUsage || !strings.Contains(errs, "--base-beta") || !strings.Contains(errs, "1e+06") {
				t.Errorf("exit %d, stderr %q, want %d and a message naming --base-beta and its bound 1e+06", code, errs, exitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want none", stdout)
			}
			noFiles(t, out)
		})
	}
	out := filepath.Join(t.TempDir(), "ok.flow")
	if code, _, errs := runCLI(t, append(append([]string(nil), tinyU1...), "--steps", "1", "--base-beta", "1e6", "--out", out)...); code != exitOK {
		t.Errorf("--base-beta 1e6 (the bound): exit %d: %s", code, errs)
	}
}

// TestTrainNoUpdateSavesNothing: a run in which every step is skipped exits
// 1 and writes no model, checkpoint or log (issue 19, A.2). The steps are
// made non-finite by --init from a model whose parameters overflow float32.
func TestTrainNoUpdateSavesNothing(t *testing.T) {
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.flow")
	if code, _, errs := runCLI(t, append(append([]string(nil), tinyU1...), "--steps", "1", "--out", seed)...); code != exitOK {
		t.Fatalf("seed model: exit %d: %s", code, errs)
	}
	m, err := flow.Load(seed)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Params {
		m.Params[i] = 1e300
	}
	huge := filepath.Join(dir, "huge.flow")
	if err := flow.Save(huge, m); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		extra []string
		want  string
	}{
		{"steps done", nil, "none of the 3 steps updated the parameters"},
		// Stopped by --max-skips: the advice needs no --resume or --force,
		// since nothing was written.
		{"max-skips", []string{"--max-skips", "2"}, "too many skipped steps in a row"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "none.flow")
			args := append([]string{"train", "--theory", "u1", "--L", "4", "--beta", "1", "--batch", "4", "--eval-every", "0",
				"--steps", "3", "--checkpoint-every", "1", "--init", huge, "--out", out}, c.extra...)
			code, stdout, errs := runCLI(t, args...)
			if code != exitFailed || !strings.Contains(errs, c.want) || strings.Contains(errs, "model saved") {
				t.Errorf("exit %d, stderr %q, want %d and %q", code, errs, exitFailed, c.want)
			}
			if strings.Contains(errs, "--resume") || strings.Contains(errs, "--force") {
				t.Errorf("stderr %q advises --resume or --force, want neither: nothing was written", errs)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want no report", stdout)
			}
			noFiles(t, out)
		})
	}
}

// TestTrainAdviceConsistent: the message refusing to overwrite a run's
// files and the one refusing --resume give the same advice (issue 19,
// C.21): --resume only where a checkpoint is, --force otherwise. A run
// stopped by --max-time before its first step writes nothing, so it can
// simply be started again.
func TestTrainAdviceConsistent(t *testing.T) {
	t.Run("max-time before the first step", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "o.flow")
		code, _, errs := runCLI(t, trainArgs(out, "--steps", "3", "--max-time", "1ns")...)
		if code != exitFailed || !strings.Contains(errs, "nothing was written") {
			t.Fatalf("exit %d, stderr %q, want %d and \"nothing was written\"", code, errs, exitFailed)
		}
		noFiles(t, out)
		if code, _, errs := runCLI(t, trainArgs(out, "--steps", "3")...); code != exitOK {
			t.Errorf("rerun: exit %d: %s", code, errs)
		}
	})
	t.Run("finished without a checkpoint", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "o.flow")
		args := trainArgs(out, "--steps", "3", "--checkpoint-every", "0")
		if code, _, errs := runCLI(t, args...); code != exitOK {
			t.Fatalf("exit %d: %s", code, errs)
		}
		for _, extra := range [][]string{nil, {"--resume"}} {
			code, _, errs := runCLI(t, append(slices.Clone(args), extra...)...)
			if code != exitUsage || !strings.Contains(errs, "--force") {
				t.Errorf("%v: exit %d, stderr %q, want %d and the advice --force", extra, code, errs, exitUsage)
			}
			if strings.Contains(errs, "pass --resume") || strings.Contains(errs, "without --resume") {
				t.Errorf("%v: stderr %q advises for or against --resume, want only --force", extra, errs)
			}
		}
	})
	t.Run("only a log", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "o.flow")
		args := trainArgs(out, "--steps", "3", "--checkpoint-every", "0")
		if code, _, errs := runCLI(t, args...); code != exitOK {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if err := os.Remove(out); err != nil {
			t.Fatal(err)
		}
		for _, extra := range [][]string{nil, {"--resume"}} {
			code, _, errs := runCLI(t, append(slices.Clone(args), extra...)...)
			if code != exitUsage || !strings.Contains(errs, "--force") || strings.Contains(errs, "pass --resume") {
				t.Errorf("%v: exit %d, stderr %q, want %d and only the advice --force", extra, code, errs, exitUsage)
			}
		}
	})
	t.Run("checkpoint", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "o.flow")
		args := trainArgs(out, "--steps", "3", "--checkpoint-every", "2")
		if code, _, errs := runCLI(t, args...); code != exitOK {
			t.Fatalf("exit %d: %s", code, errs)
		}
		code, _, errs := runCLI(t, args...)
		if code != exitUsage || !strings.Contains(errs, "pass --resume") {
			t.Errorf("rerun: exit %d, stderr %q, want %d and the advice --resume", code, errs, exitUsage)
		}
		if code, _, errs := runCLI(t, append(slices.Clone(args), "--resume")...); code != exitOK {
			t.Errorf("--resume: exit %d: %s", code, errs)
		}
	})
}

// TestTrainOutputLock: two runs with one --out (issue 19, B.7). While one
// holds the output's lock another refuses with exit 1, naming the holder
// and writing nothing; of two runs started together exactly one trains
// and the other refuses, so that neither replaces the other's model.
func TestTrainOutputLock(t *testing.T) {
	t.Run("held", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "tc.flow")
		lock, err := flowtrain.LockOutput(out)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Unlock()
		for _, extra := range [][]string{nil, {"--force"}} {
			code, stdout, errs := runCLI(t, trainArgs(out, append([]string{"--steps", "2"}, extra...)...)...)
			if code != exitFailed || !strings.Contains(errs, "being written by another latflow train") ||
				!strings.Contains(errs, fmt.Sprintf("pid %d", os.Getpid())) {
				t.Errorf("%v: exit %d, stderr %q, want %d and the holder named", extra, code, errs, exitFailed)
			}
			if stdout != "" {
				t.Errorf("%v: stdout %q, want none", extra, stdout)
			}
			noFiles(t, out)
		}
	})
	t.Run("started together", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "tc.flow")
		type result struct {
			code int
			errs string
		}
		res := make([]result, 2)
		var wg sync.WaitGroup
		for i := range res {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, _, errs := runCLI(t, trainArgs(out, "--steps", "400", "--seed", strconv.Itoa(10+i))...)
				res[i] = result{code, errs}
			}()
		}
		wg.Wait()
		won := -1
		for i, r := range res {
			switch {
			case r.code == exitOK && won < 0:
				won = i
			case r.code == exitOK:
				t.Fatalf("both runs exit 0, want one refused")
			case !strings.Contains(r.errs, "being written by another latflow train") && !strings.Contains(r.errs, "exists"):
				t.Errorf("run %d: exit %d, stderr %q, want a refusal naming the other run", i, r.code, r.errs)
			}
		}
		if won < 0 {
			t.Fatalf("no run succeeded: %+v", res)
		}
		m, err := flow.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(10 + won); m.Provenance.Seed != want {
			t.Errorf("model of seed %d, want the winner's %d", m.Provenance.Seed, want)
		}
		if _, err := os.Stat(out + flowtrain.LockSuffix); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("lock file after both runs: %v, want removed", err)
		}
	})
}

// TestTrainRemovesStaleTemps: the temporary files a killed run leaves
// (kill -9 while writing the model, checkpoint or log) are removed by the
// next run of the same --out, --resume included (issue 19, C.19); files of
// other outputs are kept.
func TestTrainRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "o.flow")
	args := trainArgs(out, "--steps", "6", "--checkpoint-every", "4")
	if code, _, errs := runCLI(t, args...); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// As if killed after the checkpoint of step 4, while writing.
	if err := os.Remove(out); err != nil {
		t.Fatal(err)
	}
	stale := []string{".o.flow.tmp123", ".o.flow.ckpt.tmp4567", ".o.flow.log.arrow.tmp89"}
	other := ".p.flow.tmp123"
	for _, n := range append(slices.Clone(stale), other) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, errs := runCLI(t, append(slices.Clone(args), "--resume")...); code != exitOK {
		t.Fatalf("--resume: exit %d: %s", code, errs)
	}
	for _, n := range stale {
		if _, err := os.Stat(filepath.Join(dir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after --resume: %v, want removed", n, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, other)); err != nil {
		t.Errorf("%s of another output: %v, want kept", other, err)
	}
}

// TestTrainBitForBitClaim: what the help calls identical is (issue 19,
// C.20). Two runs of one command write model files that are equal once
// the provenance fields the help names as differing are cleared, and the
// help names every field this test has to clear.
func TestTrainBitForBitClaim(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.flow")
	args := trainArgs(out, "--steps", "3", "--eval", "64")
	var models []flow.Model
	for i := range 2 {
		if code, _, errs := runCLI(t, args...); code != exitOK {
			t.Fatalf("run %d: exit %d: %s", i, code, errs)
		}
		m, err := flow.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
		for _, p := range []string{out, out + checkpointSuffix, out + trainLogSuffix} {
			os.Remove(p)
		}
	}
	if !sameBits(models[0].Params, models[1].Params) {
		t.Fatal("two runs of one command: parameters differ, want bit-identical")
	}
	_, help, _ := runCLI(t, "train", "--help")
	help = strings.Join(strings.Fields(help), " ")
	cleared := []struct {
		help  string // how the help names the field
		clear func(*flow.Model)
	}{
		{"the date", func(m *flow.Model) { m.Provenance.Date = time.Time{} }},
		{"the wall and CPU times", func(m *flow.Model) {
			m.Provenance.WallSeconds, m.Provenance.TotalWallSeconds, m.Provenance.TotalCPUSeconds = 0, 0, 0
		}},
		{"the evaluation's samples per second", func(m *flow.Model) { m.Provenance.Eval.SamplesPerSecond = 0 }},
	}
	var enc [][]byte
	for _, m := range models {
		for _, c := range cleared {
			c.clear(&m)
		}
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		enc = append(enc, b)
	}
	if !bytes.Equal(enc[0], enc[1]) {
		t.Error("two runs of one command: model files differ beyond the fields the help names")
	}
	for _, c := range cleared {
		if !strings.Contains(help, c.help) {
			t.Errorf("the help does not say that %s differs between identical runs", c.help)
		}
	}
	if strings.Contains(help, "same model bit for bit") {
		t.Error("the help still promises the same model bit for bit")
	}
}

// TestTrainDefaultsAreShippedRecipe: with default flags, a U(1) run trains
// the architecture of the shipped U(1) model with its optimizer settings
// (issue 19, D.22): the defaults were 24 layers, 6 mixtures and lr 1e-3,
// at which one step took the acceptance from 0.980 to 0.708.
func TestTrainDefaultsAreShippedRecipe(t *testing.T) {
	info, _, err := models.Default(theoryU1)
	if err != nil {
		t.Fatal(err)
	}
	// The shipped model's command, as flag -> value.
	words := strings.Fields(info.Provenance.Commands[0])
	given := map[string]string{}
	for i, w := range words {
		if strings.HasPrefix(w, "--") && i+1 < len(words) && !strings.HasPrefix(words[i+1], "--") {
			given[w] = words[i+1]
		}
	}
	tgt := info.Target
	out := filepath.Join(t.TempDir(), "d.flow")
	code, stdout, errs := runCLI(t, "train", "--theory", tgt.Theory, "--L", strconv.Itoa(tgt.L),
		"--beta", strconv.FormatFloat(tgt.Couplings[ensemble.Beta], 'g', -1, 64), "--steps", "1", "--eval-every", "0", "--out", out, "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r trainReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	want := info.Config
	if got := r.Flow; got.Layers != want.Layers || got.Mixtures != want.Mixtures || !slices.Equal(got.Hidden, want.Hidden) ||
		got.Kernel != want.Kernel || got.Base != want.Base || got.BaseMode != want.BaseMode || got.BaseBeta != want.BaseBeta || got.Init != want.Init {
		t.Errorf("default flow %+v, want the shipped model's %+v", got, want)
	}
	for flag, got := range map[string]string{
		"--lr": strconv.FormatFloat(r.LR, 'g', -1, 64), "--batch": strconv.Itoa(r.Batch), "--precision": r.Precision,
		"--seed": strconv.FormatUint(r.Seed, 10), "--schedule": r.Schedule,
	} {
		w, ok := given[flag]
		if !ok {
			continue // the shipped run took the default too
		}
		if v, err := strconv.ParseFloat(w, 64); err == nil {
			if g, _ := strconv.ParseFloat(got, 64); g == v {
				continue
			}
		}
		if got != w {
			t.Errorf("default %s %s, want the shipped model's %s", flag, got, w)
		}
	}
}

// TestTrainProgressFreshESS: before the first --eval-every measurement the
// progress line shows the fresh ESS and acceptance as "-", not NaN, and
// after it the values (issue 19, D.23), those of the log's ess_fresh and
// acc_fresh at step 5 (issue 18).
func TestTrainProgressFreshESS(t *testing.T) {
	out := filepath.Join(t.TempDir(), "p.flow")
	code, _, errs := runCLI(t, trainArgs(out, "--steps", "10", "--eval-every", "5")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if strings.Contains(errs, "NaN") {
		t.Errorf("stderr shows NaN: %q", errs)
	}
	logged, _, err := flowtrain.ReadLog(out + ".log.arrow")
	if err != nil {
		t.Fatal(err)
	}
	if len(logged) != 10 || !(logged[4].ESSFresh > 0) || !(logged[4].AccFresh > 0 && logged[4].AccFresh <= 1) {
		t.Fatalf("log: %d rows, step 5 ess_fresh %g acc_fresh %g, want 10 rows and both measured at step 5", len(logged), logged[4].ESSFresh, logged[4].AccFresh)
	}
	var before, after int
	for _, line := range strings.Split(errs, "\n") {
		i := strings.Index(line, "train: ")
		if i < 0 || !strings.Contains(line, "fresh ESS") {
			continue
		}
		var step int
		fmt.Sscanf(line[i+len("train: "):], "%d/", &step)
		fresh := line[strings.Index(line, "fresh ESS ")+len("fresh ESS "):]
		var acc string
		if j := strings.Index(line, "fresh acc "); j >= 0 {
			acc = line[j+len("fresh acc "):]
		}
		switch {
		case step < 5 && strings.HasPrefix(fresh, "- ") && strings.HasPrefix(acc, "- "):
			before++
		case step >= 5 && step < 10 && strings.HasPrefix(fresh, fmt.Sprintf("%.3f ", logged[4].ESSFresh)) &&
			strings.HasPrefix(acc, fmt.Sprintf("%.3f ", logged[4].AccFresh)):
			after++
		case step == 10: // the measurement of step 10 or the one of step 5
		default:
			t.Errorf("step %d: progress line %q, want fresh ESS and acc - before step 5 and the log's %.3f and %.3f from it on",
				step, line, logged[4].ESSFresh, logged[4].AccFresh)
		}
	}
	if before == 0 || after == 0 {
		t.Errorf("%d lines before step 5 and %d from it on, want some of each: %q", before, after, errs)
	}
}

// TestTrainKilled runs latflow train in a child process: while it runs
// another run with its --out refuses (the lock is across processes);
// after SIGKILL its lock file (naming a dead process) and the temporary
// files of an interrupted write do not stop --resume, which removes them
// (issue 19, B.7, C.19).
func TestTrainKilled(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "k.flow")
	args := trainArgs(out, "--steps", "1000000", "--checkpoint-every", "50", "--eval-every", "0")
	cmd := childLatflow(t, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(out + checkpointSuffix); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint after 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, _, errs := runCLI(t, append(slices.Clone(args), "--resume")...)
	if code != exitFailed || !strings.Contains(errs, fmt.Sprintf("pid %d", cmd.Process.Pid)) {
		t.Errorf("run beside a running one: exit %d, stderr %q, want %d and the holder's pid %d", code, errs, exitFailed, cmd.Process.Pid)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if _, err := os.Stat(out + flowtrain.LockSuffix); err != nil {
		t.Fatalf("lock file after SIGKILL: %v, want it left naming the dead holder", err)
	}
	stale := filepath.Join(dir, ".k.flow.ckpt.tmp31337")
	if err := os.WriteFile(stale, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCLI(t, append(slices.Clone(args), "--resume", "--max-time", "1ms")...)
	if code != exitOK || !strings.Contains(errs, "continuing from step") {
		t.Fatalf("--resume after SIGKILL: exit %d: %s", code, errs)
	}
	for _, p := range []string{stale, out + flowtrain.LockSuffix} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after --resume: %v, want removed", p, err)
		}
	}
}

// TestTrainTotalTime: the provenance's total_wall_seconds and
// total_cpu_seconds add the training time of the models a run started
// from (--init), recursively along a chain L=4 -> 8 -> 8; a model without
// the fields contributes its wall_seconds and makes the CPU total unknown;
// sample's training time is the total.
func TestTrainTotalTime(t *testing.T) {
	dir := t.TempDir()
	train := func(out string, args ...string) (flow.Model, flowtrain.LogRow) {
		t.Helper()
		if code, _, errs := runCLI(t, args...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		m, err := flow.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		rows, _, err := flowtrain.ReadLog(out + trainLogSuffix)
		if err != nil {
			t.Fatal(err)
		}
		return m, rows[len(rows)-1]
	}
	at8 := func(init, out string) []string {
		return []string{"train", "--theory", "phi4", "--L", "8", "--m2", "-1", "--lambda", "0.5", "--batch", "8", "--steps", "2",
			"--init", init, "--out", out}
	}
	a, b, c := filepath.Join(dir, "a.flow"), filepath.Join(dir, "b.flow"), filepath.Join(dir, "c.flow")
	ma, la := train(a, trainArgs(a, "--steps", "3")...)
	mb, lb := train(b, at8(a, b)...)
	mc, lc := train(c, at8(b, c)...)
	pa, pb, pc := ma.Provenance, mb.Provenance, mc.Provenance
	if pa.TotalWallSeconds != la.WallSeconds || !(pa.TotalWallSeconds > 0) {
		t.Errorf("first model: total_wall_seconds %g, want its log's wall_seconds %g", pa.TotalWallSeconds, la.WallSeconds)
	}
	if want := lb.WallSeconds + pa.TotalWallSeconds; pb.TotalWallSeconds != want {
		t.Errorf("second model: total_wall_seconds %g, want its own %g + the first's %g", pb.TotalWallSeconds, lb.WallSeconds, pa.TotalWallSeconds)
	}
	if want := lc.WallSeconds + pb.TotalWallSeconds; pc.TotalWallSeconds != want || !(pc.TotalWallSeconds > lc.WallSeconds+la.WallSeconds) {
		t.Errorf("third model: total_wall_seconds %g, want its own %g + the second's total %g", pc.TotalWallSeconds, lc.WallSeconds, pb.TotalWallSeconds)
	}
	if runtime.GOOS == "linux" {
		if pa.TotalCPUSeconds != la.CPUSeconds || !(pa.TotalCPUSeconds > 0) {
			t.Errorf("first model: total_cpu_seconds %g, want its log's cpu_seconds %g", pa.TotalCPUSeconds, la.CPUSeconds)
		}
		if want := lc.CPUSeconds + (lb.CPUSeconds + pa.TotalCPUSeconds); pc.TotalCPUSeconds != want {
			t.Errorf("third model: total_cpu_seconds %g, want %g + %g + %g", pc.TotalCPUSeconds, lc.CPUSeconds, lb.CPUSeconds, la.CPUSeconds)
		}
	}
	// A model of an older latflow: wall_seconds only.
	old := filepath.Join(dir, "old.flow")
	mo := ma
	mo.Provenance.TotalWallSeconds, mo.Provenance.TotalCPUSeconds, mo.Provenance.WallSeconds = 0, 0, 100
	if err := flow.Save(old, mo); err != nil {
		t.Fatal(err)
	}
	d := filepath.Join(dir, "d.flow")
	md, ld := train(d, at8(old, d)...)
	if pd := md.Provenance; pd.TotalWallSeconds != ld.WallSeconds+100 || pd.TotalCPUSeconds != 0 {
		t.Errorf("from a model without totals: total_wall_seconds %g, total_cpu_seconds %g; want %g + 100 and none (unknown)",
			pd.TotalWallSeconds, pd.TotalCPUSeconds, ld.WallSeconds)
	}
	// sample reports the total.
	r := sampleJSON(t, "sample", "--theory", "phi4", "--L", "8", "--m2", "-1", "--lambda", "0.5", "--model", c, "--n", "200", "--therm", "10", "--batch", "50")
	if math.Abs(r.TrainingSeconds-pc.TotalWallSeconds) > 1e-9*pc.TotalWallSeconds {
		t.Errorf("sample --json training_seconds %g, want the total %g", r.TrainingSeconds, pc.TotalWallSeconds)
	}
	code, out, errs := runCLI(t, "sample", "--theory", "phi4", "--L", "8", "--m2", "-1", "--lambda", "0.5", "--model", c, "--n", "200", "--therm", "10", "--batch", "50")
	if code != exitOK || !strings.Contains(out, "incl. the models it started from") {
		t.Errorf("sample: exit %d, output %q (%s), want the training time incl. the models it started from", code, out, errs)
	}
}

// TestProvenanceTotals: the totals add the model a run started from; an
// unknown CPU time anywhere in the chain (this run resumed from an old
// checkpoint, or a model without total_cpu_seconds) leaves the CPU total
// out rather than understating it.
func TestProvenanceTotals(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name              string
		wall, cpu         float64
		init              *flow.Provenance
		wantWall, wantCPU float64
	}{
		{"fresh run", 10, 8, nil, 10, 8},
		{"from a model with totals", 10, 8, &flow.Provenance{WallSeconds: 5, TotalWallSeconds: 7, TotalCPUSeconds: 6}, 17, 14},
		{"from an older model", 10, 8, &flow.Provenance{WallSeconds: 5}, 15, 0},
		{"this run's CPU unknown", 10, nan, &flow.Provenance{WallSeconds: 5, TotalWallSeconds: 7, TotalCPUSeconds: 6}, 17, 0},
		{"fresh run, CPU unknown", 10, nan, nil, 10, 0},
	} {
		w, cpu := provenanceTotals(c.wall, c.cpu, c.init)
		if w != c.wantWall || cpu != c.wantCPU {
			t.Errorf("%s: got %g, %g; want %g, %g", c.name, w, cpu, c.wantWall, c.wantCPU)
		}
	}
}
