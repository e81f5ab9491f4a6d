package plots

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"latflow/dataset"
	"latflow/ensemble"
	"latflow/flowtrain"
	"latflow/observables"
	"latflow/sampler"
)

// Fixture sizes: two chains of fixtureRows rows of an AR(1) process with
// coefficient fixturePhi.
const (
	fixtureRows = 2000
	fixturePhi  = 0.7
	fixtureL    = 4
	fixtureBeta = 2.0
)

// writeFixture writes a small U(1) dataset of two chains to a new
// directory: plaquette and topological_charge follow AR(1) processes, and
// with logWeights a log_weight column holds Gaussian log weights.
func writeFixture(t *testing.T, logWeights bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ds")
	obs := []string{observables.ColPlaquette, observables.ColCharge}
	if logWeights {
		obs = append(obs, sampler.ColLogWeight)
	}
	for c := range 2 {
		spec := dataset.Spec{
			Meta: dataset.Meta{Theory: ensemble.U1, L: fixtureL, Couplings: map[string]float64{"beta": fixtureBeta},
				Sampler: "imh", SamplerSettings: map[string]string{"therm": "10"}, Seed: 1, Chain: c},
			Observables: obs,
		}
		w, err := dataset.Create(dir, spec, dataset.WriterOptions{RowsPerPart: 500})
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(c), 9))
		var p, q float64
		for i := range fixtureRows {
			p = fixturePhi*p + rng.NormFloat64()
			q = fixturePhi*q + rng.NormFloat64()
			vals := []float64{0.8 + 0.01*p, math.Round(q)}
			if logWeights {
				vals = append(vals, -30+0.5*rng.NormFloat64())
			}
			if err := w.Append(dataset.Row{Step: int64(i), Accepted: true, Action: -40 + p, Obs: vals}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func openFixture(t *testing.T, logWeights bool) *dataset.Dataset {
	t.Helper()
	ds, err := dataset.Open(writeFixture(t, logWeights))
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// trainLog returns a synthetic training log of n steps: loss decaying,
// ESS rising, a fresh ESS every 50 steps, one skipped step.
func trainLog(n int, lr float64) []flowtrain.LogRow {
	rows := make([]flowtrain.LogRow, n)
	for i := range rows {
		x := float64(i) / float64(n)
		rows[i] = flowtrain.LogRow{Step: int64(i + 1), Loss: -80 - 4*x, ESS: 0.2 + 0.6*x, StdLogW: 2 - 1.5*x, LR: lr,
			WallSeconds: 0.01 * float64(i+1), CPUSeconds: 0.008 * float64(i+1)}
		if (i+1)%50 == 0 {
			rows[i].ESSFresh, rows[i].AccFresh = 0.1+0.5*x, 0.2+0.6*x
		}
	}
	rows[n/2].Skipped, rows[n/2].Loss = true, math.NaN()
	return rows
}

// check renders f in both formats and checks that the PNG decodes and is
// not blank, and that the SVG parses and holds every text of want.
func check(t *testing.T, f *Figure, want ...string) {
	t.Helper()
	var pngBuf, svgBuf bytes.Buffer
	if err := f.Render(&pngBuf, PNG); err != nil {
		t.Fatalf("PNG: %v", err)
	}
	img, err := png.Decode(&pngBuf)
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	checkNotBlank(t, img)
	if err := f.Render(&svgBuf, SVG); err != nil {
		t.Fatalf("SVG: %v", err)
	}
	texts := svgTexts(t, svgBuf.Bytes())
	for _, w := range want {
		found := false
		for _, s := range texts {
			if strings.Contains(s, w) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("SVG has no text %q; it has %q", w, texts)
		}
	}
}

// minInk is the least fraction of non-white pixels of a picture that is
// not blank; minColors the least number of distinct colours.
const (
	minInk    = 0.01
	minColors = 3
)

func checkNotBlank(t *testing.T, img image.Image) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() < 100 || b.Dy() < 100 {
		t.Fatalf("got a %dx%d picture, want a larger one", b.Dx(), b.Dy())
	}
	ink := 0
	colors := map[[4]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			colors[[4]uint32{r, g, bl, a}] = true
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				ink++
			}
		}
	}
	if frac := float64(ink) / float64(b.Dx()*b.Dy()); frac < minInk || len(colors) < minColors {
		t.Errorf("got %.4f of the pixels drawn in %d colours, want at least %g in %d", frac, len(colors), minInk, minColors)
	}
}

