package observables_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"latflow/ensemble"
	"latflow/gauge"
	"latflow/observables"
)

// gaussianSeries returns r replicas of n independent N(mean, sd^2) values.
func gaussianSeries(rng *rand.Rand, r, n int, mean, sd float64) [][]float64 {
	out := make([][]float64, r)
	for i := range out {
		out[i] = make([]float64, n)
		for j := range out[i] {
			out[i][j] = mean + sd*rng.NormFloat64()
		}
	}
	return out
}

func constantSeries(r, n int, v float64) [][]float64 {
	out := make([][]float64, r)
	for i := range out {
		out[i] = make([]float64, n)
		for j := range out[i] {
			out[i][j] = v
		}
	}
	return out
}

func rowByName(t *testing.T, rows []observables.Row, name string) observables.Row {
	t.Helper()
	for _, r := range rows {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no row %q in %d rows", name, len(rows))
	return observables.Row{}
}

func TestTableU1(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	tg := ensemble.NewU1(8, 2)
	ex, err := gauge.ExactTorus(2, 8)
	if err != nil {
		t.Fatal(err)
	}
	q := make([][]float64, 2)
	for r := range q {
		for i := 0; i < 4000; i++ {
			q[r] = append(q[r], math.Round(1.1*rng.NormFloat64()))
		}
	}
	s := observables.Series{
		Action: gaussianSeries(rng, 2, 4000, ex.MeanAction, 5),
		Obs: map[string][][]float64{
			observables.ColPlaquette: gaussianSeries(rng, 2, 4000, ex.MeanCos, 0.05),
			observables.ColCharge:    q,
		},
	}
	rows, notes, err := observables.Table(tg, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 0 {
		t.Errorf("got notes %q, want none", notes)
	}
	want := []string{"action", "plaquette <cos P>", "Q", "Q^2", "chi_t = <Q^2>/V"}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for i, r := range rows {
		if r.Name != want[i] || !r.HasExact {
			t.Errorf("row %d: got %q (exact %v), want %q with an exact value", i, r.Name, r.HasExact, want[i])
		}
	}
	q2 := rowByName(t, rows, "Q^2").Est
	chi := rowByName(t, rows, "chi_t = <Q^2>/V").Est
	if math.Abs(chi.Mean-q2.Mean/64) > 1e-12 || math.Abs(chi.Err-q2.Err/64) > 1e-12 {
		t.Errorf("chi_t: got %v +- %v, want Q^2/V = %v +- %v", chi.Mean, chi.Err, q2.Mean/64, q2.Err/64)
	}
	if got := rowByName(t, rows, "plaquette <cos P>").Exact; got != ex.MeanCos {
		t.Errorf("exact plaquette: got %v, want %v", got, ex.MeanCos)
	}
}

// Frozen topology: Q never changes. The table keeps the rows but says that
// their error is not an error bar.
func TestTableFrozenTopology(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := observables.Series{
		Action: gaussianSeries(rng, 1, 500, -100, 1),
		Obs: map[string][][]float64{
			observables.ColPlaquette: gaussianSeries(rng, 1, 500, 0.9, 0.01),
			observables.ColCharge:    constantSeries(1, 500, -3),
		},
	}
	rows, notes, err := observables.Table(ensemble.NewU1(16, 20), s)
	if err != nil {
		t.Fatal(err)
	}
	if r := rowByName(t, rows, "Q"); r.Est.Mean != -3 || r.Est.Err != 0 {
		t.Errorf("Q: got %v, want -3(0)", r.Est)
	}
	var frozen int
	for _, n := range notes {
		if strings.Contains(n, "not an error bar") {
			frozen++
		}
	}
	if frozen != 2 { // Q and Q^2
		t.Errorf("got notes %q, want one 'not an error bar' note for Q and one for Q^2", notes)
	}
}

func TestTablePhi4FreeField(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 3))
	tg := ensemble.NewPhi4Standard(4, 1, 0)
	m := gaussianSeries(rng, 1, 2000, 0, 0.1)
	abs := make([][]float64, 1)
	for _, v := range m[0] {
		abs[0] = append(abs[0], math.Abs(v))
	}
	s := observables.Series{
		Action: gaussianSeries(rng, 1, 2000, 8, 2),
		Obs: map[string][][]float64{
			observables.ColM:    m,
			observables.ColAbsM: abs,
			observables.ColPhi2: gaussianSeries(rng, 1, 2000, 0.2, 0.05),
		},
	}
	rows, _, err := observables.Table(tg, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"m", "m^2", "phi^2", "chi_2 = V <m^2>", "U_4 (Binder)"} {
		if !rowByName(t, rows, name).HasExact {
			t.Errorf("%s: got no exact value, want the free field's", name)
		}
	}
	for _, name := range []string{"action", "|m|"} {
		if rowByName(t, rows, name).HasExact {
			t.Errorf("%s: got an exact value, want none", name)
		}
	}
	if _, _, err := observables.Table(ensemble.NewPhi4Standard(4, 1, 0.5), observables.Series{Action: s.Action}); err == nil {
		t.Errorf("missing columns: got no error, want one")
	}
}

