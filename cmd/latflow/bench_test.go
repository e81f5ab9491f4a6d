package main

import (
	"encoding/json"
	"maps"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"latflow/ensemble"
	"latflow/flow"
)

// TestBench checks that latflow bench times the six estimators: six table
// rows, and six JSON entries with positive times and consistent ratios.
func TestBench(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--theory", "phi4", "--L", "4", "--layers", "2", "--hidden", "4", "--batch", "4", "--repeat", "2"},
		{"bench", "--theory", "u1", "--L", "4", "--layers", "2", "--mixtures", "2", "--hidden", "4", "--batch", "4", "--repeat", "1"},
	} {
		t.Run(args[2], func(t *testing.T) {
			code, out, errs := runCLI(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			rows := 0
			for _, line := range strings.Split(out, "\n") {
				f := strings.Fields(line)
				if len(f) >= 4 && (f[0] == "reverse" || f[0] == "forward") {
					rows++
				}
			}
			if rows != 6 {
				t.Errorf("got %d estimator rows, want 6:\n%s", rows, out)
			}

			code, out, errs = runCLI(t, append(args, "--json")...)
			if code != exitOK {
				t.Fatalf("--json: exit %d: %s", code, errs)
			}
			var r benchReport
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("bad JSON %q: %v", out, err)
			}
			if len(r.Rows) != 6 {
				t.Fatalf("got %d estimators, want 6", len(r.Rows))
			}
			seen := map[string]bool{}
			for i, row := range r.Rows {
				seen[row.Objective+" "+row.Gradient] = true
				if !(row.Median > 0) || len(row.Seconds) != r.Repeat {
					t.Errorf("%s %s: median %g from %d timings, want > 0 from %d", row.Objective, row.Gradient, row.Median, len(row.Seconds), r.Repeat)
				}
				std := r.Rows[i-i%3].Median
				if got, want := row.VsStandard, row.Median/std; got != want {
					t.Errorf("%s %s: ratio to standard got %g, want %g", row.Objective, row.Gradient, got, want)
				}
				if (row.Gradient == "fast-path") != (row.DropInOverFast > 0) {
					t.Errorf("%s %s: drop-in/fast ratio %g, want one on the fast-path rows only", row.Objective, row.Gradient, row.DropInOverFast)
				}
			}
			if len(seen) != 6 {
				t.Errorf("got estimators %v, want six different ones", seen)
			}
		})
	}
	code, _, errs := runCLI(t, "bench", "--theory", "phi4", "--L", "4", "--repeat", "0")
	if code != exitUsage || !strings.Contains(errs, "--repeat") {
		t.Errorf("--repeat 0: exit %d, stderr %q, want %d naming --repeat", code, errs, exitUsage)
	}
}

// benchZeroTol bounds the path estimators' per-sample variance at a flow
// equal to its target, relative to the standard estimator's: zero in exact
// arithmetic, the square of float64 rounding of the gradients otherwise.
const benchZeroTol = 1e-20

