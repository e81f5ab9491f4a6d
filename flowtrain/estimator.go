package flowtrain

import (
	"fmt"
	"math/rand/v2"

	"latflow/flow"
	"latflow/lattice"
	"latflow/nn"
	"latflow/observables"
)

// Objective is the divergence a flow is trained to minimise.
type Objective int

const (
	// Reverse is KL(q | p) on samples from the flow:
	// loss = mean(log q(x) - log p~(x)) = KL(q | p) - log Z.
	Reverse Objective = iota
	// Forward is KL(p | q) on samples from the target (e.g. HMC):
	// loss = mean(log p~(x) - log q(x)) = KL(p | q) + log Z.
	Forward
)

// GradientType is the estimator of the gradient of an Objective
// (physics.md section 4; Vaitl et al., arXiv 2403.15881).
type GradientType int

const (
	// Standard differentiates the loss through the sampling pass (reverse)
	// or maximises the likelihood of the data (forward).
	Standard GradientType = iota
	// DropInPath is the path gradient computed with a second evaluation of
	// the flow at fixed parameters.
	DropInPath
	// FastPath is the path gradient with the score carried along the
	// sampling (reverse) or inverse (forward) pass: one pass, one backward.
	FastPath
)

var (
	objectiveNames = []string{"reverse", "forward"}
	gradientNames  = []string{"standard", "dropin-path", "fast-path"}
)

// String returns "reverse" or "forward".
func (o Objective) String() string {
	if o >= 0 && int(o) < len(objectiveNames) {
		return objectiveNames[o]
	}
	return fmt.Sprintf("Objective(%d)", int(o))
}

// String returns "standard", "dropin-path" or "fast-path".
func (g GradientType) String() string {
	if g >= 0 && int(g) < len(gradientNames) {
		return gradientNames[g]
	}
	return fmt.Sprintf("GradientType(%d)", int(g))
}

// ParseObjective returns the Objective named s ("reverse" or "forward").
func ParseObjective(s string) (Objective, error) {
	for i, name := range objectiveNames {
		if s == name {
			return Objective(i), nil
		}
	}
	return 0, fmt.Errorf("flowtrain: unknown objective %q, want one of %q", s, objectiveNames)
}

// ParseGradient returns the GradientType named s ("standard",
// "dropin-path" or "fast-path").
func ParseGradient(s string) (GradientType, error) {
	for i, name := range gradientNames {
		if s == name {
			return GradientType(i), nil
		}
	}
	return 0, fmt.Errorf("flowtrain: unknown gradient %q, want one of %q", s, gradientNames)
}

// Result is what one Estimate call measured on its batch.
type Result struct {
	// Loss is the objective's loss on the batch (the same for all gradient
	// types on the same samples): reverse mean(log q - log p~), forward
	// mean(log p~ - log q).
	Loss float64
	// LogW holds the log weights log p~(x) - log q(x) per sample; it is
	// owned by the Estimator and valid until its next call.
	LogW []float64
	// ESS is the normalized effective sample size: reverse
	// ESS_q/N = (sum w)^2 / (N sum w^2), forward (samples from p)
	// ESS_p/N = N^2 / (sum w sum 1/w), computed in log space.
	ESS float64
}

// Estimator computes the loss and a gradient estimator of an Objective
// for a flow and a target with log p~ = -S, batch by batch. It keeps the
// passes and buffers of one batch, so Estimate does not allocate (except
// what the flow's parallel loops need to start goroutines). The flow's
// parameters may change between calls (training), not its layers. An
// Estimator is not safe for concurrent use.
//
// Sign conventions (x = T(z), log q(x) = log q0(z) - sum log|det J_l|,
// dS/dx = -d log p~/dx, all gradients of the loss to be minimised):
//
//   - Reverse Standard: backpropagate gx = dS/dx / B and glogq = 1/B
//     through the sampling pass.
//   - Reverse DropInPath: g = d log q/dx + dS/dx, d log q/dx from an
//     inverse pass at fixed parameters with glogq = 1; backpropagate
//     gx = g/B (glogq = 0) through the sampling pass.
//   - Reverse FastPath: the same g with d log q/dx carried along the
//     sampling pass (flow.Flow.Forward with s).
//   - Forward Standard: inverse pass from the data, backpropagate
//     glogq = -1/B (the gradient of -mean log q).
//   - Forward DropInPath: z = T^-1(x); g = d/dz log p_theta,0(z) -
//     d log q0/dz from a forward pass from z at fixed parameters,
//     backpropagated with gx = -dS/dx (at the data, which the forward
//     pass reproduces up to rounding) and glogq = -1 (which gives
//     +d/dz sum log|det J_l| - d log q0/dz); backpropagate gz = g/B through
//     the inverse pass: KL(p | q) = KL(p_theta,0 | q0) and the score term
//     has zero mean, so this is the gradient of the forward KL.
//   - Forward FastPath: the same g with d/dz log p_theta,0 carried along
//     the inverse pass from s = -dS/dx at the data
//     (flow.Flow.InverseForward with s).
type Estimator[T nn.Float] struct {
	f       *flow.Flow[T]
	target  lattice.Action
	obj     Objective
	grad    GradientType
	batch   int
	workers int

	// p1 is the pass differentiated for the parameters (sampling pass for
	// Reverse, inverse pass for Forward); p2 the fixed-parameter pass of
	// DropInPath.
	p1, p2 *flow.Pass[T]
	// Per-sample fields (batch*Size): z base, x data, s score, g cotangent,
	// u scratch. x64 holds x in float64 (Reverse), force dS/dx.
	z, x, s, g, u []T
	x64, force    []float64
	// Per-sample scalars.
	logq, logq2, glogq, logw []float64
	gradT                    []T
}

