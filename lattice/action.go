package lattice

// Action is a lattice action S(x) with its force dS/dx: the target density
// of a Monte Carlo chain or of a flow is proportional to exp(-S).
type Action interface {
	// Action returns S(x).
	Action(x []float64) float64
	// ForceTo writes dS/dx into dst, which has the length of x.
	ForceTo(dst, x []float64)
}

// Wrapper is implemented by actions on compact fields (U(1) angles); a
// sampler calls Wrap on every accepted configuration to bring it back into
// the canonical range. Wrap must not change the action.
type Wrapper interface {
	Wrap(x []float64)
}

var _ Action = Phi4Action{}