// svgTexts parses an SVG document and returns the content of its text
// elements.
func svgTexts(t *testing.T, data []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var texts []string
	inText, root := false, ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse: %v", err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tk.Name.Local
			}
			inText = tk.Name.Local == "text"
		case xml.EndElement:
			inText = false
		case xml.CharData:
			if inText {
				texts = append(texts, string(tk))
			}
		}
	}
	if root != "svg" {
		t.Fatalf("got root element %q, want svg", root)
	}
	return texts
}

func TestTrain(t *testing.T) {
	for _, tc := range []struct {
		name string
		logs []TrainLog
		x    TrainX
		want []string
	}{
		{"one log", []TrainLog{{"a", trainLog(300, 1e-3)}}, TrainSteps,
			[]string{"loss", "std(log w) of the batch", "ESS/N", "learning rate", "step", "batch", "fresh",
				"independence Metropolis acceptance of the fresh samples", "training time: wall (lines), CPU (dashed)"}},
		{"two logs by CPU time", []TrainLog{{"fast-path", trainLog(300, 1e-3)}, {"standard", trainLog(200, 5e-4)}}, TrainCPUTime,
			[]string{"CPU time (s)", "fast-path CPU", "standard wall"}},
		{"two logs by time", []TrainLog{{"fast-path", trainLog(300, 1e-3)}, {"standard", trainLog(200, 5e-4)}}, TrainWallTime,
			[]string{"wall time (s)", "fast-path batch", "standard fresh", "standard"}},
		{"long log in blocks", []TrainLog{{"long", trainLog(5*MaxPoints, 1e-3)}}, TrainSteps,
			[]string{"loss (mean of 5 steps)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Train(tc.logs, tc.x)
			if err != nil {
				t.Fatal(err)
			}
			check(t, f, tc.want...)
		})
	}
}

// TestTrainColumns: the acceptance panel's points are the log's acc_fresh
// on the measured steps only (where ess_fresh is), and the x axis is the
// step, the wall time or the CPU time as asked.
func TestTrainColumns(t *testing.T) {
	rows := trainLog(200, 1e-3)
	for _, x := range []TrainX{TrainSteps, TrainWallTime, TrainCPUTime} {
		xs, cols := trainColumns(rows, x)
		for j, r := range rows {
			want := map[TrainX]float64{TrainSteps: float64(r.Step), TrainWallTime: r.WallSeconds, TrainCPUTime: r.CPUSeconds}[x]
			if xs[j] != want {
				t.Fatalf("x %v, row %d: got x %g, want %g", x, j, xs[j], want)
			}
			measured := (j+1)%50 == 0
			if measured && cols["acc"][j] != r.AccFresh || !measured && !math.IsNaN(cols["acc"][j]) {
				t.Errorf("row %d: acceptance %g, want acc_fresh %g on the measured steps and none elsewhere", j, cols["acc"][j], r.AccFresh)
			}
			if cols["cpu"][j] != r.CPUSeconds || cols["wall"][j] != r.WallSeconds {
				t.Errorf("row %d: times %g %g, want %g %g", j, cols["wall"][j], cols["cpu"][j], r.WallSeconds, r.CPUSeconds)
			}
		}
	}
}

func TestHistory(t *testing.T) {
	ds := openFixture(t, false)
	f, err := History(ds, []string{"Q", "plaquette", "Q^2"}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Panels) != 3 {
		t.Errorf("got %d panels, want one per observable (3)", len(f.Panels))
	}
	check(t, f, "Monte Carlo history of Q ", "history of plaquette", "history of Q^2", "step", "chain 0", "chain 1",
		"--therm 100", "10 thermalization steps")
}

