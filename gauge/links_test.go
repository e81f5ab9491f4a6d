package gauge

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"latflow/lattice"
)

// randomLinks returns a hot configuration on g from a fixed seed.
func randomLinks(g *lattice.Geometry, seed uint64) []float64 {
	links := make([]float64, 2*g.V)
	RandomLinksTo(links, rand.New(rand.NewPCG(seed, 1)))
	return links
}

// wrapTol is the rounding allowed when comparing angles modulo 2pi.
const wrapTol = 1e-12

func TestWrap(t *testing.T) {
	tiny := math.SmallestNonzeroFloat64
	for _, x := range []float64{0, 1, math.Pi, twoPi, -twoPi, 7, -0.5, -tiny, -1e-17, 1e6, -1e6 - 0.3, 3 * twoPi, math.Nextafter(twoPi, 0)} {
		t.Run(fmt.Sprintf("x=%g", x), func(t *testing.T) {
			y := Wrap(x)
			if !(y >= 0 && y < twoPi) {
				t.Fatalf("got Wrap(%g)=%g, want in [0, 2pi)", x, y)
			}
			if d := wrapPi(y - x); math.Abs(d) > wrapTol*math.Max(1, math.Abs(x)) {
				t.Errorf("got Wrap(%g)=%g, off a multiple of 2pi by %g, want 0", x, y, d)
			}
			if z := Wrap(y); z != y {
				t.Errorf("got Wrap(Wrap(%g))=%g, want %g", x, z, y)
			}
		})
	}
	if y := Wrap(math.NaN()); !math.IsNaN(y) {
		t.Errorf("got Wrap(NaN)=%g, want NaN", y)
	}
}

func TestWrapPi(t *testing.T) {
	for _, x := range []float64{0, 1, math.Pi, -math.Pi, twoPi, -twoPi, 4, -4, 1e-17, -1e-17, 13.7, -13.7, 3 * math.Pi} {
		y := wrapPi(x)
		if !(y >= -math.Pi && y < math.Pi) {
			t.Errorf("got wrapPi(%g)=%g, want in [-pi, pi)", x, y)
		}
		if d := math.Abs(math.Sin(y) - math.Sin(x)); d > wrapTol {
			t.Errorf("got wrapPi(%g)=%g with sin off by %g, want 0", x, y, d)
		}
		if d := math.Abs(math.Cos(y) - math.Cos(x)); d > wrapTol {
			t.Errorf("got wrapPi(%g)=%g with cos off by %g, want 0", x, y, d)
		}
	}
	if y := wrapPi(math.Pi); y != -math.Pi {
		t.Errorf("got wrapPi(pi)=%g, want -pi", y)
	}
}

func TestWrapLinks(t *testing.T) {
	links := []float64{-1, 0, 7, twoPi, 100}
	orig := append([]float64(nil), links...)
	WrapLinks(links)
	for i, y := range links {
		if want := Wrap(orig[i]); y != want {
			t.Errorf("link %d: got %g, want %g", i, y, want)
		}
	}
}

func TestRandomLinksTo(t *testing.T) {
	const (
		n = 100000
		k = 4 // sigmas allowed
	)
	a := make([]float64, n)
	b := make([]float64, n)
	RandomLinksTo(a, rand.New(rand.NewPCG(7, 1)))
	RandomLinksTo(b, rand.New(rand.NewPCG(7, 1)))
	mean, mean2 := 0.0, 0.0
	for i, x := range a {
		if x != b[i] {
			t.Fatalf("same seed, angle %d: got %v and %v, want identical", i, x, b[i])
		}
		if !(x >= 0 && x < twoPi) {
			t.Fatalf("angle %d: got %g, want in [0, 2pi)", i, x)
		}
		mean += x / n
		mean2 += x * x / n
	}
	// Uniform on [0, 2pi): mean pi, variance (2pi)^2/12, fourth central
	// moment (2pi)^4/80.
	variance := twoPi * twoPi / 12
	if d := math.Abs(mean - math.Pi); d > k*math.Sqrt(variance/n) {
		t.Errorf("got mean %g, want pi = %g within %d sigma", mean, math.Pi, k)
	}
	v := mean2 - mean*mean
	sigmaV := math.Sqrt((math.Pow(twoPi, 4)/80 - variance*variance) / n)
	if d := math.Abs(v - variance); d > k*sigmaV {
		t.Errorf("got variance %g, want %g within %d sigma", v, variance, k)
	}
}

// expectPanic fails t unless f panics with a message prefixed "gauge: ".
func expectPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Errorf("%s: got no panic, want one", name)
			return
		}
		if s := fmt.Sprint(r); len(s) < 7 || s[:7] != "gauge: " {
			t.Errorf("%s: got panic %q, want prefix \"gauge: \"", name, s)
		}
	}()
	f()
}

func TestMisusePanics(t *testing.T) {
	g := lattice.NewGeometry(4)
	good := make([]float64, 2*g.V)
	short := make([]float64, 2*g.V-1)
	a := WilsonAction{Geom: g, Beta: 1}
	expectPanic(t, "PlaquettesTo short links", func() { PlaquettesTo(make([]float64, g.V), g, short) })
	expectPanic(t, "PlaquettesTo short dst", func() { PlaquettesTo(make([]float64, g.V-1), g, good) })
	expectPanic(t, "MeanCosPlaquette", func() { MeanCosPlaquette(g, short) })
	expectPanic(t, "TopologicalCharge", func() { TopologicalCharge(g, short) })
	expectPanic(t, "TopologicalCharge nil geometry", func() { TopologicalCharge(nil, good) })
	expectPanic(t, "Action", func() { a.Action(short) })
	expectPanic(t, "ForceTo links", func() { a.ForceTo(make([]float64, len(short)), short) })
	expectPanic(t, "ForceTo dst", func() { a.ForceTo(short, good) })
	expectPanic(t, "ForceTo aliasing", func() { a.ForceTo(good, good) })
	expectPanic(t, "GaugeTransformTo alpha", func() { GaugeTransformTo(good, g, good, make([]float64, g.V+1)) })
	expectPanic(t, "GaugeTransformTo dst", func() { GaugeTransformTo(short, g, good, make([]float64, g.V)) })
	expectPanic(t, "RandomLinksTo nil rng", func() { RandomLinksTo(good, nil) })
	expectPanic(t, "Plaquette site", func() { Plaquette(g, good, g.V) })
	expectPanic(t, "InstantonTo charge", func() { InstantonTo(good, g, g.V/2) })
}
