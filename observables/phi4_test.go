package observables

import (
	"math"
	"testing"
)

func TestMeasurePhi4(t *testing.T) {
	// sum phi = -2 over V = 4 sites, so m = -0.5; sum phi^2 = 7.5.
	got := MeasurePhi4([]float64{1, -2, 0.5, -1.5})
	want := Phi4Measurement{M: -0.5, AbsM: 0.5, M2: 0.25, M4: 0.0625, Phi2: 1.875}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"m", got.M, want.M}, {"|m|", got.AbsM, want.AbsM}, {"m^2", got.M2, want.M2},
		{"m^4", got.M4, want.M4}, {"phi^2", got.Phi2, want.Phi2},
	} {
		if math.Abs(c.got-c.want) > exactTol {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}