func TestMeasurer(t *testing.T) {
	tg := ensemble.NewU1(4, 1.5)
	links := make([]float64, tg.Size())
	gauge.InstantonTo(links, tg.Geometry(), 1)
	m := observables.NewMeasurer(tg)
	dst := make([]float64, len(m.Columns()))
	S := m.MeasureTo(dst, links)
	want := observables.MeasureU1(tg.Geometry(), 1.5, links)
	if S != want.Action || dst[0] != want.Plaquette || dst[1] != want.Q || want.Q != 1 {
		t.Errorf("got S=%v %v, want S=%v plaquette %v Q %v (Q=1)", S, dst, want.Action, want.Plaquette, want.Q)
	}
}

// TestTableExpDeltaH: with a delta_h column the table has <exp(-dH)> with
// exact value 1, over the non-NaN rows only (a mixed flow/HMC chain).
func TestTableExpDeltaH(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 5))
	tg := ensemble.NewPhi4Standard(4, 1, 0.5)
	n := 3000
	dH := make([][]float64, 1)
	for i := 0; i < n; i++ {
		// dH ~ N(mu, 2 mu) has <exp(-dH)> = 1 exactly.
		v := 0.1 + math.Sqrt(0.2)*rng.NormFloat64()
		if i%3 == 0 {
			v = math.NaN()
		}
		dH[0] = append(dH[0], v)
	}
	s := observables.Series{
		Action: gaussianSeries(rng, 1, n, 8, 2),
		Obs: map[string][][]float64{
			observables.ColM: gaussianSeries(rng, 1, n, 0, 0.1), observables.ColAbsM: gaussianSeries(rng, 1, n, 0.1, 0.01),
			observables.ColPhi2: gaussianSeries(rng, 1, n, 0.2, 0.05), observables.ColDeltaH: dH,
		},
	}
	rows, _, err := observables.Table(tg, s)
	if err != nil {
		t.Fatal(err)
	}
	r := rowByName(t, rows, "<exp(-dH)>")
	if r.Est.N != 2*n/3 || !r.HasExact || r.Exact != 1 || math.Abs(r.Sigma()) > 3 {
		t.Errorf("got %v over %d values (exact %v), want 1 within 3 sigma over %d", r.Est, r.Est.N, r.Exact, 2*n/3)
	}
}

// TestTableAnticorrelated: a series that alternates around its mean has a
// windowed variance that is not positive; the table keeps the row with the
// W=0 error and a note instead of failing.
func TestTableAnticorrelated(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 6))
	n := 2000
	alt := make([][]float64, 1)
	for i := 0; i < n; i++ {
		v := 0.3 + 0.01*rng.NormFloat64()
		if i%2 == 0 {
			v = -0.3 + 0.01*rng.NormFloat64()
		}
		alt[0] = append(alt[0], v)
	}
	s := observables.Series{
		Action: gaussianSeries(rng, 1, n, 8, 2),
		Obs: map[string][][]float64{
			observables.ColM: alt, observables.ColAbsM: gaussianSeries(rng, 1, n, 0.3, 0.01),
			observables.ColPhi2: gaussianSeries(rng, 1, n, 0.2, 0.05),
		},
	}
	rows, notes, err := observables.Table(ensemble.NewPhi4Standard(4, 1, 0.5), s)
	if err != nil {
		t.Fatal(err)
	}
	if r := rowByName(t, rows, "m"); r.Est.Window != 0 || !(r.Est.Err > 0) {
		t.Errorf("m: got %+v, want the W=0 estimate", r.Est)
	}
	found := false
	for _, n := range notes {
		found = found || strings.Contains(n, "anticorrelated")
	}
	if !found {
		t.Errorf("got notes %q, want one about anticorrelated data", notes)
	}
}

