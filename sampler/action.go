package sampler

// Action is a lattice action S(x) with its force dS/dx.
type Action interface {
	// Action returns S(x).
	Action(x []float64) float64
	// ForceTo writes dS/dx into dst, which has the length of x.
	ForceTo(dst, x []float64)
}

// Wrapper is implemented by actions on compact fields (U(1) angles); the
// sampler calls Wrap on every accepted configuration to bring it back into
// the canonical range. Wrap must not change the action.
type Wrapper interface {
	Wrap(x []float64)
}
