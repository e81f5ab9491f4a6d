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
