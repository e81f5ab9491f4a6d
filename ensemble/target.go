package ensemble

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"latflow/fermion"
	"latflow/gauge"
	"latflow/internal/couplings"
	"latflow/lattice"
)

// Theory names.
const (
	U1   = "u1"
	Phi4 = "phi4"
	// Schwinger is U(1) gauge theory with two degenerate flavours of Wilson
	// fermions (package fermion): the links of U1, couplings beta and kappa.
	Schwinger = "schwinger"
)

// Coupling names.
const (
	Beta   = "beta"
	M2     = "m2"
	Lambda = "lambda"
	Kappa  = "kappa"
)

// Bounds of a target. MaxL keeps V = L*L and the 2V link angles of a
// configuration far from integer overflow and a configuration below 512 MiB;
// MaxBeta is where exp(beta cos P) still has room in float64 arithmetic
// (the exact results and the samplers work with beta*(cos P - 1)).
const (
	MinL    = 4
	MaxL    = 1 << 12
	MaxBeta = 1e6
	// MaxCoupling bounds |m2|, |kappa| and lambda: beyond it phi^4 actions
	// are dominated by rounding.
	MaxCoupling = 1e6
	// MaxSchwingerKappa bounds the hopping parameter of the Schwinger model:
	// kappa = 1/2 is the bare mass m = 1/(2 kappa) - 2 = -1, far beyond the
	// critical kappa (0.25 on the free field, about 0.26 to 0.28 at the
	// couplings of interest), where the Wilson operator has no continuum
	// meaning.
	MaxSchwingerKappa = 0.5
)

// Target is the ensemble a run samples. Build it with NewU1, NewPhi4Standard
// or NewPhi4Hopping, or decode it and call Validate.
type Target struct {
	Theory          string             `json:"theory"`
	L               int                `json:"L"`
	Couplings       map[string]float64 `json:"couplings"`
	Parametrization string             `json:"parametrization,omitempty"`
}

// NewU1 returns the U(1) target at coupling beta on an L x L lattice.
func NewU1(L int, beta float64) Target {
	return Target{Theory: U1, L: L, Couplings: map[string]float64{Beta: beta}}
}

// NewPhi4Standard returns the phi^4 target in the standard parametrization.
func NewPhi4Standard(L int, m2, lambda float64) Target {
	return Target{Theory: Phi4, L: L, Couplings: map[string]float64{M2: m2, Lambda: lambda},
		Parametrization: lattice.Standard.String()}
}

// NewPhi4Hopping returns the phi^4 target in the hopping parametrization.
func NewPhi4Hopping(L int, kappa, lambda float64) Target {
	return Target{Theory: Phi4, L: L, Couplings: map[string]float64{Kappa: kappa, Lambda: lambda},
		Parametrization: lattice.Hopping.String()}
}

// NewSchwinger returns the Schwinger-model target (two flavours of Wilson
// fermions) at gauge coupling beta and hopping parameter kappa on an L x L
// lattice.
func NewSchwinger(L int, beta, kappa float64) Target {
	return Target{Theory: Schwinger, L: L, Couplings: map[string]float64{Beta: beta, Kappa: kappa}}
}

// Theories lists the theory names.
var Theories = []string{U1, Phi4, Schwinger}

// CheckTheory returns an error unless theory is U1, Phi4 or Schwinger.
func CheckTheory(theory string) error {
	if !slices.Contains(Theories, theory) {
		return fmt.Errorf("ensemble: theory %q, want %q, %q or %q", theory, U1, Phi4, Schwinger)
	}
	return nil
}

// Gauge reports whether configurations of t are link angles (U1 and
// Schwinger).
func (t Target) Gauge() bool { return t.Theory == U1 || t.Theory == Schwinger }

