package fermion

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"latflow/lattice"
)

// TestMeasurerPionCorrelator compares the CG pion correlator with the one
// of the dense inverse.
func TestMeasurerPionCorrelator(t *testing.T) {
	for _, L := range []int{4, 6} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			g := lattice.NewGeometry(L)
			links := randomLinks(g, uint64(L)+21)
			d, err := NewDeterminant(g, 0.25, EvenOdd)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Factorize(links); err != nil {
				t.Fatal(err)
			}
			want := make([]float64, L)
			d.PionCorrelatorTo(want)
			op := NewOperator(g, 0.25)
			op.SetLinks(links)
			got := make([]float64, L)
			if err := NewMeasurer(NewCG(op, 1e-13, 50*g.V)).PionCorrelatorTo(got); err != nil {
				t.Fatal(err)
			}
			for tt := range L {
				if math.Abs(got[tt]-want[tt]) > 1e-9*max(1, want[tt]) {
					t.Errorf("C(%d): got %.12g (CG), want %.12g (dense)", tt, got[tt], want[tt])
				}
			}
		})
	}
}

// TestMeasurerCondensate checks that the noise estimate of the condensate
// is unbiased: the mean of N single-noise estimates agrees with the dense
// -(1/V) Tr D^-1 within 4 standard errors, and the errors are small
// enough to see a wrong normalization.
func TestMeasurerCondensate(t *testing.T) {
	const L, N = 4, 2000
	g := lattice.NewGeometry(L)
	links := randomLinks(g, 5)
	d, err := NewDeterminant(g, 0.24, EvenOdd)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Factorize(links); err != nil {
		t.Fatal(err)
	}
	want := d.Condensate()
	op := NewOperator(g, 0.24)
	op.SetLinks(links)
	m := NewMeasurer(NewCG(op, 1e-12, 50*g.V))
	rng := rand.New(rand.NewPCG(9, 9))
	var s, s2 float64
	for range N {
		c, err := m.Condensate(rng, 1)
		if err != nil {
			t.Fatal(err)
		}
		s += c
		s2 += c * c
	}
	mean := s / N
	se := math.Sqrt((s2/N - mean*mean) / (N - 1))
	if math.Abs(mean-want) > 4*se {
		t.Errorf("noise condensate: got %.5f +- %.5f, want %.5f (dense) within 4 sigma", mean, se, want)
	}
	if 4*se > 0.05*math.Abs(want) {
		t.Errorf("noise condensate error %.3g: too large to test the normalization of %.4f", se, want)
	}
}

func TestEffectiveMass(t *testing.T) {
	for _, L := range []int{8, 16} {
		for _, m := range []float64{0.05, 0.4, 2} {
			t.Run(fmt.Sprintf("L=%d/m=%g", L, m), func(t *testing.T) {
				c := make([]float64, L)
				for tt := range c {
					c[tt] = 3.7 * math.Cosh(m*(float64(tt)-float64(L)/2))
				}
				got := make([]float64, L/2)
				EffectiveMassTo(got, c)
				for tt, v := range got {
					if math.Abs(v-m) > 1e-9*m {
						t.Errorf("m_eff(%d): got %.12g, want %g", tt, v, m)
					}
				}
			})
		}
	}
	// A rising correlator has no mass.
	c := []float64{1, 2, 3, 2}
	got := make([]float64, 2)
	EffectiveMassTo(got, c)
	for tt, v := range got {
		if !math.IsNaN(v) {
			t.Errorf("rising correlator: m_eff(%d) = %g, want NaN", tt, v)
		}
	}
}

// TestMeasurerRefusesSchurCG: a Measurer on the even-odd solver, whose
// solutions are not columns of D^-1, panics instead of measuring a wrong
// condensate (-1.13 where the right one was about -1.9).
func TestMeasurerRefusesSchurCG(t *testing.T) {
	op := NewOperator(lattice.NewGeometry(4), 0.25)
	defer func() {
		if recover() == nil {
			t.Error("NewMeasurer(NewSchurCG(...)) did not panic")
		}
	}()
	NewMeasurer(NewSchurCG(op, 1e-10, 100))
}
