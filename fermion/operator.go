package fermion

import (
	"fmt"
	"math"

	"latflow/lattice"
)

// Spin is the number of spinor components in two dimensions.
const Spin = 2

// Operator is the Wilson Dirac operator D of package doc on the lattice
// Geom at hopping parameter Kappa, for the links last given to SetLinks.
// It keeps the link phases (with the antiperiodic sign folded in), so
// applying D costs no trigonometry. An Operator is not safe for concurrent
// use while SetLinks runs; ApplyTo and ApplyDaggerTo only read it.
type Operator struct {
	Geom  *lattice.Geometry
	Kappa float64

	// u[mu*V+n] = b_mu(n) exp(i theta_mu(n)), b = -1 on the time links
	// that cross the boundary x0 = L-1 -> 0, else +1.
	u []complex128
	// even and odd list the sites of each parity of x0 + x1 (for even L).
	even, odd []int32
}

// NewOperator returns the operator on g at hopping parameter kappa, with
// all links set to 1 (the free field). It panics if g is nil or kappa is
// not finite.
func NewOperator(g *lattice.Geometry, kappa float64) *Operator {
	if g == nil {
		panic("fermion: NewOperator: nil geometry")
	}
	if math.IsNaN(kappa) || math.IsInf(kappa, 0) {
		panic(fmt.Sprintf("fermion: NewOperator: kappa=%g, want a finite value", kappa))
	}
	d := &Operator{Geom: g, Kappa: kappa, u: make([]complex128, 2*g.V)}
	if g.L%2 == 0 {
		for n := range g.V {
			x0, x1 := g.Coords(n)
			if (x0+x1)%2 == 0 {
				d.even = append(d.even, int32(n))
			} else {
				d.odd = append(d.odd, int32(n))
			}
		}
	}
	d.SetLinks(make([]float64, 2*g.V))
	return d
}

// Size returns n = 2V, the dimension of D.
func (d *Operator) Size() int { return Spin * d.Geom.V }

// SetLinks stores the phases of links (2V angles in gauge order). It does
// not allocate.
func (d *Operator) SetLinks(links []float64) {
	g := d.Geom
	if len(links) != 2*g.V {
		panic(fmt.Sprintf("fermion: SetLinks: len(links)=%d, want 2V=%d", len(links), 2*g.V))
	}
	V, L := g.V, g.L
	for i, th := range links {
		s, c := math.Sincos(th)
		d.u[i] = complex(c, s)
	}
	// Antiperiodic in time: the links theta_0(n) with x0 = L-1.
	for n := V - L; n < V; n++ {
		d.u[n] = -d.u[n]
	}
}

// Phase returns the stored phase b_mu(n) exp(i theta_mu(n)) of the link
// leaving n in direction mu.
func (d *Operator) Phase(mu, n int) complex128 { return d.u[mu*d.Geom.V+n] }

// checkVec panics unless v has length 2V.
func (d *Operator) checkVec(fn, name string, v []complex128) {
	if len(v) != Spin*d.Geom.V {
		panic(fmt.Sprintf("fermion: %s: len(%s)=%d, want 2V=%d", fn, name, len(v), Spin*d.Geom.V))
	}
}

// ApplyTo writes D psi into dst:
//
//	(D psi)(x) = psi(x) - kappa sum_mu [ (1 - gamma_mu) U_mu(x) psi(x+mu)
//	                                   + (1 + gamma_mu) conj(U_mu(x-mu)) psi(x-mu) ],
//
// with the boundary sign of the time links in U. dst must not share
// memory with psi. ApplyTo does not allocate.
func (d *Operator) ApplyTo(dst, psi []complex128) { d.apply("ApplyTo", dst, psi, false) }

// ApplyDaggerTo writes D^dagger psi into dst; it is ApplyTo with the
// projectors 1 -+ gamma_mu exchanged (they are hermitian), so that
// D^dagger = gamma_5 D gamma_5. dst must not share memory with psi.
func (d *Operator) ApplyDaggerTo(dst, psi []complex128) { d.apply("ApplyDaggerTo", dst, psi, true) }