// NewEstimator returns the Estimator of objective obj with gradient g for
// f and target, for batches of batch samples on workers goroutines
// (workers <= 0: GOMAXPROCS). It returns an error for an invalid obj, g or
// batch, and if g and obj need the flow's inverse pass (reverse
// dropin-path, every forward estimator) and a layer does not implement
// flow.InverseLayer. It panics if f or target is nil.
func NewEstimator[T nn.Float](f *flow.Flow[T], target lattice.Action, obj Objective, g GradientType, batch, workers int) (*Estimator[T], error) {
	if f == nil || target == nil {
		panic("flowtrain: NewEstimator: nil flow or target")
	}
	if obj != Reverse && obj != Forward {
		return nil, fmt.Errorf("flowtrain: NewEstimator: objective %v, want one of %q", obj, objectiveNames)
	}
	if g != Standard && g != DropInPath && g != FastPath {
		return nil, fmt.Errorf("flowtrain: NewEstimator: gradient %v, want one of %q", g, gradientNames)
	}
	if batch < 1 {
		return nil, fmt.Errorf("flowtrain: NewEstimator: batch=%d, want batch >= 1", batch)
	}
	if f.Size <= 0 {
		panic(fmt.Sprintf("flowtrain: NewEstimator: flow Size=%d, want > 0", f.Size))
	}
	if obj == Forward || g == DropInPath {
		for l, layer := range f.Layers {
			if _, ok := layer.(flow.InverseLayer[T]); !ok {
				return nil, fmt.Errorf("flowtrain: NewEstimator: %v %v needs the inverse pass, but layer %d (%T) does not implement flow.InverseLayer",
					obj, g, l, layer)
			}
		}
	}
	n := batch * f.Size
	e := &Estimator[T]{
		f: f, target: target, obj: obj, grad: g, batch: batch, workers: workers,
		p1:    f.NewPass(batch),
		z:     make([]T, n),
		x:     make([]T, n),
		g:     make([]T, n),
		force: make([]float64, n),
		logq:  make([]float64, batch),
		glogq: make([]float64, batch),
		logw:  make([]float64, batch),
		gradT: make([]T, f.NumParams()),
	}
	if obj == Reverse {
		e.x64 = make([]float64, n)
	}
	if g == FastPath || (obj == Reverse && g == DropInPath) {
		e.s = make([]T, n)
	}
	if g == DropInPath || (obj == Forward && g == FastPath) {
		e.u = make([]T, n)
	}
	if g == DropInPath {
		e.p2 = f.NewPass(batch)
		e.logq2 = make([]float64, batch)
	}
	return e, nil
}

// Objective returns the estimator's objective.
func (e *Estimator[T]) Objective() Objective { return e.obj }

// Gradient returns the estimator's gradient type.
func (e *Estimator[T]) Gradient() GradientType { return e.grad }

// Batch returns the number of samples per Estimate.
func (e *Estimator[T]) Batch() int { return e.batch }

// Estimate evaluates the loss and its gradient on one batch. Reverse draws
// Batch() samples from the flow with rng and needs data == nil; Forward
// takes data, Batch()*Size float64 numbers (samples from p, e.g. HMC
// configurations), and ignores rng. It overwrites grad (len NumParams(),
// parameters in flow.GetParams order) with the gradient of the loss to be
// minimised. It returns an error, leaving grad unchanged, if the flow's
// inverse pass fails on a sample. Misuse (wrong lengths, nil rng for
// Reverse) panics.
func (e *Estimator[T]) Estimate(rng *rand.Rand, data []float64, grad []float64) (Result, error) {
	if len(grad) != len(e.gradT) {
		panic(fmt.Sprintf("flowtrain: Estimate: len(grad)=%d, want NumParams()=%d", len(grad), len(e.gradT)))
	}
	if len(e.gradT) != e.f.NumParams() {
		panic(fmt.Sprintf("flowtrain: Estimate: flow has %d parameters, estimator was made for %d", e.f.NumParams(), len(e.gradT)))
	}
	clear(e.gradT)
	var (
		loss float64
		err  error
	)
	switch e.obj {
	case Reverse:
		if data != nil {
			panic("flowtrain: Estimate: reverse objective draws its samples from the flow, want data == nil")
		}
		if rng == nil {
			panic("flowtrain: Estimate: reverse objective needs an rng")
		}
		loss, err = e.reverse(rng)
	case Forward:
		if len(data) != len(e.x) {
			panic(fmt.Sprintf("flowtrain: Estimate: len(data)=%d, want batch*Size=%d*%d", len(data), e.batch, e.f.Size))
		}
		loss, err = e.forward(data)
	}
	if err != nil {
		return Result{}, fmt.Errorf("flowtrain: %v %v estimate: %w", e.obj, e.grad, err)
	}
	for k, v := range e.gradT {
		grad[k] = float64(v)
	}
	return Result{Loss: loss, LogW: e.logw, ESS: e.ess()}, nil
}

