package lattice

import "fmt"

// Checkerboard returns the mask of the sites with (x0 + x1) % 2 == parity,
// parity 0 or 1. It panics for any other parity. Used by the phi^4 RealNVP
// couplings; for odd L the two masks still partition the sites but
// neighbours across the boundary can share a colour.
func Checkerboard(g *Geometry, parity int) []bool {
	if parity != 0 && parity != 1 {
		panic(fmt.Sprintf("lattice: Checkerboard: parity %d, want 0 or 1", parity))
	}
	m := make([]bool, g.V)
	for n := range m {
		x0, x1 := g.Coords(n)
		m[n] = (x0+x1)%2 == parity
	}
	return m
}

// StripeMasks are the masks of one gauge-equivariant U(1) coupling layer
// (Kanwar et al. 2020; Albergo et al., arXiv 2101.08176). Layer i updates
// links of direction Mu = i%2 on a stripe every fourth row (Mu = 1) or column
// (Mu = 0), shifted by Offset = (i/2)%4 along the other direction nu = 1-Mu.
//
// With c the coordinate along nu (c = x1 for Mu = 0, c = x0 for Mu = 1):
//   - ActiveLinks (length 2V, link index mu*V + n) marks the links
//     theta_Mu(n) with c ≡ Offset mod 4; links of direction nu are inactive.
//   - Active plaquettes P(n) have c ≡ Offset mod 4 ("single stripes").
//   - Frozen plaquettes have c ≡ Offset+1 or Offset+2 mod 4 ("double
//     stripes" rolled by Offset+1); they condition the layer.
//   - Passive plaquettes are the rest, c ≡ Offset+3 mod 4.
//
// Each active link lies in exactly one active plaquette (P(n) itself) and one
// passive plaquette, and no frozen plaquette contains an active link, so the
// layer is invertible given the frozen plaquettes.
type StripeMasks struct {
	Mu, Offset  int
	ActiveLinks []bool
	// Frozen, Active and Passive partition the V plaquettes P(n).
	Frozen, Active, Passive []bool
}

// NewStripeMasks returns the masks of coupling layer number layer >= 0:
// Mu = layer%2, Offset = (layer/2)%4. It panics unless L%4 == 0 and
// layer >= 0.
func NewStripeMasks(g *Geometry, layer int) StripeMasks {
	if g.L%4 != 0 {
		panic(fmt.Sprintf("lattice: NewStripeMasks: L=%d, want a multiple of 4", g.L))
	}
	if layer < 0 {
		panic(fmt.Sprintf("lattice: NewStripeMasks: layer %d, want >= 0", layer))
	}
	s := StripeMasks{
		Mu:          layer % 2,
		Offset:      (layer / 2) % 4,
		ActiveLinks: make([]bool, Dim*g.V),
		Frozen:      make([]bool, g.V),
		Active:      make([]bool, g.V),
		Passive:     make([]bool, g.V),
	}
	for n := 0; n < g.V; n++ {
		x0, x1 := g.Coords(n)
		c := x1 // coordinate along nu = 1 - Mu
		if s.Mu == 1 {
			c = x0
		}
		switch (c - s.Offset + 4) % 4 {
		case 0:
			s.Active[n] = true
			s.ActiveLinks[s.Mu*g.V+n] = true
		case 1, 2:
			s.Frozen[n] = true
		case 3:
			s.Passive[n] = true
		}
	}
	return s
}