func TestAutocorr(t *testing.T) {
	ds := openFixture(t, false)
	f, a, err := Autocorr(ds, "plaquette", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	check(t, f, "normalized autocorrelation of plaquette", "lag t", "rho(t)", "tau_int(W)", "window W")
	// The same code as the table: the table's row for the plaquette.
	s := observables.Series{Action: nil, Obs: map[string][][]float64{}}
	for _, ch := range ds.Chains {
		s.Action = append(s.Action, ch.Action)
		for _, name := range ds.Observables {
			s.Obs[name] = append(s.Obs[name], ch.Obs[name])
		}
	}
	rows, _, err := observables.Table(target(ds), s)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Name == "plaquette <cos P>" {
			if r.Est != a.Estimate {
				t.Errorf("got estimate %+v, want the table's %+v", a.Estimate, r.Est)
			}
		}
	}
	// AR(1): rho(t) = phi^t and tau_int = (1 + phi) / (2 (1 - phi)).
	wantTau := (1 + fixturePhi) / (2 * (1 - fixturePhi))
	if d := math.Abs(a.Estimate.TauInt - wantTau); d > 4*a.Estimate.TauIntErr {
		t.Errorf("got tau_int %.3g +- %.2g, want %.3g within 4 sigma", a.Estimate.TauInt, a.Estimate.TauIntErr, wantTau)
	}
	if d := math.Abs(a.Rho[1] - fixturePhi); d > 0.05 {
		t.Errorf("got rho(1) = %.3f, want %.3f +- 0.05", a.Rho[1], fixturePhi)
	}
}

func TestWeights(t *testing.T) {
	ds := openFixture(t, true)
	f, err := Weights(ds, 0, DefaultBins)
	if err != nil {
		t.Fatal(err)
	}
	check(t, f, "log weights of 4000 independence Metropolis proposals: ESS/N = ", "U(1) gauge theory", "log w - max log w", "proposals")
}

func TestBadInput(t *testing.T) {
	ds := openFixture(t, false)
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"history no such observable", func() error { _, err := History(ds, []string{"Q", "nope"}, 0); return err }, `no observable "nope"`},
		{"history no observable", func() error { _, err := History(ds, nil, 0); return err }, "no observable"},
		{"history therm drops all", func() error { _, err := History(ds, []string{"Q"}, fixtureRows); return err }, "drops all"},
		{"autocorr no such observable", func() error { _, _, err := Autocorr(ds, "m", 0, 0); return err }, `no observable "m"`},
		{"autocorr constant", func() error { _, _, err := Autocorr(ds, "delta", 0, 0); return err }, "no observable"},
		{"weights without log_weight", func() error { _, err := Weights(ds, 0, 10); return err }, "no log_weight column"},
		{"train no logs", func() error { _, err := Train(nil, TrainSteps); return err }, "no training log"},
		{"train empty log", func() error { _, err := Train([]TrainLog{{"e", nil}}, TrainSteps); return err }, "has no steps"},
		{"train by CPU time without it", func() error {
			rows := trainLog(100, 1e-3)
			for i := range rows {
				rows[i].CPUSeconds = math.NaN()
			}
			_, err := Train([]TrainLog{{"a", trainLog(100, 1e-3)}, {"old", rows}}, TrainCPUTime)
			return err
		}, "training log old has no CPU times"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	for path, want := range map[string]string{"a.png": PNG, "b/c.SVG": SVG, "x.jpg": "", "noext": "", "model.flow": ""} {
		got, err := Format(path)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("Format(%q): got %q, %v, want %q", path, got, err, want)
		}
	}
}

// TestSave: Save writes the picture atomically (no temporary file left)
// and writes nothing for an unknown extension.
func TestSave(t *testing.T) {
	f, err := Train([]TrainLog{{"a", trainLog(100, 1e-3)}}, TrainSteps)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"c.png", "c.svg"} {
		if err := f.Save(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Save(filepath.Join(dir, "c.jpg")); err == nil {
		t.Errorf("got nil error for .jpg, want one")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "c.png,c.svg" {
		t.Errorf("got files %v, want c.png and c.svg only", names)
	}
	data, err := os.ReadFile(filepath.Join(dir, "c.png"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		t.Errorf("saved PNG does not decode: %v", err)
	}
}
