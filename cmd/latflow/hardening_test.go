package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTraceFileNeverTruncates: an existing --trace-file is refused by every
// command that writes one, and the file is left as it was; --force allows
// it.
func TestTraceFileNeverTruncates(t *testing.T) {
	dir := t.TempDir()
	ds := filepath.Join(dir, "ds")
	if code, _, errs := runCLI(t, "hmc", "--L", "4", "--n", "50", "--therm", "5", "--out", ds); code != exitOK {
		t.Fatalf("hmc: %s", errs)
	}
	precious := filepath.Join(dir, "model.flow")
	const content = "a model file"
	if err := os.WriteFile(precious, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"hmc", "--L", "4", "--n", "20"},
		{"sample", "--theory", "phi4", "--L", "4", "--n", "20", "--batch", "8"},
		{"train", "--theory", "phi4", "--L", "4", "--layers", "2", "--hidden", "2", "--steps", "1", "--batch", "2", "--out", filepath.Join(dir, "new.flow")},
		{"bench", "--theory", "phi4", "--L", "4", "--layers", "1", "--hidden", "2", "--batch", "2", "--repeat", "1"},
		{"analyze", ds},
	} {
		t.Run(args[0], func(t *testing.T) {
			code, _, errs := runCLI(t, append(args, "--trace-file", precious)...)
			if code != exitUsage || !strings.Contains(errs, "--trace-file") {
				t.Errorf("exit %d, stderr %q: want exit %d naming --trace-file", code, errs, exitUsage)
			}
			if b, _ := os.ReadFile(precious); string(b) != content {
				t.Fatalf("%s changed the existing file to %q", args[0], b)
			}
		})
	}
	if code, _, errs := runCLI(t, "hmc", "--L", "4", "--n", "20", "--therm", "2", "--trace-file", precious, "--force"); code != exitOK {
		t.Errorf("with --force: exit %d: %s", code, errs)
	}
}

// TestTrainForceKeepsCheckpointOnBadInput: train --force validates every
// input before it removes the old checkpoint.
func TestTrainForceKeepsCheckpointOnBadInput(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.flow")
	if code, _, errs := runCLI(t, trainArgs(out, "--steps", "2", "--checkpoint-every", "1")...); code != exitOK {
		t.Fatalf("train: %s", errs)
	}
	ckpt := out + checkpointSuffix
	before, err := os.ReadFile(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(t.TempDir(), "trace.json")
	if err := os.WriteFile(existing, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{
		{"--objective", "forward", "--data", filepath.Join(t.TempDir(), "typo")},
		{"--trace-file", filepath.Join(t.TempDir(), "missing", "trace.json")},
	} {
		code, _, _ := runCLI(t, trainArgs(out, append([]string{"--force", "--steps", "2"}, extra...)...)...)
		if code == exitOK {
			t.Fatalf("%v: got exit 0, want a refusal", extra)
		}
		after, err := os.ReadFile(ckpt)
		if err != nil || string(after) != string(before) {
			t.Fatalf("%v: the checkpoint was removed or changed (%v)", extra, err)
		}
	}
}

// TestBoundsAndFiniteness: sizes are bounded before anything is allocated,
// and couplings must be finite.
func TestBoundsAndFiniteness(t *testing.T) {
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"exact", "-L", "9223372036854775807"}, "--L"},
		{[]string{"hmc", "-L", "100000"}, "--L"},
		{[]string{"hmc", "--theory", "phi4", "--m2", "NaN"}, "--m2"},
		{[]string{"hmc", "--theory", "phi4", "--lambda", "Inf"}, "--lambda"},
		{[]string{"hmc", "--theory", "phi4", "--kappa", "NaN", "--lambda", "0.1"}, "--kappa"},
		{[]string{"hmc", "--beta", "NaN"}, "--beta"},
		{[]string{"hmc", "--tau", "Inf"}, "--tau"},
		{[]string{"hmc", "--tau-jitter", "1"}, "--tau-jitter"},
		{[]string{"hmc", "--start", "warm"}, "--start"},
		{[]string{"hmc", "--part-rows", "100000000"}, "--part-rows"},
		{[]string{"hmc", "--n", "1000000000000"}, "--n"},
		{[]string{"train", "--batch", "1000000000", "--out", "x.flow"}, "--batch"},
		{[]string{"train", "--layers", "100000", "--out", "x.flow"}, "--layers"},
		{[]string{"train", "--mixtures", "100000", "--out", "x.flow"}, "--mixtures"},
		{[]string{"train", "--hidden", "100000", "--out", "x.flow"}, "--hidden"},
		{[]string{"train", "--eval", "1000000000000", "--out", "x.flow"}, "--eval"},
		{[]string{"bench", "--batch", "1000000000"}, "--batch"},
		{[]string{"bench", "-L", "100000"}, "--L"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, _, errs := runCLI(t, c.args...)
			if code != exitUsage || !strings.Contains(errs, c.flag) {
				t.Errorf("exit %d, stderr %q: want exit %d naming %s", code, errs, exitUsage, c.flag)
			}
		})
	}
}