// writeOptimumModel writes a phi^4 model that equals its target and returns
// its path. Two identity RealNVP couplings (last convolution zero) whose
// log-scale is tanh(bias) = -ln(2)/2 on every active site map the normal
// base to N(0, 1/2) per site, the density exp(-sum phi^2) of the hopping
// action with kappa = 0 and lambda = 0.
func writeOptimumModel(t *testing.T) string {
	t.Helper()
	cfg := flow.DefaultConfig(flow.TheoryPhi4, 4)
	cfg.Layers, cfg.Hidden, cfg.Init = 2, []int{2}, flow.InitIdentity
	f, err := flow.New[float64](cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range f.Layers {
		net := l.(*flow.RealNVPCoupling[float64]).Net()
		net.Layers[len(net.Layers)-1].B[0] = math.Atanh(-math.Ln2 / 2)
	}
	m := flow.NewModel(f)
	m.Target = ensemble.NewPhi4Hopping(4, 0, 0)
	path := filepath.Join(t.TempDir(), "optimum.flow")
	if err := flow.Save(path, m); err != nil {
		t.Fatal(err)
	}
	return path
}

// benchVariance runs latflow bench --variance --json with args and returns
// the report, failing the test on a nonzero exit or a report without the
// variance key.
func benchVariance(t *testing.T, args ...string) varianceReport {
	t.Helper()
	code, out, errs := runCLI(t, append([]string{"bench", "--variance", "--json"}, args...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &keys); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	if _, ok := keys["variance"]; !ok {
		t.Fatalf("got keys %v, want a \"variance\" key", slices.Sorted(maps.Keys(keys)))
	}
	var r varianceReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	return r
}

// traces returns the trace of each estimator of r by "objective gradient".
func traces(t *testing.T, r varianceReport) map[string]float64 {
	t.Helper()
	tr := map[string]float64{}
	for _, row := range r.Variance {
		if row.Trace == nil {
			t.Fatalf("%s %s: trace not finite", row.Objective, row.Gradient)
		}
		tr[row.Objective+" "+row.Gradient] = *row.Trace
	}
	return tr
}

// TestBenchVariance: latflow bench --variance reports the six estimators
// under the variance key of --json, with the number of samples asked for,
// positive finite traces and errors, the ratio standard/this, and says
// where the forward samples came from (exact samples for u1, HMC for phi4);
// the text table has the six rows.
func TestBenchVariance(t *testing.T) {
	for _, c := range []struct {
		args    []string
		forward string
	}{
		{[]string{"--theory", "phi4", "--L", "4", "--layers", "2", "--hidden", "4"}, "HMC chain"},
		{[]string{"--theory", "u1", "--L", "4", "--layers", "2", "--mixtures", "2", "--hidden", "4", "--precision", "float32"}, "exact samples"},
	} {
		t.Run(c.args[1], func(t *testing.T) {
			r := benchVariance(t, append(c.args, "--samples", "300")...)
			if r.Samples != 300 || !strings.Contains(r.ForwardData, c.forward) || !strings.HasPrefix(r.ForwardData, "300 ") {
				t.Errorf("got %d samples, forward samples %q: want 300, from %s", r.Samples, r.ForwardData, c.forward)
			}
			tr := traces(t, r)
			for _, obj := range []string{"reverse", "forward"} {
				for _, g := range []string{"standard", "dropin-path", "fast-path"} {
					if v, ok := tr[obj+" "+g]; !ok || !(v > 0) {
						t.Errorf("%s %s: got trace %g (present %v), want > 0", obj, g, v, ok)
					}
				}
			}
			if len(r.Variance) != 6 {
				t.Errorf("got %d variance rows, want 6", len(r.Variance))
			}
			for _, row := range r.Variance {
				if row.TraceErr == nil || !(*row.TraceErr > 0) || row.StandardOver == nil {
					t.Errorf("%s %s: got error %v, standard/this %v, want both finite", row.Objective, row.Gradient, row.TraceErr, row.StandardOver)
					continue
				}
				if got, want := *row.StandardOver, tr[row.Objective+" standard"]/tr[row.Objective+" "+row.Gradient]; got != want {
					t.Errorf("%s %s: standard/this got %g, want %g", row.Objective, row.Gradient, got, want)
				}
				if isStd := row.Gradient == "standard"; row.StandardOverErr == nil || (*row.StandardOverErr == 0) != isStd {
					t.Errorf("%s %s: standard/this error %v, want 0 on the standard row only", row.Objective, row.Gradient, row.StandardOverErr)
				}
			}

			code, out, errs := runCLI(t, append([]string{"bench", "--variance"}, c.args...)...)
			if code != exitOK {
				t.Fatalf("text: exit %d: %s", code, errs)
			}
			rows := 0
			for _, line := range strings.Split(out, "\n") {
				if f := strings.Fields(line); len(f) >= 5 && (f[0] == "reverse" || f[0] == "forward") && f[1] != "samples:" {
					rows++
				}
			}
			if rows != 6 || !strings.Contains(out, "forward samples: 256 ") {
				t.Errorf("got %d estimator rows, want 6 and the forward samples:\n%s", rows, out)
			}
		})
	}
}

// TestBenchVarianceZeroAtOptimum: at a model equal to its target the path
// estimators' per-sample variance is zero to rounding, for both
// objectives, while the standard estimators' is not (the Fisher
// information); the same model at another target (kappa = 0.2) gives the
// path estimators a variance, so the zero is the model's, not the
// command's.
func TestBenchVarianceZeroAtOptimum(t *testing.T) {
	model := writeOptimumModel(t)
	// In float64: the zero is to rounding.
	args := []string{"--theory", "phi4", "--L", "4", "--model", model, "--lambda", "0", "--precision", "float64"}
	tr := traces(t, benchVariance(t, append(args, "--kappa", "0")...))
	for _, obj := range []string{"reverse", "forward"} {
		std := tr[obj+" standard"]
		if !(std > 1) {
			t.Errorf("%s standard: got trace %g, want a nonzero variance", obj, std)
		}
		for _, g := range []string{"dropin-path", "fast-path"} {
			if v := tr[obj+" "+g]; !(v <= benchZeroTol*std) {
				t.Errorf("q = p: %s %s: got trace %g, want < %g of the standard trace %g", obj, g, v, benchZeroTol, std)
			}
		}
	}
	t.Logf("q = p: traces %v", tr)
	off := traces(t, benchVariance(t, append(args, "--kappa", "0.2")...))
	t.Logf("q != p: traces %v", off)
	for _, obj := range []string{"reverse", "forward"} {
		if v, std := off[obj+" fast-path"], off[obj+" standard"]; !(v > 1e-6*std) {
			t.Errorf("q != p: %s fast-path: got trace %g, want a variance (standard %g)", obj, v, std)
		}
	}
}

// TestBenchBadValues: bad values of the variance and list flags exit 2
// with a message naming the flag.
func TestBenchBadValues(t *testing.T) {
	phi4 := writeOptimumModel(t)
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--variance", "--samples", "0"}, "--samples"},
		{[]string{"--variance", "--samples", "255"}, "--samples"},
		{[]string{"--variance", "--samples", "100000000"}, "--samples"},
		{[]string{"--samples", "300"}, "--samples"},
		{[]string{"--L", "8,x"}, "--L"},
		{[]string{"--L", ""}, "--L"},
		{[]string{"--theory", "u1", "--L", "8,6"}, "--L"},
		{[]string{"--theory", "phi4", "--L", "4,5000"}, "--L"},
		{[]string{"--layers", "0"}, "--layers"},
		{[]string{"--layers", "8,2000"}, "--layers"},
		{[]string{"--layers", "8,,16"}, "--layers"},
		{[]string{"--variance", "--L", "8,16"}, "--variance"},
		{[]string{"--variance", "--theory", "u1", "--L", "4", "--model", phi4}, "--model"},
		{[]string{"--variance", "--theory", "phi4", "--L", "4", "--model", filepath.Join(t.TempDir(), "none.flow")}, "--model"},
		{[]string{"--variance", "--theory", "phi4", "--L", "4", "--model", phi4, "--layers", "2"}, "--layers"},
		{[]string{"--theory", "phi4", "--L", "4", "--model", phi4}, "--model"},
		{[]string{"--variance", "--theory", "phi4", "--L", "4", "--batch", "8"}, "--batch"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out, errs := runCLI(t, append([]string{"bench"}, c.args...)...)
			if code != exitUsage || !strings.Contains(errs, c.flag) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q: want exit %d naming %s", code, out, errs, exitUsage, c.flag)
			}
		})
	}
}

