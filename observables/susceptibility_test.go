package observables

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSusceptibility(t *testing.T) {
	const V = 64
	rng := rand.New(rand.NewPCG(12, 0))
	q := [][]float64{make([]float64, 3000), make([]float64, 2000)}
	var sum float64
	for _, x := range q {
		for i := range x {
			x[i] = float64(rng.IntN(7) - 3)
			sum += x[i] * x[i]
		}
	}
	sq, err := GammaPrimary(squares(q), GammaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Susceptibility(q, V)
	if err != nil {
		t.Fatal(err)
	}
	want := sum / 5000 / V
	if math.Abs(got.Mean-want) > exactTol || math.Abs(got.Err-sq.Err/V) > exactTol || got.TauInt != sq.TauInt {
		t.Errorf("chi: got %s, want mean %.10g, error %.6g, tau_int %.6g", fields(got), want, sq.Err/V, sq.TauInt)
	}
	chi2, err := Chi2Phi4(q, V)
	if err != nil {
		t.Fatal(err)
	}
	if want := sum / 5000 * V; math.Abs(chi2.Mean-want) > exactTol*want || math.Abs(chi2.Err-sq.Err*V) > exactTol*want {
		t.Errorf("chi_2: got %s, want mean %.10g, error %.6g", fields(chi2), want, sq.Err*V)
	}
}