// Validate returns an error naming the first field of t that is out of
// range: an unknown theory, L outside [MinL, MaxL], a coupling that is
// missing, of the other theory or parametrization, not finite or out of
// range, or free phi^4 couplings (lambda = 0) whose action is unbounded
// below (ErrUnboundedAction).
func (t Target) Validate() error {
	if err := CheckTheory(t.Theory); err != nil {
		return err
	}
	if t.L < MinL || t.L > MaxL {
		return fmt.Errorf("ensemble: L=%d, want %d <= L <= %d", t.L, MinL, MaxL)
	}
	var want []string
	switch {
	case t.Gauge():
		if t.Parametrization != "" {
			return fmt.Errorf("ensemble: parametrization %q for theory %q, want none", t.Parametrization, t.Theory)
		}
		want = []string{Beta}
		if t.Theory == Schwinger {
			if t.L%2 != 0 {
				return fmt.Errorf("ensemble: L=%d for theory %q, want L even (the even-odd preconditioning needs a bipartite lattice)", t.L, Schwinger)
			}
			want = []string{Beta, Kappa}
		}
	case t.Parametrization == lattice.Standard.String():
		want = []string{M2, Lambda}
	case t.Parametrization == lattice.Hopping.String():
		want = []string{Kappa, Lambda}
	default:
		return fmt.Errorf("ensemble: parametrization %q for theory %q, want %q or %q",
			t.Parametrization, Phi4, lattice.Standard, lattice.Hopping)
	}
	if len(t.Couplings) != len(want) {
		return fmt.Errorf("ensemble: couplings %v, want exactly %v", sortedNames(t.Couplings), want)
	}
	for _, name := range want {
		v, ok := t.Couplings[name]
		if !ok {
			return fmt.Errorf("ensemble: couplings %v, want exactly %v", sortedNames(t.Couplings), want)
		}
		if err := checkCoupling(name, v); err != nil {
			return err
		}
	}
	if t.Theory == Schwinger {
		if k := t.Couplings[Kappa]; !(k > 0 && k <= MaxSchwingerKappa) {
			return fmt.Errorf("ensemble: kappa=%g for theory %q, want 0 < kappa <= %g", k, Schwinger, MaxSchwingerKappa)
		}
	}
	if t.Theory == Phi4 && t.Couplings[Lambda] == 0 {
		return t.checkFree()
	}
	return nil
}

// ErrUnboundedAction is wrapped by the error of Validate for a free phi^4
// target (lambda = 0) whose action is not bounded below by a positive
// quadratic form, so that exp(-S) cannot be normalized.
var ErrUnboundedAction = errors.New("the action is unbounded below")

// checkFree checks a phi^4 target at lambda = 0. Its action is the
// quadratic form S = sum_x [ -2 J sum_mu phi phi' + A phi^2 ] with (J, A) =
// (1, 4 + m2) or (kappa, 1), whose eigenvalues A - 2 J sum_mu cos k_mu are
// smallest at k = 0 (J >= 0): A - 4J = m2, or 1 - 4 kappa, must be
// positive. Below zero the action is unbounded below along the constant
// field; at zero it is flat there. Either way there is no ensemble.
func (t Target) checkFree() error {
	if t.Parametrization == lattice.Hopping.String() {
		if k := t.Couplings[Kappa]; !(1-4*k > 0) {
			return fmt.Errorf("ensemble: lambda=0 with kappa=%g: %w (or flat) along the constant field; a free field needs kappa < 0.25", k, ErrUnboundedAction)
		}
		return nil
	}
	if m2 := t.Couplings[M2]; !(m2 > 0) {
		return fmt.Errorf("ensemble: lambda=0 with m2=%g: %w (or flat) along the constant field; a free field needs m2 > 0", m2, ErrUnboundedAction)
	}
	return nil
}

// checkCoupling returns an error if v is not an allowed value of the
// coupling name.
func checkCoupling(name string, v float64) error {
	switch name {
	case Beta:
		if !(v > 0 && v <= MaxBeta) {
			return fmt.Errorf("ensemble: beta=%g, want 0 < beta <= %g", v, MaxBeta)
		}
	case Lambda:
		if !(v >= 0 && v <= MaxCoupling) {
			return fmt.Errorf("ensemble: lambda=%g, want 0 <= lambda <= %g", v, MaxCoupling)
		}
	case Kappa:
		if !(v >= 0 && v <= MaxCoupling) {
			return fmt.Errorf("ensemble: kappa=%g, want 0 <= kappa <= %g", v, MaxCoupling)
		}
	case M2:
		if !(math.Abs(v) <= MaxCoupling) {
			return fmt.Errorf("ensemble: m2=%g, want a finite m2 with |m2| <= %g", v, MaxCoupling)
		}
	}
	return nil
}

func sortedNames(c map[string]float64) []string {
	return slices.Sorted(maps.Keys(c))
}

// V returns the number of sites L*L.
func (t Target) V() int { return t.L * t.L }

// Size returns the number of real numbers of a configuration: 2V link
// angles for U(1) and the Schwinger model, V field values for phi^4.
func (t Target) Size() int {
	if t.Gauge() {
		return 2 * t.V()
	}
	return t.V()
}

