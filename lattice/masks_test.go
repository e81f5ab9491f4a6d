package lattice

import (
	"fmt"
	"testing"
)

func TestCheckerboard(t *testing.T) {
	for _, L := range []int{4, 6, 8} {
		g := NewGeometry(L)
		even, odd := Checkerboard(g, 0), Checkerboard(g, 1)
		count := 0
		for n := 0; n < g.V; n++ {
			if even[n] == odd[n] {
				t.Errorf("L=%d: site %d: got even=%v odd=%v, want exactly one", L, n, even[n], odd[n])
			}
			if even[n] {
				count++
			}
			for mu := 0; mu < Dim; mu++ {
				if m := g.Up(mu, n); even[m] == even[n] {
					t.Errorf("L=%d: sites %d and %d are neighbours of the same colour", L, n, m)
				}
			}
		}
		if count != g.V/2 {
			t.Errorf("L=%d: got %d even sites, want %d", L, count, g.V/2)
		}
	}
	expectPanic(t, "parity 2", func() { Checkerboard(NewGeometry(4), 2) })
}

// roll returns a copy of the L x L array m (index x0*L+x1) shifted by off
// along axis: out[.., i, ..] = m[.., i-off, ..], as numpy.roll.
func roll(g *Geometry, m []bool, off, axis int) []bool {
	out := make([]bool, len(m))
	for x0 := 0; x0 < g.L; x0++ {
		for x1 := 0; x1 < g.L; x1++ {
			if axis == 0 {
				out[g.Site(x0, x1)] = m[g.Site(x0-off, x1)]
			} else {
				out[g.Site(x0, x1)] = m[g.Site(x0, x1-off)]
			}
		}
	}
	return out
}

// stripes is make_single_stripes (residues {0}) and make_double_stripes
// (residues {0, 1}) of the tutorial arXiv 2101.08176: mark columns
// x1 % 4 in residues for mu = 0 or rows x0 % 4 for mu = 1, then roll by off
// along 1 - mu.
func stripes(g *Geometry, mu, off int, residues ...int) []bool {
	m := make([]bool, g.V)
	for n := range m {
		x0, x1 := g.Coords(n)
		c := x1
		if mu == 1 {
			c = x0
		}
		for _, r := range residues {
			if c%4 == r {
				m[n] = true
			}
		}
	}
	return roll(g, m, off, 1-mu)
}

func TestStripeMasksTutorial(t *testing.T) {
	for _, L := range []int{4, 8, 12} {
		g := NewGeometry(L)
		for layer := 0; layer < 10; layer++ {
			t.Run(fmt.Sprintf("L=%d/layer=%d", L, layer), func(t *testing.T) {
				s := NewStripeMasks(g, layer)
				mu, off := layer%2, (layer/2)%4
				if s.Mu != mu || s.Offset != off {
					t.Fatalf("got mu=%d offset=%d, want %d, %d", s.Mu, s.Offset, mu, off)
				}
				frozen := stripes(g, mu, off+1, 0, 1)
				active := stripes(g, mu, off, 0)
				for n := 0; n < g.V; n++ {
					passive := !frozen[n] && !active[n]
					if s.Frozen[n] != frozen[n] || s.Active[n] != active[n] || s.Passive[n] != passive {
						t.Errorf("plaquette %d: got frozen/active/passive %v/%v/%v, want %v/%v/%v",
							n, s.Frozen[n], s.Active[n], s.Passive[n], frozen[n], active[n], passive)
					}
					for nu := 0; nu < Dim; nu++ {
						want := nu == mu && active[n]
						if got := s.ActiveLinks[nu*g.V+n]; got != want {
							t.Errorf("link mu=%d n=%d: got active=%v, want %v", nu, n, got, want)
						}
					}
				}
			})
		}
	}
}

// plaquetteLinks lists the four links of P(n) =
// theta_0(n) + theta_1(n+e0) - theta_0(n+e1) - theta_1(n) as link indices.
func plaquetteLinks(g *Geometry, n int) [4]int {
	return [4]int{n, g.V + g.Up(0, n), g.Up(1, n), g.V + n}
}

func TestStripeMasksGeometry(t *testing.T) {
	for _, L := range []int{4, 8} {
		g := NewGeometry(L)
		// Brute force: the plaquettes that contain each link.
		contain := make([][]int, Dim*g.V)
		for n := 0; n < g.V; n++ {
			for _, l := range plaquetteLinks(g, n) {
				contain[l] = append(contain[l], n)
			}
		}
		updated := make([]int, Dim*g.V)
		for layer := 0; layer < 8; layer++ {
			t.Run(fmt.Sprintf("L=%d/layer=%d", L, layer), func(t *testing.T) {
				s := NewStripeMasks(g, layer)
				nActive, nFrozen, nPassive := 0, 0, 0
				for n := 0; n < g.V; n++ {
					k := 0
					for _, b := range []bool{s.Frozen[n], s.Active[n], s.Passive[n]} {
						if b {
							k++
						}
					}
					if k != 1 {
						t.Errorf("plaquette %d: in %d of frozen/active/passive, want 1", n, k)
					}
					if s.Active[n] {
						nActive++
					}
					if s.Frozen[n] {
						nFrozen++
					}
					if s.Passive[n] {
						nPassive++
					}
					// An active plaquette holds exactly one active link; a
					// frozen one holds none.
					links := 0
					for _, l := range plaquetteLinks(g, n) {
						if s.ActiveLinks[l] {
							links++
						}
					}
					switch {
					case s.Active[n] && links != 1:
						t.Errorf("active plaquette %d: got %d active links, want 1", n, links)
					case s.Frozen[n] && links != 0:
						t.Errorf("frozen plaquette %d: got %d active links, want 0", n, links)
					}
				}
				if nActive != g.V/4 || nFrozen != g.V/2 || nPassive != g.V/4 {
					t.Errorf("got %d active, %d frozen, %d passive plaquettes, want %d, %d, %d",
						nActive, nFrozen, nPassive, g.V/4, g.V/2, g.V/4)
				}
				nLinks := 0
				for l, on := range s.ActiveLinks {
					if !on {
						continue
					}
					nLinks++
					updated[l]++
					if len(contain[l]) != 2 {
						t.Fatalf("link %d: in %d plaquettes, want 2", l, len(contain[l]))
					}
					var a, p, f int
					for _, n := range contain[l] {
						switch {
						case s.Active[n]:
							a++
						case s.Passive[n]:
							p++
						case s.Frozen[n]:
							f++
						}
					}
					if a != 1 || p != 1 || f != 0 {
						t.Errorf("active link %d: in %d active, %d passive, %d frozen plaquettes, want 1, 1, 0", l, a, p, f)
					}
				}
				if nLinks != g.V/4 {
					t.Errorf("got %d active links, want %d", nLinks, g.V/4)
				}
			})
		}
		// Eight consecutive layers update every link exactly once.
		for l, k := range updated {
			if k != 1 {
				t.Errorf("L=%d: link %d updated %d times in 8 layers, want 1", L, l, k)
			}
		}
	}
}

func TestStripeMasksPanics(t *testing.T) {
	expectPanic(t, "L=6", func() { NewStripeMasks(NewGeometry(6), 0) })
	expectPanic(t, "layer=-1", func() { NewStripeMasks(NewGeometry(8), -1) })
}
