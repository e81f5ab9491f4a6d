package observables

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"latflow/ensemble"
)

// rhoTol is the tolerance of the estimated rho(t) of 3 x 5000 AR(1) values
// (its standard error is about 0.02 for small t).
const rhoTol = 0.06

func TestAutocorrelationOf(t *testing.T) {
	const phi = 0.8
	rng := rand.New(rand.NewPCG(7, 1))
	data := [][]float64{ar1(rng, 5000, phi), ar1(rng, 5000, phi), ar1(rng, 5000, phi)}
	a, err := AutocorrelationOf(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	est, err := GammaPrimary(data, GammaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Estimate != est {
		t.Errorf("got estimate %+v, want GammaPrimary's %+v", a.Estimate, est)
	}
	if got := a.TauInt[est.Window]; got != est.TauInt {
		t.Errorf("got tau_int(W=%d) = %v, want the estimate's %v", est.Window, got, est.TauInt)
	}
	if got := a.TauIntErr[est.Window]; got != est.TauIntErr {
		t.Errorf("got its error %v, want %v", got, est.TauIntErr)
	}
	if want := DefaultLags(est.Window) + 1; len(a.Rho) != want || len(a.TauInt) != want {
		t.Errorf("got %d lags, want %d", len(a.Rho), want)
	}
	if a.Rho[0] != 1 {
		t.Errorf("got rho(0) = %v, want 1", a.Rho[0])
	}
	for lag := 1; lag <= 4; lag++ {
		if want := math.Pow(phi, float64(lag)); math.Abs(a.Rho[lag]-want) > rhoTol {
			t.Errorf("rho(%d): got %.3f, want phi^t = %.3f +- %g", lag, a.Rho[lag], want, rhoTol)
		}
	}
	// tau_int(W) grows towards (1 + phi) / (2 (1 - phi)) = 4.5.
	if want := (1 + phi) / (2 * (1 - phi)); math.Abs(est.TauInt-want) > 4*est.TauIntErr {
		t.Errorf("got tau_int %.3g +- %.2g, want %.3g within 4 sigma", est.TauInt, est.TauIntErr, want)
	}
	short, err := AutocorrelationOf(data, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(short.Rho) != est.Window+1 {
		t.Errorf("lags 3: got %d lags, want the window's %d (never fewer)", len(short.Rho), est.Window+1)
	}
}

func TestAutocorrelationOfConstant(t *testing.T) {
	_, err := AutocorrelationOf([][]float64{{2, 2, 2, 2}}, 0)
	if err == nil || !strings.Contains(err.Error(), "constant") {
		t.Errorf("got %v, want an error saying the series is constant", err)
	}
}

func TestNamedSeries(t *testing.T) {
	s := Series{Action: [][]float64{{1, 2}}, Obs: map[string][][]float64{ColCharge: {{-2, 3}}, ColPlaquette: {{0.5, 0.6}}, "extra": {{7, 8}}}}
	for name, want := range map[string][]float64{"action": {1, 2}, "Q": {-2, 3}, "Q^2": {4, 9}, "plaquette": {0.5, 0.6}, ColCharge: {-2, 3}, "extra": {7, 8}} {
		got, err := NamedSeries(ensemble.U1, s, name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(got) != 1 || len(got[0]) != 2 || got[0][0] != want[0] || got[0][1] != want[1] {
			t.Errorf("%s: got %v, want [%v]", name, got, want)
		}
	}
	_, err := NamedSeries(ensemble.U1, s, "m")
	if err == nil || !strings.Contains(err.Error(), `"m"`) || !strings.Contains(err.Error(), "Q^2") || !strings.Contains(err.Error(), "extra") {
		t.Errorf("got %v, want an error naming m and listing Q^2 and extra", err)
	}
}