// apply is the stencil of D (dagger false) or D^dagger (dagger true).
//
// With gamma_0 = sigma_1 and gamma_1 = sigma_2 (directions 0 and 1):
//
//	1 - sigma_1 = [[1, -1], [-1, 1]]   1 + sigma_1 = [[1, 1], [1, 1]]
//	1 - sigma_2 = [[1,  i], [-i, 1]]   1 + sigma_2 = [[1, -i], [i, 1]]
func (d *Operator) apply(fn string, dst, psi []complex128, dagger bool) {
	d.checkVec(fn, "dst", dst)
	d.checkVec(fn, "psi", psi)
	if &dst[0] == &psi[0] {
		panic(fmt.Sprintf("fermion: %s: dst and psi share memory", fn))
	}
	k := complex(d.Kappa, 0)
	psi = psi[:len(dst)]
	for n := range d.Geom.V {
		h0, h1 := d.hopSite(n, psi, dagger)
		dst[2*n] = psi[2*n] - k*h0
		dst[2*n+1] = psi[2*n+1] - k*h1
	}
}

// hopSite returns the two spin components of (H psi)(n), or of
// (H^dagger psi)(n) if dagger is set.
func (d *Operator) hopSite(n int, psi []complex128, dagger bool) (h0, h1 complex128) {
	g := d.Geom
	V := g.V
	// sf = +1 applies 1 - gamma to the forward hop and 1 + gamma to the
	// backward one (H); sf = -1 exchanges them (H^dagger).
	sf := complex(1, 0)
	if dagger {
		sf = -1
	}
	u0, u1 := d.u[:V], d.u[V:2*V]
	// Direction 0, forward: (1 -+ sigma_1) U psi(x+0).
	f := g.Up(0, n)
	a, b := u0[n]*psi[2*f], u0[n]*psi[2*f+1]
	h0 = a - sf*b
	h1 = b - sf*a
	// Direction 0, backward: (1 +- sigma_1) conj(U(x-0)) psi(x-0).
	bk := g.Down(0, n)
	c := conj(u0[bk])
	a, b = c*psi[2*bk], c*psi[2*bk+1]
	h0 += a + sf*b
	h1 += b + sf*a
	// Direction 1, forward: (1 -+ sigma_2) U psi(x+1);
	// (1 - sigma_2)(a, b) = (a + i b, b - i a).
	f = g.Up(1, n)
	a, b = u1[n]*psi[2*f], u1[n]*psi[2*f+1]
	h0 += a + sf*1i*b
	h1 += b - sf*1i*a
	// Direction 1, backward: (1 +- sigma_2) conj(U(x-1)) psi(x-1);
	// (1 + sigma_2)(a, b) = (a - i b, b + i a).
	bk = g.Down(1, n)
	c = conj(u1[bk])
	a, b = c*psi[2*bk], c*psi[2*bk+1]
	h0 += a - sf*1i*b
	h1 += b + sf*1i*a
	return h0, h1
}

// ApplySchurTo writes M psi into dst, with M = 1 - kappa^2 H_eo H_oe the
// even-odd Schur complement of D (det D = det M): on the even sites
// dst = psi - kappa^2 H (H psi), on the odd sites 0. Only the even sites of
// psi are read. odd is workspace (length 2V) that receives H_oe psi on the
// odd sites. dst, odd and psi must be distinct. It panics for odd L.
func (d *Operator) ApplySchurTo(dst, odd, psi []complex128) {
	d.applySchur("ApplySchurTo", dst, odd, psi, false)
}

// ApplySchurDaggerTo writes M^dagger psi = psi - kappa^2 H^dagger (H^dagger
// psi) on the even sites, 0 on the odd ones, like ApplySchurTo.
func (d *Operator) ApplySchurDaggerTo(dst, odd, psi []complex128) {
	d.applySchur("ApplySchurDaggerTo", dst, odd, psi, true)
}

func (d *Operator) applySchur(fn string, dst, odd, psi []complex128, dagger bool) {
	d.checkVec(fn, "dst", dst)
	d.checkVec(fn, "odd", odd)
	d.checkVec(fn, "psi", psi)
	if d.Geom.L%2 != 0 {
		panic(fmt.Sprintf("fermion: %s: L=%d, want L even", fn, d.Geom.L))
	}
	if &dst[0] == &psi[0] || &dst[0] == &odd[0] || &odd[0] == &psi[0] {
		panic(fmt.Sprintf("fermion: %s: dst, odd and psi share memory", fn))
	}
	for _, n := range d.odd {
		odd[2*n], odd[2*n+1] = d.hopSite(int(n), psi, dagger)
	}
	k2 := complex(d.Kappa*d.Kappa, 0)
	for _, n := range d.even {
		h0, h1 := d.hopSite(int(n), odd, dagger)
		dst[2*n] = psi[2*n] - k2*h0
		dst[2*n+1] = psi[2*n+1] - k2*h1
	}
	for _, n := range d.odd {
		dst[2*n], dst[2*n+1] = 0, 0
	}
}

