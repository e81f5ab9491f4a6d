package sampler

import (
	"errors"
	"fmt"
	"latflow/lattice"
	"math"
	"math/rand/v2"
)

// HMC holds the parameters of a hybrid Monte Carlo trajectory: its length
// Tau in molecular-dynamics time and the number of leapfrog Steps, so the
// step size is eps = Tau / Steps. The Hamiltonian is
// H = S(x) + (1/2) sum_i p_i^2.
type HMC struct {
	Tau   float64
	Steps int
}

// Validate returns an error unless Tau > 0 (and finite) and Steps >= 1.
func (h HMC) Validate() error {
	var errs []error
	if !(h.Tau > 0) || math.IsInf(h.Tau, 1) {
		errs = append(errs, fmt.Errorf("sampler: HMC trajectory length Tau=%g, want a finite Tau > 0", h.Tau))
	}
	if h.Steps < 1 {
		errs = append(errs, fmt.Errorf("sampler: HMC leapfrog steps Steps=%d, want Steps >= 1", h.Steps))
	}
	return errors.Join(errs...)
}

// Eps returns the leapfrog step size Tau / Steps.
func (h HMC) Eps() float64 { return h.Tau / float64(h.Steps) }

// Leapfrog integrates Hamilton's equations dx/dt = p, dp/dt = -dS/dx over
// the time Tau in Steps leapfrog steps, updating x and p in place:
//
//	p -= eps/2 F(x); repeat Steps times { x += eps p; p -= eps F(x) },
//
// where the last momentum update is a half step eps/2. force is workspace of
// the length of x. Leapfrog makes Steps+1 force evaluations and does not
// allocate. It panics if h is invalid or the lengths differ.
func (h HMC) Leapfrog(act lattice.Action, x, p, force []float64) {
	if err := h.Validate(); err != nil {
		panic(err.Error())
	}
	if len(p) != len(x) || len(force) != len(x) {
		panic(fmt.Sprintf("sampler: Leapfrog: lengths x=%d p=%d force=%d, want equal", len(x), len(p), len(force)))
	}
	eps := h.Eps()
	act.ForceTo(force, x)
	axpy(p, -eps/2, force)
	for step := 1; step <= h.Steps; step++ {
		axpy(x, eps, p)
		act.ForceTo(force, x)
		if step < h.Steps {
			axpy(p, -eps, force)
		} else {
			axpy(p, -eps/2, force)
		}
	}
}

// axpy sets y += a*x; the lengths are checked by the caller.
func axpy(y []float64, a float64, x []float64) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

// kinetic returns (1/2) sum_i p_i^2.
func kinetic(p []float64) float64 {
	var k float64
	for _, v := range p {
		k += v * v
	}
	return k / 2
}

// Chain is a hybrid Monte Carlo Markov chain for the density proportional to
// exp(-S(x)). X is the current configuration; it may be read or replaced
// (in place, keeping its length) between calls to Step. A Chain is not safe
// for concurrent use.
type Chain struct {
	HMC HMC
	Act lattice.Action
	X   []float64
	Rng *rand.Rand

	// Workspace: the proposal, its momenta and the force.
	xNew, p, force []float64

	accepted, trajectories int
	// lastAction is S(X) after the last Step.
	lastAction float64
}

// NewChain returns a chain that starts at a copy of x0. It panics if h is
// invalid, act or rng is nil, or x0 is empty.
func NewChain(h HMC, act lattice.Action, x0 []float64, rng *rand.Rand) *Chain {
	if err := h.Validate(); err != nil {
		panic(err.Error())
	}
	if act == nil || rng == nil {
		panic("sampler: NewChain: nil action or random source")
	}
	if len(x0) == 0 {
		panic("sampler: NewChain: empty start configuration")
	}
	n := len(x0)
	return &Chain{
		HMC:   h,
		Act:   act,
		X:     append([]float64(nil), x0...),
		Rng:   rng,
		xNew:  make([]float64, n),
		p:     make([]float64, n),
		force: make([]float64, n),
	}
}

// Step runs one trajectory: it draws Gaussian momenta, integrates with
// Leapfrog from X and accepts the end point with probability
// min(1, exp(-dH)), dH = H(end) - H(start). On acceptance X becomes the end
// point, and if Act implements Wrapper it is wrapped. A NaN dH is rejected.
// Step draws len(X) normal numbers and then one uniform number, and does not
// allocate.
func (c *Chain) Step() (accepted bool, dH float64) {
	n := len(c.X)
	if len(c.xNew) != n {
		panic(fmt.Sprintf("sampler: Step: configuration length %d, want %d", n, len(c.xNew)))
	}
	for i := range c.p {
		c.p[i] = c.Rng.NormFloat64()
	}
	s0 := c.Act.Action(c.X)
	h0 := s0 + kinetic(c.p)
	copy(c.xNew, c.X)
	c.HMC.Leapfrog(c.Act, c.xNew, c.p, c.force)
	s1 := c.Act.Action(c.xNew)
	h1 := s1 + kinetic(c.p)
	dH = h1 - h0
	c.lastAction = s0
	u := c.Rng.Float64()
	c.trajectories++
	if dH <= 0 || u < math.Exp(-dH) {
		accepted = true
		c.accepted++
		c.lastAction = s1
		copy(c.X, c.xNew)
		if w, ok := c.Act.(lattice.Wrapper); ok {
			w.Wrap(c.X)
		}
	}
	return accepted, dH
}

// Acceptance returns the fraction of accepted trajectories so far, or 0
// before the first trajectory.
func (c *Chain) Acceptance() float64 {
	if c.trajectories == 0 {
		return 0
	}
	return float64(c.accepted) / float64(c.trajectories)
}

// Trajectories returns the number of trajectories run so far.
func (c *Chain) Trajectories() int { return c.trajectories }
