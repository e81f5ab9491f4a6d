package observables

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"latflow/lattice"
)

func TestTimeSlicesTo(t *testing.T) {
	for _, L := range []int{2, 4, 5} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			g := lattice.NewGeometry(L)
			// phi(n) = n = x0 L + x1, so S(t) = t L^2 + L (L-1) / 2.
			phi := make([]float64, g.V)
			for n := range phi {
				phi[n] = float64(n)
			}
			got := make([]float64, L)
			TimeSlicesTo(got, g, phi)
			for x0, s := range got {
				if want := float64(x0*L*L + L*(L-1)/2); s != want {
					t.Errorf("S(%d): got %v, want %v", x0, s, want)
				}
			}
		})
	}
}

func TestTimeSlicesToPanics(t *testing.T) {
	defer func() {
		msg, _ := recover().(string)
		if !strings.HasPrefix(msg, "observables: ") {
			t.Errorf("got panic %q, want a message prefixed by observables:", msg)
		}
	}()
	g := lattice.NewGeometry(4)
	TimeSlicesTo(make([]float64, 3), g, make([]float64, g.V))
}

func TestConnectedTwoPoint(t *testing.T) {
	// S_i(t) = b_i + A cos(2 pi (t - phase_i) / L) gives
	// (1/V) sum_t0 S(t0) S(t0+t) = b_i^2 / L + A^2 cos(2 pi t / L) / (2 L)
	// and m_i = b_i / L, so G_c(t) = var(b) / L + A^2 cos(2 pi t / L) / (2 L)
	// with the population variance var(b) of b over all configurations.
	const (
		L = 6
		A = 1.5
	)
	b := []float64{1, 2, 3, 4} // var(b) = 1.25
	const varB = 1.25
	rng := rand.New(rand.NewPCG(13, 0))
	slices := make([][][]float64, 2)
	for r := range slices {
		slices[r] = make([][]float64, 40*(r+1))
		for i := range slices[r] {
			phase := rng.Float64() * L
			s := make([]float64, L)
			for x0 := range s {
				s[x0] = b[i%len(b)] + A*math.Cos(2*math.Pi*(float64(x0)-phase)/L)
			}
			slices[r][i] = s
		}
	}
	got, err := ConnectedTwoPoint(slices, L)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != L {
		t.Fatalf("got %d values, want L=%d", len(got), L)
	}
	for x0, est := range got {
		want := varB/L + A*A*math.Cos(2*math.Pi*float64(x0)/L)/(2*L)
		if math.Abs(est.Mean-want) > exactTol || est.N != 120 || math.IsNaN(est.Err) {
			t.Errorf("G_c(%d): got %s, want mean %.10g with N=120", x0, fields(est), want)
		}
	}

	slices[1][3] = slices[1][3][:L-1]
	if _, err := ConnectedTwoPoint(slices, L); err == nil {
		t.Errorf("configuration with %d slices: got no error, want one", L-1)
	}
}
