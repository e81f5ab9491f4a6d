package main

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"latflow/dataset"
	"latflow/ensemble"
	"latflow/flow"
)

// sampleJSON runs latflow with args and decodes its --json report.
func sampleJSON(t *testing.T, args ...string) jsonReport {
	t.Helper()
	code, out, errs := runCLI(t, append(args, "--json")...)
	if code != exitOK {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	return r
}

// TestSampleSmall runs the shipped models and the plaquette proposal on
// small lattices: the report has the table, the acceptance, ESS and log Z,
// and U(1) values agree with the exact ones.
func TestSampleSmall(t *testing.T) {
	for _, args := range [][]string{
		{"sample", "--L", "8", "--n", "3000", "--proposal", "plaquettes"},
		{"sample", "--L", "8", "--n", "300", "--batch", "64"},
		{"sample", "--theory", "phi4", "--L", "8", "--n", "500", "--batch", "64", "--chains", "2"},
		{"sample", "--theory", "phi4", "--L", "4", "--n", "400", "--batch", "32", "--hmc-every", "3"},
	} {
		t.Run(strings.Join(args[1:], " "), func(t *testing.T) {
			r := sampleJSON(t, args...)
			if r.Proposals == 0 || r.Acceptance <= 0 || r.LogZ == nil || !(r.ESS > 0) || len(r.Observables) < 5 {
				t.Fatalf("got %+v, want proposals, acceptance, ESS, log Z and a table", r)
			}
			if r.Theory == theoryU1 && r.LogZ.Exact == nil {
				t.Errorf("u1: got no exact log Z")
			}
			for _, o := range r.Observables {
				if o.Sigma != nil && math.Abs(*o.Sigma) > 4 {
					t.Errorf("%s: %g +- %g, exact %g: %.1f sigma", o.Name, o.Mean, o.Error, *o.Exact, *o.Sigma)
				}
			}
			checkCost(t, "sample", r)
			// The shipped models record their training time.
			if strings.Contains(r.Sampler, "model") && !(r.TrainingSeconds > 0) {
				t.Errorf("sampler %q: training_seconds %g, want the model's provenance wall time", r.Sampler, r.TrainingSeconds)
			}
		})
	}
}

// TestSampleDeterministic: the thread count does not change a bit of the
// result; another seed does.
func TestSampleDeterministic(t *testing.T) {
	strip := func(r jsonReport) jsonReport { // drop the description and the timing
		r.Description, r.SecondsPer = "", 0
		for i := range r.Observables {
			r.Observables[i].Cost = nil
		}
		return r
	}
	args := []string{"sample", "--theory", "phi4", "--L", "8", "--n", "400", "--batch", "50", "--seed", "9"}
	a := strip(sampleJSON(t, append(args, "--threads", "1")...))
	b := strip(sampleJSON(t, append(args, "--threads", "3")...))
	if !reflect.DeepEqual(a, b) {
		t.Errorf("threads 1 and 3: got different reports\n%+v\n%+v", a, b)
	}
	c := strip(sampleJSON(t, append(args[:len(args)-1], "10", "--threads", "1")...))
	if reflect.DeepEqual(a, c) {
		t.Errorf("seeds 9 and 10: got the same report")
	}
}

// writeModel saves a small untrained model with architecture cfg trained
// for target tg.
func writeModel(t *testing.T, path string, cfg flow.Config, tg ensemble.Target) {
	t.Helper()
	f, err := flow.New[float64](cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	m := flow.NewModel(f)
	m.Target = tg
	if err := flow.Save(path, m); err != nil {
		t.Fatal(err)
	}
}

func TestSampleBadInput(t *testing.T) {
	dir := t.TempDir()
	phi4Model := filepath.Join(dir, "phi4.flow")
	writeModel(t, phi4Model, flow.Config{Theory: "phi4", L: 8, Layers: 2, Hidden: []int{4}, Kernel: 3}, ensemble.NewPhi4Standard(8, -4, 8))
	wide := filepath.Join(dir, "wide.flow")
	writeModel(t, wide, flow.Config{Theory: "u1", L: 8, Layers: 2, Mixtures: 2, Hidden: []int{4}, Kernel: 7}, ensemble.NewU1(8, 3))
	corrupt := filepath.Join(dir, "corrupt.flow")
	b, err := os.ReadFile(phi4Model)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(corrupt, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string // a substring of the message, naming the flag
	}{
		{"batch zero", []string{"--batch", "0"}, "--batch"},
		{"batch huge", []string{"--batch", "100000000"}, "--batch"},
		{"hmc-every negative", []string{"--hmc-every", "-1"}, "--hmc-every"},
		{"chain-offset negative", []string{"--chain-offset", "-1"}, "--chain-offset"},
		{"chain-offset too large", []string{"--chain-offset", "2147483647", "--chains", "2"}, "--chain-offset"},
		{"model of the other theory", []string{"--model", phi4Model}, "--model"},
		{"model whose kernel exceeds L", []string{"--model", wide, "--L", "4"}, "--L"},
		{"corrupt model", []string{"--model", corrupt, "--theory", "phi4"}, "checksum"},
		{"missing model", []string{"--model", filepath.Join(dir, "none.flow")}, "--model"},
		// Read whole, /dev/zero ran out of memory (issue 19, C.10).
		{"model /dev/zero", []string{"--model", "/dev/zero", "--L", "8"}, "--model: flow: model file /dev/zero: not a latflow model file"},
		{"plaquettes for phi4", []string{"--theory", "phi4", "--proposal", "plaquettes"}, "--proposal"},
		{"unknown proposal", []string{"--proposal", "magic"}, "--proposal"},
		{"unknown constraint", []string{"--proposal", "plaquettes", "--constraint", "bogus"}, "--constraint"},
		{"constraint without plaquettes", []string{"--constraint", "fixed"}, "--constraint"},
		{"exact without plaquettes", []string{"--exact"}, "--exact"},
		{"plaquettes with a model", []string{"--proposal", "plaquettes", "--model", wide}, "--model"},
		{"tau without hmc-every", []string{"--tau", "0.5"}, "--tau"},
		{"precision", []string{"--precision", "float16"}, "--precision"},
		{"stray argument", []string{"true", "--L", "8"}, "unexpected argument"},
		{"resume without out", []string{"--resume"}, "--resume"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, append([]string{"sample", "--n", "10"}, c.args...)...)
			if code != exitUsage {
				t.Errorf("exit code: got %d, want %d (stderr %q)", code, exitUsage, errs)
			}
			if !strings.Contains(errs, c.want) {
				t.Errorf("stderr %q does not contain %q", errs, c.want)
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
		})
	}
}

// TestResumeAfterKill kills hmc and sample runs with SIGKILL at some
// moment, resumes them (twice for good measure), and checks that the
// dataset equals that of the uninterrupted run bit for bit.
func TestResumeAfterKill(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"hmc", []string{"hmc", "--L", "8", "--beta", "2", "--therm", "20", "--chains", "2", "--save-every", "3"}},
		{"sample", []string{"sample", "--theory", "phi4", "--L", "8", "--batch", "32", "--chains", "2", "--save-every", "3", "--hmc-every", "5"}},
		{"hmc schwinger", []string{"hmc", "--theory", "schwinger", "--L", "4", "--beta", "1", "--kappa", "0.24", "--therm", "20", "--chains", "2", "--save-every", "3"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			const n, partRows, total = "6000", "500", 2 * 12
			ref := filepath.Join(t.TempDir(), "ref")
			if code, _, errs := runCLI(t, append(c.args, "--n", n, "--part-rows", partRows, "--out", ref)...); code != exitOK {
				t.Fatalf("reference run: exit %d: %s", code, errs)
			}
			dir := filepath.Join(t.TempDir(), "killed")
			for i, parts := range []int{1, 5} {
				args := append(c.args, "--n", n, "--part-rows", partRows, "--out", dir)
				if i > 0 {
					args = append(args, "--resume")
				}
				cmd := childLatflow(t, args...)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				waitForParts(t, dir, parts, 60*time.Second)
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				_ = cmd.Wait()
				have, _ := filepath.Glob(filepath.Join(dir, "part-*.arrow"))
				t.Logf("killed with %d of %d parts written", len(have), total)
				if len(have) >= total {
					t.Fatalf("the run finished before SIGKILL; make it longer")
				}
			}
			if code, _, errs := runCLI(t, append(c.args, "--n", n, "--part-rows", partRows, "--out", dir, "--resume")...); code != exitOK {
				t.Fatalf("resumed run: exit %d: %s", code, errs)
			}
			sameDataset(t, dir, ref)
		})
	}
}