// evalTarget evaluates the action on the samples xs (float64, batch*Size):
// e.logw = -S - e.logq, and e.force = dS/dx if force. It returns the mean
// of log q + S, the reverse loss.
func (e *Estimator[T]) evalTarget(xs []float64, force bool) float64 {
	n := e.f.Size
	var sum float64
	for i := range e.batch {
		xi := xs[i*n : (i+1)*n]
		S := e.target.Action(xi)
		e.logw[i] = -S - e.logq[i]
		sum += e.logq[i] + S
		if force {
			e.target.ForceTo(e.force[i*n:(i+1)*n], xi)
		}
	}
	return sum / float64(e.batch)
}

// reverse is Estimate for the reverse KL.
func (e *Estimator[T]) reverse(rng *rand.Rand) (float64, error) {
	f, w := e.f, e.workers
	invB := 1 / float64(e.batch)
	f.SampleBase(rng, e.z)
	var s []T
	if e.grad == FastPath {
		s = e.s
	}
	f.Forward(e.p1, e.x, s, e.logq, e.z, w)
	for k, v := range e.x {
		e.x64[k] = float64(v)
	}
	loss := e.evalTarget(e.x64, true)
	switch e.grad {
	case Standard:
		// d/dtheta mean(log q + S) through x(theta) and log q(theta).
		for k, v := range e.force {
			e.g[k] = T(v * invB)
		}
		for i := range e.glogq {
			e.glogq[i] = invB
		}
		f.Backward(e.p1, nil, e.g, e.glogq, e.gradT, w)
		return loss, nil
	case DropInPath:
		// d log q/dx at fixed parameters from the inverse pass of x.
		if err := f.InverseForward(e.p2, nil, e.x, nil, e.logq2, w); err != nil {
			return 0, err
		}
		for i := range e.glogq {
			e.glogq[i] = 1
		}
		f.InverseBackward(e.p2, e.s, nil, e.glogq, nil, w)
	}
	// g = d log q/dx - d log p~/dx = s + dS/dx.
	for k, v := range e.force {
		e.g[k] = T((float64(e.s[k]) + v) * invB)
	}
	f.Backward(e.p1, nil, e.g, nil, e.gradT, w)
	return loss, nil
}

// forward is Estimate for the forward KL on data.
func (e *Estimator[T]) forward(data []float64) (float64, error) {
	f, w := e.f, e.workers
	invB := 1 / float64(e.batch)
	for k, v := range data {
		e.x[k] = T(v)
	}
	var s []T
	if e.grad == FastPath {
		// s = d log p~/dx = -dS/dx at the data, pulled back to the base.
		n := f.Size
		for i := range e.batch {
			e.target.ForceTo(e.force[i*n:(i+1)*n], data[i*n:(i+1)*n])
		}
		for k, v := range e.force {
			e.g[k] = T(-v)
		}
		s = e.g
	}
	if err := f.InverseForward(e.p1, e.z, e.x, s, e.logq, w); err != nil {
		return 0, err
	}
	loss := -e.evalTarget(data, e.grad == DropInPath)
	switch e.grad {
	case Standard:
		// d/dtheta of -mean log q(x) at the data.
		for i := range e.glogq {
			e.glogq[i] = -invB
		}
		f.InverseBackward(e.p1, nil, nil, e.glogq, e.gradT, w)
		return loss, nil
	case DropInPath:
		// d/dz [log p~(T(z)) + sum log|det J_l|(z) - log q0(z)] at fixed
		// parameters: sum log|det J_l| = log q0(z) - log q(T(z)), so the
		// cotangents are gx = -dS/dx and glogq = -1, and Backward's base
		// term -d log q0/dz cancels the +d log q0/dz of the log q0(z) inside.
		f.Forward(e.p2, e.u, nil, e.logq2, e.z, w)
		for k, v := range e.force {
			e.u[k] = T(-v)
		}
		for i := range e.glogq {
			e.glogq[i] = -1
		}
		f.Backward(e.p2, e.g, e.u, e.glogq, nil, w)
	case FastPath:
		// g = d/dz log p_theta,0(z) - d log q0/dz.
		f.BaseScore(e.u, e.z, w)
		for k, v := range e.u {
			e.g[k] -= v
		}
	}
	for k, v := range e.g {
		e.g[k] = v * T(invB)
	}
	f.InverseBackward(e.p1, nil, e.g, nil, e.gradT, w)
	return loss, nil
}

// ess returns the normalized effective sample size of e.logw: ESS_q/N
// for samples from the flow, ESS_p/N for samples from the target.
func (e *Estimator[T]) ess() float64 {
	if e.obj == Reverse {
		return observables.ReverseESS(e.logw)
	}
	return observables.ForwardESS(e.logw)
}