// ConfigName is the name of a configuration in datasets: "links" or "phi".
func (t Target) ConfigName() string {
	if t.Gauge() {
		return "links"
	}
	return "phi"
}

// Clone returns a copy of t that shares no map with it.
func (t Target) Clone() Target {
	t.Couplings = maps.Clone(t.Couplings)
	return t
}

// WithL returns t on an L x L lattice.
func (t Target) WithL(L int) Target {
	t = t.Clone()
	t.L = L
	return t
}

// String describes t in one line, e.g. "U(1) gauge theory, Wilson action,
// L=16, beta=3".
func (t Target) String() string {
	c := t.Couplings
	switch {
	case t.Theory == U1:
		return fmt.Sprintf("U(1) gauge theory, Wilson action, L=%d, beta=%g", t.L, c[Beta])
	case t.Theory == Schwinger:
		return fmt.Sprintf("Schwinger model (two flavours of Wilson fermions), L=%d, beta=%g, kappa=%g", t.L, c[Beta], c[Kappa])
	case t.Parametrization == lattice.Hopping.String():
		return fmt.Sprintf("phi^4 theory (hopping parametrization), L=%d, kappa=%g, lambda=%g", t.L, c[Kappa], c[Lambda])
	default:
		return fmt.Sprintf("phi^4 theory (standard parametrization), L=%d, m2=%g, lambda=%g", t.L, c[M2], c[Lambda])
	}
}

// Diff compares t with o and returns the name of the first field that
// differs (theory, L, parametrization or a coupling name) with the two
// values as text, or name == "" if they are the same target.
func (t Target) Diff(o Target) (name, a, b string) {
	switch {
	case t.Theory != o.Theory:
		return "theory", t.Theory, o.Theory
	case t.L != o.L:
		return "L", strconv.Itoa(t.L), strconv.Itoa(o.L)
	case t.Parametrization != o.Parametrization:
		return "parametrization", t.Parametrization, o.Parametrization
	}
	if d := couplings.FirstDiff(t.Couplings, o.Couplings); d.Differ {
		val := func(v float64, ok bool) string {
			if !ok {
				return "none"
			}
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
		return d.Name, val(d.A, d.InA), val(d.B, d.InB)
	}
	return "", "", ""
}

// Equal reports whether t and o are the same target.
func (t Target) Equal(o Target) bool {
	name, _, _ := t.Diff(o)
	return name == ""
}

// Geometry returns the lattice geometry of t.
func (t Target) Geometry() *lattice.Geometry { return lattice.NewGeometry(t.L) }

// Action returns the action of t on the geometry g (of extent t.L):
// gauge.WilsonAction for U(1), lattice.Phi4Action for phi^4, and for the
// Schwinger model the exact effective action S_g - log det(D^dagger D)
// (fermion.ExactAction with the default dense method), which needs
// L <= fermion.MaxDenseL: Action panics beyond. t must be valid.
func (t Target) Action(g *lattice.Geometry) lattice.Action {
	if g.L != t.L {
		panic(fmt.Sprintf("ensemble: Action: geometry L=%d, target L=%d", g.L, t.L))
	}
	c := t.Couplings
	switch {
	case t.Theory == U1:
		return gauge.WilsonAction{Geom: g, Beta: c[Beta]}
	case t.Theory == Schwinger:
		a, err := fermion.NewExactAction(g, c[Beta], c[Kappa], fermion.DefaultMethod(g.L))
		if err != nil {
			panic(fmt.Sprintf("ensemble: Action of %s: %v", t, err))
		}
		return a
	case t.Parametrization == lattice.Hopping.String():
		return lattice.NewPhi4Hopping(g, c[Kappa], c[Lambda])
	default:
		return lattice.NewPhi4Standard(g, c[M2], c[Lambda])
	}
}

// StartTo writes a random (hot) starting configuration of t into x: uniform
// link angles for U(1), N(0, 1) field values for phi^4, drawn in index
// order from rng.
func (t Target) StartTo(x []float64, rng *rand.Rand) {
	if len(x) != t.Size() {
		panic(fmt.Sprintf("ensemble: StartTo: len(x)=%d, want %d", len(x), t.Size()))
	}
	if t.Gauge() {
		gauge.RandomLinksTo(x, rng)
		return
	}
	for i := range x {
		x[i] = rng.NormFloat64()
	}
}