// Gamma5To writes gamma_5 psi = sigma_3 psi into dst (dst may be psi).
func Gamma5To(dst, psi []complex128) {
	if len(dst) != len(psi) || len(psi)%Spin != 0 {
		panic(fmt.Sprintf("fermion: Gamma5To: len(dst)=%d, len(psi)=%d, want equal and even", len(dst), len(psi)))
	}
	for i := 0; i < len(psi); i += 2 {
		dst[i] = psi[i]
		dst[i+1] = -psi[i+1]
	}
}

// hop is one term of the hopping matrix H, D = 1 - kappa H: from site x to
// site y = x +- e_mu with the 2x2 matrix m (projector times phase).
type hop struct {
	y int
	m [2][2]complex128
}

// projector returns 1 - gamma_mu (sign -1) or 1 + gamma_mu (sign +1).
func projector(mu int, sign float64) [2][2]complex128 {
	s := complex(sign, 0)
	if mu == 0 {
		return [2][2]complex128{{1, s}, {s, 1}}
	}
	// sigma_2 = [[0, -i], [i, 0]].
	return [2][2]complex128{{1, -s * 1i}, {s * 1i, 1}}
}

// scale returns c m.
func scale(c complex128, m [2][2]complex128) [2][2]complex128 {
	return [2][2]complex128{{c * m[0][0], c * m[0][1]}, {c * m[1][0], c * m[1][1]}}
}

// hopsTo fills dst with the four hops leaving site x, in the order
// (0, +), (0, -), (1, +), (1, -).
func (d *Operator) hopsTo(dst *[4]hop, x int) {
	g := d.Geom
	for mu := range lattice.Dim {
		f, b := g.Up(mu, x), g.Down(mu, x)
		dst[2*mu] = hop{y: f, m: scale(d.Phase(mu, x), projector(mu, -1))}
		dst[2*mu+1] = hop{y: b, m: scale(conj(d.Phase(mu, b)), projector(mu, +1))}
	}
}

// hopsInto fills dst with the four hops arriving at site y, in the order of
// hopsTo at y: the hop from y+mu back to y, then from y-mu forward to y.
// Here hop.y is the site the hop starts from.
func (d *Operator) hopsInto(dst *[4]hop, y int) {
	g := d.Geom
	for mu := range lattice.Dim {
		f, b := g.Up(mu, y), g.Down(mu, y)
		dst[2*mu] = hop{y: f, m: scale(conj(d.Phase(mu, y)), projector(mu, +1))}
		dst[2*mu+1] = hop{y: b, m: scale(d.Phase(mu, b), projector(mu, -1))}
	}
}

// DenseTo writes the dense matrix of D, n x n with n = 2V, row-major into
// dst: D[(2x+a)*n + 2y+b] for sites x, y and spins a, b. It panics unless
// len(dst) = n*n and L <= MaxDenseL.
func (d *Operator) DenseTo(dst []complex128) {
	n := d.Size()
	if d.Geom.L > MaxDenseL {
		panic(fmt.Sprintf("fermion: DenseTo: L=%d, want L <= %d", d.Geom.L, MaxDenseL))
	}
	if len(dst) != n*n {
		panic(fmt.Sprintf("fermion: DenseTo: len(dst)=%d, want (2V)^2=%d", len(dst), n*n))
	}
	clear(dst)
	k := complex(d.Kappa, 0)
	var hs [4]hop
	for x := range d.Geom.V {
		dst[2*x*n+2*x] = 1
		dst[(2*x+1)*n+2*x+1] = 1
		d.hopsTo(&hs, x)
		for _, h := range hs {
			for a := range Spin {
				for b := range Spin {
					dst[(2*x+a)*n+2*h.y+b] -= k * h.m[a][b]
				}
			}
		}
	}
}

// MaxDenseL is the largest extent for which dense matrices are built
// (n = 2V = 512 at L = 16).
const MaxDenseL = 16

// conj returns the complex conjugate of z.
func conj(z complex128) complex128 { return complex(real(z), -imag(z)) }
