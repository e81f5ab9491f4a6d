package lattice

import "fmt"

// Dim is the number of space-time dimensions.
const Dim = 2

// Geometry is the periodic L x L lattice with its neighbour tables.
// It is immutable after construction and safe for concurrent use.
type Geometry struct {
	// L is the extent in each direction; V = L*L is the number of sites.
	L, V int

	up, down [Dim][]int32
}

// NewGeometry returns the periodic L x L lattice. It panics if L < 2.
func NewGeometry(L int) *Geometry {
	if L < 2 {
		panic(fmt.Sprintf("lattice: extent L=%d, want L >= 2", L))
	}
	g := &Geometry{L: L, V: L * L}
	for mu := 0; mu < Dim; mu++ {
		g.up[mu] = make([]int32, g.V)
		g.down[mu] = make([]int32, g.V)
	}
	for x0 := 0; x0 < L; x0++ {
		for x1 := 0; x1 < L; x1++ {
			n := g.Site(x0, x1)
			g.up[0][n] = int32(g.Site(x0+1, x1))
			g.down[0][n] = int32(g.Site(x0-1, x1))
			g.up[1][n] = int32(g.Site(x0, x1+1))
			g.down[1][n] = int32(g.Site(x0, x1-1))
		}
	}
	return g
}

// Site returns the index of the site (x0, x1); the coordinates are taken
// modulo L, so negative and overflowing coordinates wrap around.
func (g *Geometry) Site(x0, x1 int) int {
	x0 %= g.L
	if x0 < 0 {
		x0 += g.L
	}
	x1 %= g.L
	if x1 < 0 {
		x1 += g.L
	}
	return x0*g.L + x1
}

// Coords returns the coordinates (x0, x1) of site n.
func (g *Geometry) Coords(n int) (x0, x1 int) { return n / g.L, n % g.L }

// Up returns the index of the site n + e_mu.
func (g *Geometry) Up(mu, n int) int { return int(g.up[mu][n]) }

// Down returns the index of the site n - e_mu.
func (g *Geometry) Down(mu, n int) int { return int(g.down[mu][n]) }

// UpTable returns the table of n + e_mu for all sites. The slice is shared
// and must not be modified; it is meant for hot loops.
func (g *Geometry) UpTable(mu int) []int32 { return g.up[mu] }

// DownTable returns the table of n - e_mu for all sites, shared like UpTable.
func (g *Geometry) DownTable(mu int) []int32 { return g.down[mu] }
