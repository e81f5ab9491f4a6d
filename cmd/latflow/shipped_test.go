package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"latflow/flow"
	"latflow/models"
)

// TestModelsExport: latflow models --export writes the embedded model
// byte for byte, as a model file that loads; it refuses to overwrite a file
// without --force and refuses unknown names, listing the shipped ones.
func TestModelsExport(t *testing.T) {
	dir := t.TempDir()
	for _, name := range models.Names() {
		_, want, err := models.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".flow")
		if code, _, errs := runCLI(t, "models", "--export", name, path); code != exitOK {
			t.Fatalf("models --export %s: exit %d: %s", name, code, errs)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: exported %d bytes differ from the embedded %d bytes", name, len(got), len(want))
		}
		m, err := flow.Load(path)
		if err != nil {
			t.Fatalf("%s: exported file does not load: %v", name, err)
		}
		if m.Config.Theory != flow.TheoryFor(m.Target.Theory) {
			t.Errorf("%s: loaded a flow for %s trained for %s", name, m.Config.Theory, m.Target.Theory)
		}
	}

	// An existing file is kept without --force, replaced with it (--force
	// after FILE too).
	name := models.Names()[0]
	path := filepath.Join(dir, "exists.flow")
	if err := os.WriteFile(path, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, "models", "--export", name, path)
	if code != exitUsage || !strings.Contains(errs, "--force") {
		t.Errorf("export over an existing file: exit %d, %q; want exit 2 naming --force", code, errs)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep" {
		t.Errorf("export without --force changed the existing file to %d bytes", len(b))
	}
	if code, _, errs := runCLI(t, "models", "--export", name, path, "--force"); code != exitOK {
		t.Fatalf("export --force: exit %d: %s", code, errs)
	}
	_, want, _ := models.Get(name)
	if b, _ := os.ReadFile(path); !bytes.Equal(b, want) {
		t.Errorf("export --force: file not replaced by the model")
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"models", "--export", "nope", filepath.Join(dir, "n.flow")}, "nope"},
		{[]string{"models", "--export", name}, "FILE"},
		{[]string{"models", "--export", name, dir}, "directory"},
		{[]string{"models", "--export", name, filepath.Join(dir, "a"), filepath.Join(dir, "b")}, "FILE"},
		{[]string{"models", filepath.Join(dir, "a")}, "--export"},
		{[]string{"models", "--export", name, "--json", filepath.Join(dir, "a")}, "--json"},
		{[]string{"models", "--force"}, "--export"},
		{[]string{"models", "--export", name, filepath.Join(dir, "a"), "--json"}, "--json after FILE"},
	} {
		code, _, errs := runCLI(t, c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 naming %s", c.args, code, errs, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "n.flow")); err == nil {
		t.Errorf("export of an unknown model wrote a file")
	}
}

// TestShippedModelFlags: shipped:NAME is accepted wherever a model file is,
// and is the same model as the exported file; an unknown name is exit 2
// with the shipped names listed.
func TestShippedModelFlags(t *testing.T) {
	dir := t.TempDir()
	const name = "phi4-L8-m2-4-lambda8"
	file := filepath.Join(dir, "exported.flow")
	if code, _, errs := runCLI(t, "models", "--export", name, file); code != exitOK {
		t.Fatalf("export: exit %d: %s", code, errs)
	}

	// sample: the default model, shipped:NAME and the exported file give
	// the same chain.
	base := []string{"sample", "--theory", "phi4", "--L", "4", "--n", "200", "--batch", "32", "--seed", "5"}
	def := sampleJSON(t, base...)
	for _, model := range []string{models.Prefix + name, file} {
		r := sampleJSON(t, append(slices.Clone(base), "--model", model)...)
		if r.Acceptance != def.Acceptance || len(r.Observables) != len(def.Observables) {
			t.Fatalf("--model %s: acceptance %g, %d observables; default model %g, %d", model, r.Acceptance, len(r.Observables), def.Acceptance, len(def.Observables))
		}
		for i, o := range r.Observables {
			if o.Mean != def.Observables[i].Mean {
				t.Errorf("--model %s: %s = %g, default model %g", model, o.Name, o.Mean, def.Observables[i].Mean)
			}
		}
	}

	// train --init: shipped:NAME and the exported file start from the same
	// parameters, so the trained models agree.
	var params [][]float64
	for i, init := range []string{models.Prefix + name, file} {
		out := filepath.Join(dir, "init"+string(rune('a'+i))+".flow")
		args := []string{"train", "--theory", "phi4", "--L", "4", "--init", init, "--steps", "2", "--batch", "8", "--seed", "3", "--out", out}
		if code, _, errs := runCLI(t, args...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		params = append(params, loadParams(t, out))
	}
	if !slices.Equal(params[0], params[1]) {
		t.Errorf("train --init shipped:%s and --init of the exported file trained different parameters", name)
	}

	for _, args := range [][]string{
		{"sample", "--theory", "phi4", "--L", "4", "--n", "10", "--model", "shipped:nope"},
		{"train", "--theory", "phi4", "--L", "4", "--steps", "1", "--out", filepath.Join(dir, "x.flow"), "--init", "shipped:nope"},
		{"bench", "--variance", "--theory", "phi4", "--L", "4", "--model", "shipped:nope"},
	} {
		code, _, errs := runCLI(t, args...)
		if code != exitUsage || !strings.Contains(errs, `"nope"`) {
			t.Errorf("%v: exit %d, %q; want exit 2 naming nope", args, code, errs)
		}
		for _, n := range models.Names() {
			if !strings.Contains(errs, n) {
				t.Errorf("%v: error %q does not list the shipped model %s", args, errs, n)
			}
		}
	}
}
