package main

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"latflow/flowtrain"
)

// plotFixtures makes a small hmc dataset, a sample dataset with the
// plaquette proposal, and a training log, once per test.
func plotFixtures(t *testing.T) (hmcDir, sampleDir, trainLog string) {
	t.Helper()
	tmp := t.TempDir()
	hmcDir, sampleDir = filepath.Join(tmp, "hmc"), filepath.Join(tmp, "imh")
	for _, args := range [][]string{
		{"hmc", "--L", "4", "--n", "400", "--therm", "20", "--chains", "2", "--out", hmcDir},
		{"sample", "--L", "4", "--beta", "2", "--proposal", "plaquettes", "--n", "400", "--therm", "10", "--out", sampleDir},
		{"train", "--L", "4", "--layers", "2", "--mixtures", "2", "--hidden", "4", "--steps", "30", "--batch", "8", "--eval-every", "10",
			"--out", filepath.Join(tmp, "m.flow")},
	} {
		if code, _, errs := runCLI(t, args...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
	}
	return hmcDir, sampleDir, filepath.Join(tmp, "m.flow.log.arrow")
}

// TestPlotCommands renders each plot from small fixtures, as PNG and SVG
// (flags after the inputs too), and checks the picture decodes and the SVG
// names what it shows.
func TestPlotCommands(t *testing.T) {
	hmcDir, sampleDir, log := plotFixtures(t)
	out := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want []string // texts of the SVG
	}{
		{"train", []string{"plot", "train", log}, []string{"loss", "learning rate", "fresh"}},
		{"train by time", []string{"plot", "train", log, log, "--x", "time"}, []string{"wall time (s)"}},
		{"train by CPU time", []string{"plot", "train", log, "--x", "cpu"}, []string{"CPU time (s)", "independence Metropolis acceptance of the fresh samples", "training time"}},
		{"history", []string{"plot", "history", hmcDir, "--obs", "Q,plaquette", "--therm", "50"}, []string{"history of Q ", "history of plaquette", "--therm 50", "chain 1"}},
		{"autocorr", []string{"plot", "autocorr", "--obs", "Q^2", hmcDir}, []string{"autocorrelation of Q^2", "tau_int(W)", "window W"}},
		{"weights", []string{"plot", "weights", sampleDir}, []string{"log w - max log w", "ESS/N"}},
	} {
		for _, ext := range []string{".png", ".svg"} {
			t.Run(tc.name+"/"+ext, func(t *testing.T) {
				path := filepath.Join(out, strings.ReplaceAll(tc.name, " ", "_")+ext)
				code, _, errs := runCLI(t, append(tc.args, "-o", path)...)
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, errs)
				}
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if ext == ".png" {
					if _, err := png.Decode(bytes.NewReader(data)); err != nil {
						t.Errorf("PNG does not decode: %v", err)
					}
					return
				}
				if err := xml.Unmarshal(data, new(struct{})); err != nil {
					t.Errorf("SVG does not parse: %v", err)
				}
				for _, w := range tc.want {
					if !bytes.Contains(data, []byte(xmlEscape(w))) {
						t.Errorf("SVG lacks %q", w)
					}
				}
			})
		}
	}
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// TestPlotBadInput: no such column, an empty dataset, an unknown extension
// and other bad input exit with 2, name the problem, and write no file.
func TestPlotBadInput(t *testing.T) {
	hmcDir, _, log := plotFixtures(t)
	empty := t.TempDir()
	out := t.TempDir()
	// A log of an older latflow: no CPU times.
	oldLog := filepath.Join(t.TempDir(), "old.flow.log.arrow")
	if err := flowtrain.WriteLog(oldLog, []flowtrain.LogRow{{Step: 1, Loss: 1, ESS: 0.5, LR: 1e-3, WallSeconds: 1, CPUSeconds: math.NaN()}}, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		ext  string
		want string
	}{
		{"no such column", []string{"plot", "history", hmcDir, "--obs", "Q,nope"}, ".png", `no observable "nope"`},
		{"autocorr no such column", []string{"plot", "autocorr", hmcDir, "--obs", "m"}, ".svg", `no observable "m"`},
		{"empty dataset", []string{"plot", "history", empty, "--obs", "Q"}, ".png", "part-"},
		{"no dataset", []string{"plot", "weights", filepath.Join(empty, "none")}, ".png", "none"},
		{"unknown extension", []string{"plot", "history", hmcDir, "--obs", "Q"}, ".jpg", ".jpg"},
		{"no extension", []string{"plot", "train", log}, "", "extension"},
		{"weights of hmc", []string{"plot", "weights", hmcDir}, ".png", "log_weight"},
		{"no obs", []string{"plot", "history", hmcDir}, ".png", "--obs"},
		{"two obs for autocorr", []string{"plot", "autocorr", hmcDir, "--obs", "Q,Q^2"}, ".png", "one observable"},
		{"bad x", []string{"plot", "train", log, "--x", "wall"}, ".png", "--x"},
		{"cpu of an old log", []string{"plot", "train", oldLog, "--x", "cpu"}, ".png", "no CPU times"},
		{"therm drops all", []string{"plot", "autocorr", hmcDir, "--obs", "Q", "--therm", "400"}, ".png", "drops all"},
		{"negative therm", []string{"plot", "history", hmcDir, "--obs", "Q", "--therm", "-1"}, ".png", "--therm"},
		{"bins zero", []string{"plot", "weights", hmcDir, "--bins", "0"}, ".png", "--bins"},
		{"not a log", []string{"plot", "train", filepath.Join(hmcDir, "part-c0000-00000.arrow")}, ".png", "part-c0000-00000.arrow"},
		{"no output", []string{"plot", "history", hmcDir, "--obs", "Q"}, "none", "--output"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			path := filepath.Join(out, "pic"+tc.ext)
			if tc.ext != "none" {
				args = append(args, "-o", path)
			}
			code, _, errs := runCLI(t, args...)
			if code != exitUsage || !strings.Contains(errs, tc.want) {
				t.Errorf("got exit %d, stderr %q; want exit %d naming %q", code, errs, exitUsage, tc.want)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("got files %v in the output directory, want none", entries)
				for _, e := range entries {
					_ = os.Remove(filepath.Join(out, e.Name()))
				}
			}
		})
	}
}
