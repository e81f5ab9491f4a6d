package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"latflow/ensemble"
	"latflow/flow"
)

// schwingerRow is a row of the JSON report.
type schwingerRow struct {
	Name  string  `json:"name"`
	Mean  float64 `json:"mean"`
	Error float64 `json:"error"`
}

// runSchwingerJSON runs a command with --json and returns its rows by the
// start of their names.
func runSchwingerJSON(t *testing.T, args ...string) map[string]schwingerRow {
	t.Helper()
	code, out, errs := runCLI(t, append(args, "--json")...)
	if code != exitOK {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	var rep struct {
		Observables []schwingerRow `json:"observables"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %v in %q", args, err, out)
	}
	rows := map[string]schwingerRow{}
	for _, r := range rep.Observables {
		rows[strings.Fields(r.Name)[0]] = r
	}
	return rows
}

// schwingerLong runs TestSchwingerHMCAgreesWithIMH with long statistics at
// more couplings.
var schwingerLong = flag.Bool("schwinger.long", false, "TestSchwingerHMCAgreesWithIMH: L=4 and 8 at beta 1 and 2, 10^5 measurements each (8 minutes on one core of the shared machine)")

// TestSchwingerHMCAgreesWithIMH is the exactness check of independence
// Metropolis for the Schwinger model: pseudofermion HMC (hmc) and
// independence Metropolis with the exact determinant in the weight (sample,
// plaquette proposal, alone and, at L=4, with HMC on the exact action every
// 4 proposals) must agree on the plaquette, chi_t, the condensate and the
// pion mass within 3 sigma, and both must differ from pure U(1) gauge
// theory at the same beta in the plaquette by 5 sigma (the determinant is
// in the weight at all; the pure gauge run uses the exact sampler, whose
// plaquette is exact). L=4 runs always (6000 measurements with -short,
// 20000 without), L=8 without -short (10000), and -schwinger.long runs
// 10^5 measurements at beta 1 and 2 for both L. With the determinant
// dropped from the weight of sample (ensemble.Target.Action returning the
// gauge action), the -short run fails on every observable, by 7 (chi_t)
// to 26 (condensate) sigma, and on the comparison with pure gauge.
func TestSchwingerHMCAgreesWithIMH(t *testing.T) {
	type point struct {
		L, beta, kappa string
		n              int
		hybrid         bool
	}
	points := []point{{"4", "1", "0.24", 20000, true}, {"8", "1", "0.24", 10000, false}}
	switch {
	case *schwingerLong:
		points = []point{{"4", "1", "0.24", 100000, true}, {"4", "2", "0.22", 100000, false},
			{"8", "1", "0.24", 100000, false}, {"8", "2", "0.24", 100000, true}}
	case testing.Short():
		points = []point{{"4", "1", "0.24", 6000, true}}
	}
	for _, p := range points {
		t.Run(fmt.Sprintf("L=%s/beta=%s/kappa=%s", p.L, p.beta, p.kappa), func(t *testing.T) {
			n := strconv.Itoa(p.n)
			common := []string{"--theory", "schwinger", "--L", p.L, "--beta", p.beta, "--kappa", p.kappa, "--n", n, "--seed", "7"}
			hmc := runSchwingerJSON(t, append([]string{"hmc", "--therm", "200"}, common...)...)
			others := []struct {
				name string
				rows map[string]schwingerRow
			}{{"imh", runSchwingerJSON(t, append([]string{"sample", "--therm", "100"}, common...)...)}}
			if p.hybrid {
				// The hybrid: HMC on the exact effective action every 4 proposals.
				others = append(others, struct {
					name string
					rows map[string]schwingerRow
				}{"imh+hmc", runSchwingerJSON(t, append([]string{"sample", "--therm", "100", "--hmc-every", "4"}, common...)...)})
			}
			for _, other := range others {
				for _, name := range []string{"plaquette", "chi_t", "condensate", "m_pi"} {
					a, b := hmc[name], other.rows[name]
					if a.Name == "" || b.Name == "" {
						t.Fatalf("%s: no row (hmc %v, %s %v)", name, hmc, other.name, other.rows)
					}
					sigma := math.Hypot(a.Error, b.Error)
					d := (a.Mean - b.Mean) / sigma
					t.Logf("%-12s hmc %.5f(%.5f)  %s %.5f(%.5f)  %+.2f sigma", name, a.Mean, a.Error, other.name, b.Mean, b.Error, d)
					if !(sigma > 0) || math.Abs(d) > 3 {
						t.Errorf("%s: hmc %g(%g) and %s %g(%g) differ by %.2f sigma", name, a.Mean, a.Error, other.name, b.Mean, b.Error, d)
					}
				}
			}
			pure := runSchwingerJSON(t, "sample", "--theory", "u1", "--L", p.L, "--beta", p.beta, "--proposal", "plaquettes", "--exact", "--n", n, "--seed", "7")
			for _, r := range []schwingerRow{hmc["plaquette"], others[0].rows["plaquette"]} {
				q := pure["plaquette"]
				if d := (r.Mean - q.Mean) / math.Hypot(r.Error, q.Error); d < 5 {
					t.Errorf("plaquette %g(%g) with fermions is only %.1f sigma above the pure gauge %g(%g): is the determinant in the weight?", r.Mean, r.Error, d, q.Mean, q.Error)
				}
			}
		})
	}
}

// TestSchwingerHMCTauAuto: hmc --theory schwinger chooses its trajectory
// length by default, by the cost of Q^2 in CG iterations, says so in the
// sampler line and the notes, and runs tau=1 with a note why when --therm
// is too short for the search.
func TestSchwingerHMCTauAuto(t *testing.T) {
	args := []string{"hmc", "--theory", "schwinger", "--L", "4", "--beta", "2", "--kappa", "0.24", "--n", "100", "--seed", "5", "--json"}
	for _, c := range []struct {
		therm       string
		sampler     string
		notes       []string
		notInSample string
	}{
		{"1000", "tau=auto, chose ", []string{"tau auto chose", "Q^2 in CG iterations"}, "tau=1,"},
		{"100", "tau=1,", []string{"--therm 100 is below"}, "auto"},
	} {
		code, out, errs := runCLI(t, append(args, "--therm", c.therm)...)
		if code != exitOK {
			t.Fatalf("--therm %s: exit %d, stderr %q", c.therm, code, errs)
		}
		var r jsonReport
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("bad JSON %q: %v", out, err)
		}
		notes := strings.Join(r.Notes, "\n")
		if !strings.Contains(r.Sampler, c.sampler) || strings.Contains(r.Sampler, c.notInSample) {
			t.Errorf("--therm %s: sampler %q, want %q in it and not %q", c.therm, r.Sampler, c.sampler, c.notInSample)
		}
		for _, n := range c.notes {
			if !strings.Contains(notes, n) {
				t.Errorf("--therm %s: notes %q lack %q", c.therm, notes, n)
			}
		}
	}
}

// TestSchwingerBadFlags checks that bad flags of the Schwinger model exit
// with the usage code and name the flag.
func TestSchwingerBadFlags(t *testing.T) {
	s := []string{"--theory", "schwinger"}
	for _, c := range []struct {
		name string
		args []string
		flag string
	}{
		{"hmc odd L", append([]string{"hmc", "--L", "5", "--kappa", "0.2"}, s...), "--L"},
		{"sample odd L", append([]string{"sample", "--L", "7", "--kappa", "0.2"}, s...), "--L"},
		{"sample L above 16", append([]string{"sample", "--L", "18", "--kappa", "0.2"}, s...), "--L"},
		{"kappa above 0.5", append([]string{"hmc", "--L", "4", "--kappa", "0.6"}, s...), "--kappa"},
		{"kappa zero", append([]string{"hmc", "--L", "4", "--kappa", "0"}, s...), "--kappa"},
		{"kappa negative", append([]string{"sample", "--L", "4", "--kappa", "-0.1"}, s...), "--kappa"},
		{"kappa missing", append([]string{"hmc", "--L", "4"}, s...), "--kappa"},
		{"kappa NaN", append([]string{"hmc", "--L", "4", "--kappa", "NaN"}, s...), "--kappa"},
		{"with lambda", append([]string{"hmc", "--L", "4", "--kappa", "0.2", "--lambda", "1"}, s...), "--lambda"},
		{"exact samples", append([]string{"sample", "--L", "4", "--kappa", "0.2", "--proposal", "plaquettes", "--exact"}, s...), "--exact"},
		{"phi4 model", append([]string{"sample", "--L", "8", "--kappa", "0.2", "--model", "shipped:phi4-L8-m2-4-lambda8"}, s...), "--model"},
		{"tau auto with md-steps", append([]string{"hmc", "--L", "4", "--kappa", "0.2", "--tau", "auto", "--md-steps", "5"}, s...), "--md-steps"},
		{"tau auto short therm", append([]string{"hmc", "--L", "4", "--kappa", "0.2", "--tau", "auto", "--therm", "500"}, s...), "--therm"},
		{"train odd L", append([]string{"train", "--L", "5", "--kappa", "0.2", "--out", "/nonexistent/x"}, s...), "--L"},
		{"train L not a multiple of 4", append([]string{"train", "--L", "6", "--kappa", "0.2", "--out", "/nonexistent/x"}, s...), "--L"},
		{"train L above 16", append([]string{"train", "--L", "20", "--kappa", "0.2", "--out", "/nonexistent/x"}, s...), "--L"},
		{"train kappa missing", append([]string{"train", "--L", "4", "--out", "/nonexistent/x"}, s...), "--kappa"},
		{"bench", append([]string{"bench", "--L", "4", "--kappa", "0.2"}, s...), "--theory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCLI(t, c.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d (stderr %q)", code, exitUsage, errs)
			}
			if !strings.Contains(lastLine(errs), c.flag) {
				t.Errorf("stderr %q does not name %s", errs, c.flag)
			}
		})
	}
}

// TestSchwingerCGMeasurements runs hmc beyond the dense determinant
// (L=18), where the condensate is a noise estimate and the pion correlator
// comes from CG, and checks that the table has finite values.
func TestSchwingerCGMeasurements(t *testing.T) {
	rows := runSchwingerJSON(t, "hmc", "--theory", "schwinger", "--L", "18", "--beta", "2", "--kappa", "0.2",
		"--n", "30", "--therm", "0", "--md-steps", "6", "--seed", "3")
	for _, name := range []string{"plaquette", "condensate", "m_pi"} {
		if r := rows[name]; r.Name == "" || math.IsNaN(r.Mean) || math.IsInf(r.Mean, 0) {
			t.Errorf("%s: row %+v", name, r)
		}
	}
	// At kappa = 0.2 the condensate -Tr D^-1/V is near -2 (D = 1 at kappa 0).
	if c := rows["condensate"].Mean; !(c < -1.5 && c > -2.5) {
		t.Errorf("condensate %g, want near -2", c)
	}
}

// TestSchwingerSubmit checks that submit wraps hmc --theory schwinger: the
// script runs it with its flags, and a bad kappa is refused before any
// script is written.
func TestSchwingerSubmit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs")
	args := []string{"submit", "--dry-run", "--tasks", "2", "--out", dir, "--", "hmc", "--theory", "schwinger", "--L", "8", "--beta", "2", "--kappa", "0.26", "--n", "100"}
	code, script, errs := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"--theory schwinger", "--kappa 0.26", "--resume"} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	args[len(args)-3] = "0.7"
	if code, _, errs := runCLI(t, args...); code != exitUsage || !strings.Contains(errs, "--kappa") {
		t.Errorf("kappa 0.7: exit %d, stderr %q; want %d naming --kappa", code, errs, exitUsage)
	}
}

// TestTrainSchwinger trains the U(1) flow on the Schwinger target for a few
// steps: the model records the Schwinger target (beta and kappa) with a
// U(1) flow, and sample --theory schwinger takes it as its proposal.
func TestTrainSchwinger(t *testing.T) {
	out := filepath.Join(t.TempDir(), "s.flow")
	code, _, errs := runCLI(t, "train", "--theory", "schwinger", "--L", "4", "--beta", "2", "--kappa", "0.2",
		"--layers", "2", "--hidden", "4", "--batch", "8", "--steps", "3", "--out", out)
	if code != exitOK {
		t.Fatalf("train: exit %d: %s", code, errs)
	}
	m, err := flow.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	want := ensemble.NewSchwinger(4, 2, 0.2)
	if !m.Target.Equal(want) || m.Config.Theory != flow.TheoryU1 || m.Config.Base != flow.BasePlaquettes || m.Config.BaseBeta != 2 {
		t.Errorf("model target %v, flow %s with base %s at beta %g; want %v, a u1 flow on the plaquettes at beta 2",
			m.Target, m.Config.Theory, m.Config.Base, m.Config.BaseBeta, want)
	}
	rows := runSchwingerJSON(t, "sample", "--theory", "schwinger", "--L", "4", "--beta", "2", "--kappa", "0.2",
		"--model", out, "--n", "200", "--seed", "3")
	if r, ok := rows["plaquette"]; !ok || !(r.Mean > 0 && r.Mean < 1) {
		t.Errorf("sample with the trained model: plaquette row %+v (present %v), want a mean in (0, 1)", r, ok)
	}
}

// TestHMCFrozenTopologyUnreliable: an HMC chain whose charge never moves
// (the Schwinger model at beta 50 from a cold start) marks every row
// unreliable, with the reason in the JSON.
func TestHMCFrozenTopologyUnreliable(t *testing.T) {
	code, out, errs := runCLI(t, "hmc", "--theory", "schwinger", "--L", "4", "--beta", "50", "--kappa", "0.2",
		"--n", "120", "--therm", "0", "--start", "cold", "--tau", "1", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Unreliable  string `json:"unreliable"`
		Observables []struct {
			Name     string `json:"name"`
			Reliable bool   `json:"reliable"`
		} `json:"observables"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rep.Unreliable, "Q = 0 in all 120 measurements (frozen topology)") {
		t.Errorf("unreliable %q, want the frozen charge named", rep.Unreliable)
	}
	for _, o := range rep.Observables {
		if o.Reliable {
			t.Errorf("%s: reliable, want every row unreliable under frozen topology", o.Name)
		}
	}
}
