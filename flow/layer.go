package flow

import "latflow/nn"

// Layer is one bijection of a flow acting on a single sample of Size()
// real numbers. A Layer is read-only during Forward, Inverse and Backward,
// so goroutines may share it; per-sample state lives in a Tape made by
// NewTape, one per goroutine.
type Layer[T nn.Float] interface {
	// Size is the number of real numbers in one sample.
	Size() int
	// Params is the layer's flat parameter slice (a view; may be empty).
	Params() []T
	// NewTape returns the per-sample workspace and activation store of
	// this layer.
	NewTape() Tape
	// Forward maps x to y and returns log|det dy/dx|. If s is not nil it
	// holds d log q/dx on entry and d log q/dy on return (the fast-path
	// step). The tape records what Backward needs. x and y must not
	// overlap.
	Forward(tape Tape, y, x, s []T) float64
	// Inverse maps y to x and returns log|det dy/dx| at x (the forward
	// log-determinant). It returns an error, not a wrong number, if an
	// implicit inverse fails to converge.
	Inverse(tape Tape, x, y []T) (float64, error)
	// Backward takes gy = dL/dy and gld = dL/d(log|det dy/dx|) for the
	// sample recorded by the last Forward on tape, writes gx = dL/dx
	// (unless gx is nil) and adds dL/dtheta to grad (unless grad is nil;
	// len(grad) == len(Params())).
	Backward(tape Tape, gx, gy []T, gld float64, grad []T)
}

// Tape is a layer's per-sample workspace; each Layer type defines its own
// and accepts only the tapes it made.
type Tape interface{}

// InverseLayer is the inverse direction of a Layer, for the forward-KL
// estimators (maximum likelihood and the forward path gradients of
// physics.md section 4), which run the flow from data x back to the base.
// Every Layer of latflow implements it.
type InverseLayer[T nn.Float] interface {
	Layer[T]
	// InverseForward maps y to x like Inverse and returns log|det dy/dx|
	// at x, recording on tape what InverseBackward needs. If s is not nil
	// it holds d log p/dy on entry and d log p'/dx on return, where
	// p'(x) = p(y(x)) |det dy/dx| is the density pulled back through the
	// layer: s_x = J^T s_y + d/dx log|det J| (the pullback recursion of
	// Proposition 4.1), from quantities the inverse pass already has and
	// with at most one VJP through the conditioner.
	InverseForward(tape Tape, x, y, s []T) (float64, error)
	// InverseBackward takes gx = dL/dx and gld = dL/d(log|det dy/dx|) for
	// the sample recorded by the last InverseForward on tape, writes
	// gy = dL/dy (unless gy is nil) and adds dL/dtheta to grad (unless grad
	// is nil), differentiating through the inverse map x(y; theta). For
	// implicitly inverted layers the derivatives come from the implicit
	// function theorem at the root; no gradient flows through the root
	// finder's iterations.
	InverseBackward(tape Tape, gy, gx []T, gld float64, grad []T)
}
