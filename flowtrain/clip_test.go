package flowtrain_test

import (
	"fmt"
	"math"
	"testing"

	"latflow/flowtrain"
)

const normTol = 1e-15 // relative, norms

func l2(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x * x
	}
	return math.Sqrt(s)
}

func TestClipNorm(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	cases := []struct {
		name     string
		grad     []float64
		maxNorm  float64
		wantNorm float64
		clipped  bool
	}{
		{"3-4-5/max=1", []float64{3, 4}, 1, 5, true},
		{"3-4-5/max=2.5", []float64{3, -4, 0}, 2.5, 5, true},
		{"3-4-5/max=5", []float64{3, 4}, 5, 5, false},
		{"3-4-5/max=10", []float64{3, 4}, 10, 5, false},
		{"3-4-5/max=0", []float64{3, 4}, 0, 5, false},
		{"3-4-5/max=-1", []float64{3, 4}, -1, 5, false},
		{"empty", nil, 1, 0, false},
		{"zero", []float64{0, 0}, 1, 0, false},
		{"huge", []float64{3e200, -4e200}, 1, 5e200, true},
		{"tiny", []float64{3e-170, 4e-170}, 1e-200, 5e-170, true},
		{"nan", []float64{1, nan, 2}, 1, nan, false},
		{"inf", []float64{1, -inf, 2}, 1, inf, false},
		{"inf-nan", []float64{inf, nan}, 1, nan, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := append([]float64(nil), c.grad...)
			norm := flowtrain.ClipNorm(g, c.maxNorm)
			if math.IsNaN(c.wantNorm) != math.IsNaN(norm) || !math.IsNaN(norm) && math.Abs(norm-c.wantNorm) > normTol*c.wantNorm {
				t.Errorf("norm got %g, want %g", norm, c.wantNorm)
			}
			if !c.clipped {
				for i := range g {
					if math.Float64bits(g[i]) != math.Float64bits(c.grad[i]) {
						t.Errorf("g[%d] got %g, want %g unchanged", i, g[i], c.grad[i])
					}
				}
				return
			}
			// Clipped: same direction, norm maxNorm.
			f := c.maxNorm / c.wantNorm
			for i := range g {
				if want := c.grad[i] * f; math.Abs(g[i]-want) > normTol*c.maxNorm {
					t.Errorf("g[%d] got %g, want %g", i, g[i], want)
				}
			}
			if got := flowtrain.ClipNorm(append([]float64(nil), g...), 0); math.Abs(got-c.maxNorm) > 4*normTol*c.maxNorm {
				t.Errorf("norm after clipping got %.17g, want %.17g", got, c.maxNorm)
			}
		})
	}
}

// TestClipNormRandom compares the norm with a plain sum of squares on
// vectors of ordinary size.
func TestClipNormRandom(t *testing.T) {
	for _, n := range []int{1, 10, 1000} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			g := make([]float64, n)
			for i := range g {
				g[i] = math.Sin(float64(3*i+1)) * float64(i%5+1)
			}
			want := l2(g)
			if got := flowtrain.ClipNorm(g, 0); math.Abs(got-want) > normTol*want {
				t.Errorf("got %.17g, want %.17g", got, want)
			}
		})
	}
}

func TestFinite(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	cases := []struct {
		xs   []float64
		want bool
	}{
		{nil, true},
		{[]float64{0, -1, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64}, true},
		{[]float64{1, nan}, false},
		{[]float64{inf, 1}, false},
		{[]float64{1, 2, -inf}, false},
	}
	for _, c := range cases {
		if got := flowtrain.Finite(c.xs); got != c.want {
			t.Errorf("Finite(%v): got %v, want %v", c.xs, got, c.want)
		}
	}
}

func TestClipNoAlloc(t *testing.T) {
	g := make([]float64, 1000)
	for i := range g {
		g[i] = float64(i)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		flowtrain.ClipNorm(g, 1)
		flowtrain.Finite(g)
	}); allocs != 0 {
		t.Errorf("ClipNorm, Finite: got %v allocs per run, want 0", allocs)
	}
}