// TestBenchScaling: lists of --L and --layers time every pair: a table per
// objective with one row per (L, layers), L major, and --json with one run
// per pair, each with the six estimators; progress is shown on stderr.
func TestBenchScaling(t *testing.T) {
	args := []string{"bench", "--theory", "phi4", "--L", "4,6", "--layers", "1,3", "--hidden", "2", "--batch", "2", "--repeat", "1"}
	want := [][2]int{{4, 1}, {4, 3}, {6, 1}, {6, 3}}
	code, out, errs := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "bench: 48/48") { // 4 pairs x 6 estimators x (1 + 1 warm-up)
		t.Errorf("stderr %q: want progress up to 48/48", errs)
	}
	var got [][2]int
	tables := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[1] == "KL," {
			tables++
		}
		if len(f) != 8 {
			continue
		}
		L, err1 := strconv.Atoi(f[0])
		n, err2 := strconv.Atoi(f[1])
		if err1 == nil && err2 == nil {
			got = append(got, [2]int{L, n})
		}
	}
	if tables != 2 || !slices.Equal(got, append(slices.Clone(want), want...)) {
		t.Errorf("got %d tables with rows (L, layers) %v, want 2 tables of %v:\n%s", tables, got, want, out)
	}

	code, out, errs = runCLI(t, append(args, "--json")...)
	if code != exitOK {
		t.Fatalf("--json: exit %d: %s", code, errs)
	}
	var r benchScaling
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	if len(r.Runs) != len(want) {
		t.Fatalf("got %d runs, want %d", len(r.Runs), len(want))
	}
	for i, run := range r.Runs {
		if [2]int{run.L, run.Layers} != want[i] || len(run.Rows) != 6 || run.Params <= 0 {
			t.Errorf("run %d: got L=%d layers=%d, %d estimators, %d parameters; want %v, 6, > 0", i, run.L, run.Layers, len(run.Rows), run.Params, want[i])
		}
	}
}

// TestBenchMemoryLargest: the memory check of a list run is that of its
// largest pair, wherever it stands in the list.
func TestBenchMemoryLargest(t *testing.T) {
	o := &benchOptions{lList: "16,4,8", layersList: "2,24,4", set: flagSet{flagLayers: true}}
	o.target = targetOptions{theory: theoryPhi4, m2: -4, lambda: 8, set: o.set}
	o.arch = archOptions{hidden: "8,8", kernel: 3, precision: precisionFloat32, set: o.set}
	cfgs, prec, err := o.configs()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs) != 9 {
		t.Fatalf("got %d pairs, want 9", len(cfgs))
	}
	got := benchMemory(cfgs, prec, 64)
	big := cfgs[1] // L=16, 24 layers
	if want := trainMemory(big.arch, prec, 64, 0); !slices.Equal(got, want) {
		t.Errorf("got %+v, want the terms of L=16 with 24 layers %+v", got, want)
	}
}