// TestTableShortForTau: data only a few tens of tau_int long (a slowly
// moving chain, as an independence Metropolis chain at acceptance 0.001
// gives) get a note that the error is not reliable; independent data of the
// same length get none.
func TestTableShortForTau(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 1))
	n := 4000
	slow := make([][]float64, 1) // AR(1) with rho = 0.99: tau_int about 100
	v := 0.0
	for i := 0; i < n; i++ {
		v = 0.99*v + math.Sqrt(1-0.99*0.99)*rng.NormFloat64()
		slow[0] = append(slow[0], 0.8+0.01*v)
	}
	s := observables.Series{
		Action: gaussianSeries(rng, 1, n, -100, 1),
		Obs: map[string][][]float64{
			observables.ColPlaquette: slow,
			observables.ColCharge:    gaussianSeries(rng, 1, n, 0, 1),
		},
	}
	rows, notes, err := observables.Table(ensemble.NewU1(16, 3), s)
	if err != nil {
		t.Fatal(err)
	}
	r := rowByName(t, rows, "plaquette <cos P>")
	if float64(n) >= observables.MinTauLengths*r.Est.TauInt {
		t.Fatalf("plaquette tau_int %v: the series is not slow enough for the test", r.Est.TauInt)
	}
	var short []string
	for _, note := range notes {
		if strings.Contains(note, "tau_int") && strings.Contains(note, "not reliable") {
			short = append(short, note)
		}
	}
	if len(short) != 1 || !strings.HasPrefix(short[0], "plaquette") {
		t.Errorf("got notes %q, want exactly one, for the plaquette, saying the error is not reliable", notes)
	}
}

// TestTableAnticorrelatedDerived: data so anticorrelated that the windowed
// variance is not positive, in m^2 (so in chi_2 and U_4) and in exp(-dH),
// keep their rows with the W=0 error and a note each; the table does not
// fail (latflow hmc --theory phi4 -L 8 -n 50 --therm 30 --lambda 0.02
// --kappa 0 lost its table to <exp(-dH)>).
func TestTableAnticorrelatedDerived(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 7))
	n := 2000
	m, dH := make([][]float64, 1), make([][]float64, 1)
	for i := 0; i < n; i++ {
		mag, d := 0.1, -0.5
		if i%2 == 0 {
			mag, d = 0.3, 0.5
		}
		sign := 1.0
		if rng.IntN(2) == 0 {
			sign = -1
		}
		m[0] = append(m[0], sign*(mag+0.001*rng.NormFloat64()))
		dH[0] = append(dH[0], d+0.01*rng.NormFloat64())
	}
	s := observables.Series{
		Action: gaussianSeries(rng, 1, n, 8, 2),
		Obs: map[string][][]float64{
			observables.ColM: m, observables.ColAbsM: gaussianSeries(rng, 1, n, 0.2, 0.01),
			observables.ColPhi2: gaussianSeries(rng, 1, n, 0.2, 0.05), observables.ColDeltaH: dH,
		},
	}
	rows, notes, err := observables.Table(ensemble.NewPhi4Standard(4, 1, 0.5), s)
	if err != nil {
		t.Fatalf("got error %v, want the table with notes", err)
	}
	for _, c := range []struct{ row, note string }{
		{"chi_2 = V <m^2>", "chi_2: anticorrelated"},
		{"U_4 (Binder)", "U_4: anticorrelated"},
		{"<exp(-dH)>", "<exp(-dH)>: anticorrelated"},
	} {
		if r := rowByName(t, rows, c.row); r.Est.Window != 0 || !(r.Est.Err > 0) {
			t.Errorf("%s: got %+v, want the W=0 estimate", c.row, r.Est)
		}
		found := false
		for _, n := range notes {
			found = found || strings.HasPrefix(n, c.note)
		}
		if !found {
			t.Errorf("got notes %q, want one starting %q", notes, c.note)
		}
	}
}
