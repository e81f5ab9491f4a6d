package lattice

import "fmt"

// Parametrization names the couplings a phi^4 action was built from.
type Parametrization int

const (
	// Standard is S = sum_x [ sum_mu (phi(x+e_mu) - phi(x))^2 + m2 phi^2 + lambda phi^4 ]
	// (Albergo et al.).
	Standard Parametrization = iota
	// Hopping is S = sum_x [ -2 kappa sum_mu phi(x) phi(x+e_mu) + (1 - 2 lambda) phi^2 + lambda phi^4 ]
	// (Nicoli et al., Vaitl et al.).
	Hopping
)

// String returns "standard" or "hopping".
func (p Parametrization) String() string {
	switch p {
	case Standard:
		return "standard"
	case Hopping:
		return "hopping"
	}
	return fmt.Sprintf("Parametrization(%d)", int(p))
}

// Phi4Action is the phi^4 action
//
//	S = sum_x [ -2 J sum_mu phi(x) phi(x+e_mu) + A phi(x)^2 + B phi(x)^4 ]
//
// on the sites of Geom. The kernel uses J, A and B only; Param, M2, Kappa and
// Lambda record the couplings the user gave, for output. Build it with
// NewPhi4Standard or NewPhi4Hopping. A Phi4Action is a value and safe for
// concurrent use.
type Phi4Action struct {
	Geom    *Geometry
	J, A, B float64

	Param             Parametrization
	M2, Kappa, Lambda float64
}

// NewPhi4Standard returns the action in the standard parametrization
// (J = 1, A = 2*Dim + m2, B = lambda).
func NewPhi4Standard(g *Geometry, m2, lambda float64) Phi4Action {
	return Phi4Action{
		Geom: g, J: 1, A: 2*Dim + m2, B: lambda,
		Param: Standard, M2: m2, Lambda: lambda,
	}
}

// NewPhi4Hopping returns the action in the hopping parametrization
// (J = kappa, A = 1 - 2 lambda, B = lambda).
func NewPhi4Hopping(g *Geometry, kappa, lambda float64) Phi4Action {
	return Phi4Action{
		Geom: g, J: kappa, A: 1 - 2*lambda, B: lambda,
		Param: Hopping, Kappa: kappa, Lambda: lambda,
	}
}

// String describes the action by the couplings of its parametrization,
// e.g. "phi4 standard m2=-4 lambda=8" or "phi4 hopping kappa=0.3 lambda=0.022".
func (a Phi4Action) String() string {
	switch a.Param {
	case Standard:
		return fmt.Sprintf("phi4 standard m2=%g lambda=%g", a.M2, a.Lambda)
	case Hopping:
		return fmt.Sprintf("phi4 hopping kappa=%g lambda=%g", a.Kappa, a.Lambda)
	}
	return fmt.Sprintf("phi4 %v J=%g A=%g B=%g", a.Param, a.J, a.A, a.B)
}

func (a Phi4Action) check(name string, phi []float64) {
	if a.Geom == nil {
		panic("lattice: " + name + ": Phi4Action has no geometry")
	}
	if len(phi) != a.Geom.V {
		panic(fmt.Sprintf("lattice: %s: field length %d, want V=%d", name, len(phi), a.Geom.V))
	}
}

// Action returns S(phi). It panics if len(phi) != V.
func (a Phi4Action) Action(phi []float64) float64 {
	a.check("Action", phi)
	L := a.Geom.L
	var hop, mass, quart float64
	for x0 := 0; x0 < L; x0++ {
		row := phi[x0*L : x0*L+L]
		up := x0*L + L
		if x0 == L-1 {
			up = 0
		}
		next := phi[up : up+L]
		// Neighbour in direction 1 within the row, the last site wraps.
		for x1 := 0; x1 < L-1; x1++ {
			f := row[x1]
			f2 := f * f
			hop += f * (row[x1+1] + next[x1])
			mass += f2
			quart += f2 * f2
		}
		f := row[L-1]
		f2 := f * f
		hop += f * (row[0] + next[L-1])
		mass += f2
		quart += f2 * f2
	}
	return -2*a.J*hop + a.A*mass + a.B*quart
}

// ForceTo writes the force dS/dphi into dst:
//
//	dS/dphi(x) = -2 J sum_mu [phi(x+e_mu) + phi(x-e_mu)] + 2 A phi(x) + 4 B phi(x)^3.
//
// It does not allocate. It panics if len(dst) or len(phi) differs from V;
// dst and phi must not overlap.
func (a Phi4Action) ForceTo(dst, phi []float64) {
	a.check("ForceTo", phi)
	if len(dst) != len(phi) {
		panic(fmt.Sprintf("lattice: ForceTo: dst length %d, want V=%d", len(dst), len(phi)))
	}
	L := a.Geom.L
	j2, a2, b4 := -2*a.J, 2*a.A, 4*a.B
	for x0 := 0; x0 < L; x0++ {
		up, dn := x0*L+L, x0*L-L
		if x0 == L-1 {
			up = 0
		}
		if x0 == 0 {
			dn = (L - 1) * L
		}
		row := phi[x0*L : x0*L+L]
		next := phi[up : up+L]
		prev := phi[dn : dn+L]
		out := dst[x0*L : x0*L+L]
		// x1 = 0 and x1 = L-1 wrap in direction 1.
		f := row[0]
		out[0] = j2*(next[0]+prev[0]+row[1]+row[L-1]) + f*(a2+b4*f*f)
		for x1 := 1; x1 < L-1; x1++ {
			f := row[x1]
			out[x1] = j2*(next[x1]+prev[x1]+row[x1+1]+row[x1-1]) + f*(a2+b4*f*f)
		}
		f = row[L-1]
		out[L-1] = j2*(next[L-1]+prev[L-1]+row[0]+row[L-2]) + f*(a2+b4*f*f)
	}
}
