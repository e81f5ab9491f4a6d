package gauge

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"latflow/lattice"
)

// chargeTol is how far TopologicalCharge may be from an integer: the
// unwrapped plaquettes cancel up to about V times 1e-15.
const chargeTol = 1e-9

func TestTopologicalChargeInteger(t *testing.T) {
	for _, L := range []int{2, 4, 8, 16, 32} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			g := lattice.NewGeometry(L)
			nonzero := 0
			for seed := range uint64(20) {
				links := randomLinks(g, 100*uint64(L)+seed)
				q := TopologicalCharge(g, links)
				if d := math.Abs(q - math.Round(q)); d > chargeTol {
					t.Errorf("seed %d: got Q=%.15g, want an integer within %g", seed, q, chargeTol)
				}
				if math.Round(q) != 0 {
					nonzero++
				}
			}
			// On a hot start <Q^2> grows like V/12: the check above must
			// have seen nonzero charges to mean anything.
			if L >= 8 && nonzero == 0 {
				t.Errorf("got Q=0 on all 20 random configurations, want some nonzero")
			}
		})
	}
}

func TestTopologicalChargeInstanton(t *testing.T) {
	for _, L := range []int{3, 4, 8, 16} {
		for _, k := range []int{-2, -1, 0, 1, 2, 3} {
			t.Run(fmt.Sprintf("L=%d/Q=%d", L, k), func(t *testing.T) {
				g := lattice.NewGeometry(L)
				if 2*abs(k) >= g.V {
					t.Skip("charge too large for the lattice")
				}
				links := make([]float64, 2*g.V)
				InstantonTo(links, g, k)
				if q := TopologicalCharge(g, links); math.Abs(q-float64(k)) > chargeTol {
					t.Errorf("got Q=%.15g, want %d", q, k)
				}
				// Every plaquette is 2pi k/V modulo 2pi.
				P := make([]float64, g.V)
				PlaquettesTo(P, g, links)
				F := twoPi * float64(k) / float64(g.V)
				for n, p := range P {
					if d := wrapPi(p - F); math.Abs(d) > plaqTol {
						t.Errorf("P(%d): got %g, want %g mod 2pi", n, p, F)
					}
				}
				// A random gauge transformation keeps the charge.
				alpha := make([]float64, g.V)
				RandomLinksTo(alpha, rand.New(rand.NewPCG(uint64(L), uint64(k+10))))
				GaugeTransformTo(links, g, links, alpha)
				if q := TopologicalCharge(g, links); math.Abs(q-float64(k)) > chargeTol {
					t.Errorf("after a gauge transformation: got Q=%.15g, want %d", q, k)
				}
			})
		}
	}
}

// TestTopologicalChargeHandBuilt checks Q = 1 on a configuration written
// out by hand on the 2 x 2 lattice, independent of InstantonTo: every
// plaquette equals pi/2.
func TestTopologicalChargeHandBuilt(t *testing.T) {
	g := lattice.NewGeometry(2)
	const h = math.Pi / 2
	// Sites n = 2*x0 + x1: (0,0)=0, (0,1)=1, (1,0)=2, (1,1)=3.
	// theta_1(x0, x1) = h x0; theta_0(1, x1) = -2h x1, other theta_0 = 0.
	links := []float64{
		0, 0, 0, -2 * h, // theta_0 at sites 0..3
		0, 0, h, h, // theta_1 at sites 0..3
	}
	P := make([]float64, g.V)
	PlaquettesTo(P, g, links)
	for n, p := range P {
		if d := wrapPi(p - h); math.Abs(d) > plaqTol {
			t.Errorf("P(%d): got %g, want pi/2 mod 2pi", n, p)
		}
	}
	if q := TopologicalCharge(g, links); math.Abs(q-1) > chargeTol {
		t.Errorf("got Q=%.15g, want 1", q)
	}
	// The mirror image (all angles negated) has Q = -1.
	for i := range links {
		links[i] = -links[i]
	}
	if q := TopologicalCharge(g, links); math.Abs(q+1) > chargeTol {
		t.Errorf("negated: got Q=%.15g, want -1", q)
	}
}

func TestTopologicalChargeAllocs(t *testing.T) {
	g := lattice.NewGeometry(8)
	links := randomLinks(g, 1)
	if n := testing.AllocsPerRun(10, func() { TopologicalCharge(g, links) }); n != 0 {
		t.Errorf("got %g allocations, want 0", n)
	}
	a := WilsonAction{Geom: g, Beta: 1}
	force := make([]float64, len(links))
	if n := testing.AllocsPerRun(10, func() { a.ForceTo(force, links) }); n != 0 {
		t.Errorf("ForceTo: got %g allocations, want 0", n)
	}
}
