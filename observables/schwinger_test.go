package observables_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"latflow/ensemble"
	"latflow/fermion"
	"latflow/gauge"
	"latflow/observables"
)

// TestSchwingerTablePionMass feeds the table a noisy correlator of exact
// cosh form, C(t) = cosh(m (t - L/2)), and checks that the pion mass row
// recovers m within its error, and that the columns name t = 0 .. L/2.
func TestSchwingerTablePionMass(t *testing.T) {
	const L, m, n = 8, 0.37, 400
	tg := ensemble.NewSchwinger(L, 2, 0.25)
	cols := observables.Columns(tg)
	if len(cols) != 3+L/2+1 || cols[3] != observables.PionColumn(0) || cols[len(cols)-1] != observables.PionColumn(L/2) {
		t.Fatalf("columns %v", cols)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	s := observables.Series{Obs: map[string][][]float64{}}
	noise := func(mean, rel float64) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = mean * (1 + rel*rng.NormFloat64())
		}
		return x
	}
	s.Action = [][]float64{noise(-100, 0.01)}
	s.Obs[observables.ColPlaquette] = [][]float64{noise(0.7, 0.01)}
	q := make([]float64, n)
	for i := range q {
		q[i] = float64(rng.IntN(5) - 2)
	}
	s.Obs[observables.ColCharge] = [][]float64{q}
	s.Obs[observables.ColCondensate] = [][]float64{noise(-1.8, 0.01)}
	for tt := 0; tt <= L/2; tt++ {
		s.Obs[observables.PionColumn(tt)] = [][]float64{noise(math.Cosh(m*float64(tt-L/2)), 0.002)}
	}
	rows, _, err := observables.Table(tg, s)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, r := range rows {
		if strings.HasPrefix(r.Name, "m_pi") {
			found = true
			if d := math.Abs(r.Est.Mean - m); !(d < 4*r.Est.Err) || !(r.Est.Err < 0.02) {
				t.Errorf("%s = %g(%g), want %g", r.Name, r.Est.Mean, r.Est.Err, m)
			}
		}
	}
	if !found {
		t.Errorf("no m_pi row in %v", rows)
	}
}

// TestSchwingerMeasureDense checks the Measurer of a Schwinger target (the
// even-odd determinant) on smooth random links against the full dense
// determinant: the gauge action, the condensate, and the folded correlator
// (C(t) + C(L-t))/2.
func TestSchwingerMeasureDense(t *testing.T) {
	const L, kappa = 8, 0.2
	tg := ensemble.NewSchwinger(L, 2, kappa)
	g := tg.Geometry()
	links := make([]float64, tg.Size())
	rng := rand.New(rand.NewPCG(3, 4))
	gauge.RandomLinksTo(links, rng)
	for i := range links {
		links[i] *= 0.3
	}
	meas := observables.NewMeasurer(tg)
	dst := make([]float64, len(meas.Columns()))
	act := meas.MeasureTo(dst, links)
	if want := (gauge.WilsonAction{Geom: g, Beta: 2}).Action(links); act != want {
		t.Errorf("action %g, want the gauge action %g", act, want)
	}
	d, err := fermion.NewDeterminant(g, kappa, fermion.Full)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Factorize(links); err != nil {
		t.Fatal(err)
	}
	if got, want := dst[2], d.Condensate(); math.Abs(got-want) > 1e-10 {
		t.Errorf("condensate %g, want %g", got, want)
	}
	c := make([]float64, L)
	d.PionCorrelatorTo(c)
	for tt := 0; tt <= L/2; tt++ {
		want := (c[tt] + c[(L-tt)%L]) / 2
		if got := dst[3+tt]; math.Abs(got-want) > 1e-10*want {
			t.Errorf("pion_%d = %g, want %g", tt, got, want)
		}
	}
}

// TestSchwingerPionMassHeavyTails gives the table a correlator whose
// C(t) has rare huge values (as near a zero mode of D), so that
// sigma/sqrt(N) exceeds C(t) - C(t+1): the mass must still come out, with
// the error of the analytic gradient; and a correlator that rises, whose
// mass does not exist, must give a note instead of failing the table.
func TestSchwingerPionMassHeavyTails(t *testing.T) {
	const L, n = 16, 2000
	tg := ensemble.NewSchwinger(L, 6, 0.26)
	build := func(c4, c5 float64, spike float64) observables.Series {
		rng := rand.New(rand.NewPCG(5, 6))
		s := observables.Series{Obs: map[string][][]float64{}}
		col := func(mean, rel float64) [][]float64 {
			x := make([]float64, n)
			for i := range x {
				x[i] = mean * (1 + rel*rng.NormFloat64())
			}
			return [][]float64{x}
		}
		s.Action = col(-300, 0.01)
		s.Obs[observables.ColPlaquette] = col(0.9, 0.01)
		s.Obs[observables.ColCharge] = [][]float64{make([]float64, n)}
		for i := range s.Obs[observables.ColCharge][0] {
			s.Obs[observables.ColCharge][0][i] = float64(rng.IntN(3) - 1)
		}
		s.Obs[observables.ColCondensate] = col(-1.8, 0.01)
		for tt := 0; tt <= L/2; tt++ {
			s.Obs[observables.PionColumn(tt)] = col(1, 0.01)
		}
		s.Obs[observables.PionColumn(4)] = col(c4, 0.01)
		s.Obs[observables.PionColumn(5)] = col(c5, 0.01)
		// One spike in both, as a near-zero mode gives.
		s.Obs[observables.PionColumn(4)][0][n/2] += spike
		s.Obs[observables.PionColumn(5)][0][n/2] += spike
		return s
	}
	rows, notes, err := observables.Table(tg, build(0.447, 0.399, 8000))
	if err != nil {
		t.Fatalf("heavy tails: %v", err)
	}
	var got *observables.Row
	for i := range rows {
		if strings.HasPrefix(rows[i].Name, "m_pi") {
			got = &rows[i]
		}
	}
	if got == nil || math.IsNaN(got.Est.Mean) || !(got.Est.Err > 0) {
		t.Fatalf("no m_pi row with an error (rows %v, notes %v)", rows, notes)
	}
	_, notes, err = observables.Table(tg, build(0.3, 0.4, 0))
	if err != nil {
		t.Fatalf("rising correlator: %v", err)
	}
	if !strings.Contains(strings.Join(notes, "\n"), "m_pi") {
		t.Errorf("rising correlator: no note on m_pi in %v", notes)
	}
}
