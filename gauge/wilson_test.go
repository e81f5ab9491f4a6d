package gauge

import (
	"fmt"
	"math"
	"testing"

	"latflow/lattice"
)

var (
	_ lattice.Action  = WilsonAction{}
	_ lattice.Wrapper = WilsonAction{}
)

const (
	// forceFDStep is the central finite-difference step in a link angle.
	forceFDStep = 1e-5
	// forceFDTol bounds |force - FD| / beta: the truncation error is
	// h^2/6 |d^3 S| <~ 1e-10 beta, the rounding of S (about beta V 1e-16)
	// divided by h is at most 1e-8 beta for V = 64.
	forceFDTol = 1e-7
)

func TestWilsonForceFD(t *testing.T) {
	for _, L := range []int{4, 8} {
		for _, beta := range []float64{0.5, 2, 6} {
			t.Run(fmt.Sprintf("L=%d/beta=%g", L, beta), func(t *testing.T) {
				g := lattice.NewGeometry(L)
				a := WilsonAction{Geom: g, Beta: beta}
				links := randomLinks(g, uint64(10*L)+uint64(beta*10))
				force := make([]float64, len(links))
				a.ForceTo(force, links)
				x := append([]float64(nil), links...)
				for l := range x {
					x[l] = links[l] + forceFDStep
					sp := a.Action(x)
					x[l] = links[l] - forceFDStep
					sm := a.Action(x)
					x[l] = links[l]
					fd := (sp - sm) / (2 * forceFDStep)
					if d := math.Abs(force[l] - fd); d > forceFDTol*beta {
						t.Errorf("link %d: got force %.10g, want FD %.10g (diff %.2g)", l, force[l], fd, d)
					}
				}
			})
		}
	}
}

func TestWilsonColdStart(t *testing.T) {
	const L, beta = 6, 2.5
	g := lattice.NewGeometry(L)
	a := WilsonAction{Geom: g, Beta: beta}
	links := make([]float64, 2*g.V)
	if got, want := a.Action(links), -beta*float64(g.V); got != want {
		t.Errorf("action: got %g, want %g", got, want)
	}
	force := make([]float64, len(links))
	for i := range force {
		force[i] = math.NaN() // ForceTo must overwrite, not accumulate
	}
	a.ForceTo(force, links)
	for l, f := range force {
		if f != 0 {
			t.Errorf("force at link %d: got %g, want 0", l, f)
		}
	}
}

// TestWilsonInstantonAction checks S = -beta V cos(2pi k/V) on the
// uniform-field configuration, and that its force vanishes (it is a
// classical solution).
func TestWilsonInstantonAction(t *testing.T) {
	const L, beta, k = 8, 3.0, 2
	g := lattice.NewGeometry(L)
	a := WilsonAction{Geom: g, Beta: beta}
	links := make([]float64, 2*g.V)
	InstantonTo(links, g, k)
	want := -beta * float64(g.V) * math.Cos(twoPi*k/float64(g.V))
	if got := a.Action(links); math.Abs(got-want) > plaqTol*math.Abs(want) {
		t.Errorf("action: got %.15g, want %.15g", got, want)
	}
	force := make([]float64, len(links))
	a.ForceTo(force, links)
	for l, f := range force {
		if math.Abs(f) > plaqTol*beta {
			t.Errorf("force at link %d: got %g, want 0", l, f)
		}
	}
}

func TestWilsonWrap(t *testing.T) {
	g := lattice.NewGeometry(4)
	a := WilsonAction{Geom: g, Beta: 2}
	links := randomLinks(g, 5)
	for i := range links {
		links[i] += float64(i%5-2) * twoPi // move out of [0, 2pi)
	}
	before := a.Action(links)
	a.Wrap(links)
	for i, x := range links {
		if !(x >= 0 && x < twoPi) {
			t.Errorf("link %d: got %g, want in [0, 2pi)", i, x)
		}
	}
	if after := a.Action(links); math.Abs(after-before) > plaqTol*float64(g.V) {
		t.Errorf("action after Wrap: got %.15g, want %.15g", after, before)
	}
}

func BenchmarkWilsonActionForce(b *testing.B) {
	for _, L := range []int{16, 64} {
		b.Run(fmt.Sprintf("L=%d", L), func(b *testing.B) {
			benchmarkWilsonActionForce(b, L)
		})
	}
}

// benchmarkWilsonActionForce times one action plus one force evaluation,
// the work of an HMC leapfrog step's end point.
func benchmarkWilsonActionForce(b *testing.B, L int) {
	g := lattice.NewGeometry(L)
	a := WilsonAction{Geom: g, Beta: 3}
	links := randomLinks(g, 1)
	force := make([]float64, len(links))
	b.ReportAllocs()
	s := 0.0
	for b.Loop() {
		s += a.Action(links)
		a.ForceTo(force, links)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(g.V), "ns/site")
	if math.IsNaN(s) {
		b.Fatal("NaN action")
	}
}
