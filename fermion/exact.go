package fermion

import (
	"math"

	"latflow/gauge"
	"latflow/lattice"
)

// ExactAction is the effective gauge action of the Schwinger model with the
// fermions integrated out exactly,
//
//	S(theta) = S_g(theta) - log det(D^dagger D),
//
// so exp(-S) is the two-flavour weight exp(-S_g) det(D)^2. Its force is
// dS_g/dtheta - Det.GradTo. It implements lattice.Action and
// lattice.Wrapper, for HMC with the exact determinant (a check of
// pseudofermion HMC) and as the target of a flow; on a singular D, Action
// returns +Inf and ForceTo writes NaN. Not safe for concurrent use.
type ExactAction struct {
	Gauge gauge.WilsonAction
	Det   *Determinant

	grad []float64
}

// NewExactAction returns the action at beta on the geometry and kappa of
// det.
func NewExactAction(beta float64, det *Determinant) *ExactAction {
	g := det.Operator().Geom
	return &ExactAction{Gauge: gauge.WilsonAction{Geom: g, Beta: beta}, Det: det, grad: make([]float64, 2*g.V)}
}

// Action returns S_g - log det(D^dagger D).
func (a *ExactAction) Action(links []float64) float64 {
	sg := a.Gauge.Action(links)
	if err := a.Det.Factorize(links); err != nil {
		return math.Inf(1)
	}
	return sg - a.Det.LogDetDD()
}

// ForceTo writes dS/dtheta into dst (length 2V, not sharing memory with
// links).
func (a *ExactAction) ForceTo(dst, links []float64) {
	a.Gauge.ForceTo(dst, links)
	if err := a.Det.Factorize(links); err != nil {
		for i := range dst {
			dst[i] = math.NaN()
		}
		return
	}
	a.Det.GradTo(a.grad)
	for i, v := range a.grad {
		dst[i] -= v
	}
}

// Wrap brings the link angles into [0, 2pi) (lattice.Wrapper).
func (a *ExactAction) Wrap(links []float64) { gauge.WrapLinks(links) }

var (
	_ lattice.Action  = (*ExactAction)(nil)
	_ lattice.Wrapper = (*ExactAction)(nil)
)