// sameDataset fails unless two datasets have the same rows bit for bit.
func sameDataset(t *testing.T, got, want string) {
	t.Helper()
	read := func(dir string) *dataset.Dataset {
		ds, err := dataset.OpenWith(dataset.OpenOptions{Configs: true}, dir)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	g, w := read(got), read(want)
	if len(g.Chains) != len(w.Chains) {
		t.Fatalf("got %d chains, want %d", len(g.Chains), len(w.Chains))
	}
	for i := range w.Chains {
		a, b := g.Chains[i], w.Chains[i]
		a.Dir, b.Dir, a.Parts, b.Parts, a.PartInfos, b.PartInfos = "", "", nil, nil, nil, nil
		a.Meta, b.Meta = dataset.Meta{}, dataset.Meta{}
		if !reflect.DeepEqual(jsonBits(t, a), jsonBits(t, b)) {
			t.Errorf("chain %d: rows differ from the uninterrupted run", b.ID)
		}
		if len(b.Steps) == 0 {
			t.Errorf("chain %d: no rows", b.ID)
		}
	}
}

// jsonBits encodes a chain with its floats as bit patterns.
func jsonBits(t *testing.T, c dataset.Chain) string {
	t.Helper()
	bits := func(xs []float64) []uint64 {
		out := make([]uint64, len(xs))
		for i, v := range xs {
			out[i] = math.Float64bits(v)
		}
		return out
	}
	obs := map[string][]uint64{}
	for k, v := range c.Obs {
		obs[k] = bits(v)
	}
	var cfgs [][]uint64
	for _, x := range c.Configs {
		cfgs = append(cfgs, bits(x))
	}
	b, err := json.Marshal([]any{c.ID, c.Steps, c.Accepted, bits(c.Action), obs, c.Labels, c.ConfigSteps, cfgs})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