// TestStrayArguments: a positional argument is an error on every command
// that takes none, instead of silently ignoring the flags after it.
func TestStrayArguments(t *testing.T) {
	for _, cmd := range []string{"exact", "hmc", "sample", "train", "bench", "models"} {
		code, out, errs := runCLI(t, cmd, "--json", "true", "-L", "8")
		if code != exitUsage || !strings.Contains(errs, `unexpected argument "true"`) || out != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q: want exit %d naming the argument", cmd, code, out, errs, exitUsage)
		}
	}
}

// TestAnalyzeDirectoryNamedH: a dataset directory named like the help
// command is analysed, not mistaken for help.
func TestAnalyzeDirectoryNamedH(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if code, _, errs := runCLI(t, "hmc", "--L", "4", "--n", "60", "--therm", "5", "--out", "h"); code != exitOK {
		t.Fatalf("hmc: %s", errs)
	}
	code, out, errs := runCLI(t, "analyze", "h", "--therm", "5")
	if code != exitOK || !strings.Contains(out, "plaquette") {
		t.Errorf("analyze h: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestShortRunPrintsTable: a run shorter than one part still writes its
// rows and prints its table; a frozen chain says its errors are not error
// bars.
func TestShortRunPrintsTable(t *testing.T) {
	ds := filepath.Join(t.TempDir(), "ds")
	code, out, errs := runCLI(t, "hmc", "--L", "4", "--n", "30", "--therm", "5", "--part-rows", "1000", "--out", ds)
	if code != exitOK || !strings.Contains(out, "plaquette") || !strings.Contains(errs, "30 steps saved") {
		t.Errorf("exit %d, stdout %q, stderr %q: want the table and 30 steps saved", code, out, errs)
	}
	code, out, errs = runCLI(t, "hmc", "--L", "8", "--beta", "20", "--n", "300", "--therm", "50", "--start", "cold")
	if code != exitOK || !strings.Contains(out, "not an error bar") {
		t.Errorf("frozen topology: exit %d, stdout %q, stderr %q: want a note that the error is not an error bar", code, out, errs)
	}
}

// TestTrainMaxTimeBeforeFirstStep: a time limit reached before the first
// step is an error, and no model is written.
func TestTrainMaxTimeBeforeFirstStep(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.flow")
	code, _, errs := runCLI(t, trainArgs(out, "--max-time", "1ns")...)
	if code != exitFailed || !strings.Contains(errs, "--max-time") {
		t.Errorf("exit %d, stderr %q: want exit %d naming --max-time", code, errs, exitFailed)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a model was written after zero steps")
	}
}

// TestSaveFloat32: --save-float32 halves the configuration bytes and is
// refused without --save-every.
func TestSaveFloat32(t *testing.T) {
	dir := t.TempDir()
	size := func(name string, extra ...string) int64 {
		out := filepath.Join(dir, name)
		args := append([]string{"hmc", "--L", "8", "--n", "200", "--therm", "5", "--save-every", "1", "--out", out}, extra...)
		if code, _, errs := runCLI(t, args...); code != exitOK {
			t.Fatalf("%v: %s", args, errs)
		}
		parts, _ := filepath.Glob(filepath.Join(out, "part-*.arrow"))
		var n int64
		for _, p := range parts {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			n += st.Size()
		}
		return n
	}
	f64, f32 := size("f64"), size("f32", "--save-float32")
	if !(float64(f32) < 0.6*float64(f64)) {
		t.Errorf("float32 configurations: %d bytes against %d, want about half", f32, f64)
	}
	code, _, errs := runCLI(t, "hmc", "--L", "8", "--n", "20", "--save-float32", "--out", filepath.Join(dir, "x"))
	if code != exitUsage || !strings.Contains(errs, "--save-float32") {
		t.Errorf("without --save-every: exit %d, stderr %q", code, errs)
	}
}
