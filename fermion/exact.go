package fermion

import (
	"fmt"
	"math"
	"sync"

	"latflow/gauge"
	"latflow/lattice"
)

// ExactAction is the effective gauge action of the Schwinger model with the
// fermions integrated out exactly,
//
//	S(theta) = S_g(theta) - log det(D^dagger D),
//
// so exp(-S) is the two-flavour weight exp(-S_g) det(D)^2. Its force is
// dS_g/dtheta - Determinant.GradTo. It implements lattice.Action and
// lattice.Wrapper, for HMC with the exact determinant (a check of
// pseudofermion HMC), as the target of independence Metropolis (whose
// workers call Action concurrently) and of a flow. On a singular D, Action
// returns +Inf and ForceTo writes NaN.
//
// ExactAction is safe for concurrent use: each call takes a Determinant
// from a free list, made on first need, so that k concurrent callers hold
// k Determinants and, once made, nothing is allocated.
type ExactAction struct {
	Gauge  gauge.WilsonAction
	Kappa  float64
	Method Method

	mu   sync.Mutex
	free []*exactWork
}

// exactWork is the workspace of one call: a Determinant and its gradient.
type exactWork struct {
	det  *Determinant
	grad []float64
}

// NewExactAction returns the action at gauge coupling beta and hopping
// parameter kappa on g, with determinants by method. It returns the error
// of NewDeterminant.
func NewExactAction(g *lattice.Geometry, beta, kappa float64, method Method) (*ExactAction, error) {
	a := &ExactAction{Gauge: gauge.WilsonAction{Geom: g, Beta: beta}, Kappa: kappa, Method: method}
	w, err := a.newWork()
	if err != nil {
		return nil, err
	}
	a.free = append(a.free, w)
	return a, nil
}

func (a *ExactAction) newWork() (*exactWork, error) {
	d, err := NewDeterminant(a.Gauge.Geom, a.Kappa, a.Method)
	if err != nil {
		return nil, err
	}
	return &exactWork{det: d, grad: make([]float64, 2*a.Gauge.Geom.V)}, nil
}

// get takes a workspace from the free list, or makes one.
func (a *ExactAction) get() *exactWork {
	a.mu.Lock()
	if n := len(a.free); n > 0 {
		w := a.free[n-1]
		a.free = a.free[:n-1]
		a.mu.Unlock()
		return w
	}
	a.mu.Unlock()
	w, err := a.newWork()
	if err != nil {
		// The parameters were checked by NewExactAction.
		panic(fmt.Sprintf("fermion: ExactAction: %v", err))
	}
	return w
}

func (a *ExactAction) put(w *exactWork) {
	a.mu.Lock()
	a.free = append(a.free, w)
	a.mu.Unlock()
}

// Action returns S_g - log det(D^dagger D).
func (a *ExactAction) Action(links []float64) float64 {
	sg := a.Gauge.Action(links)
	w := a.get()
	defer a.put(w)
	if err := w.det.Factorize(links); err != nil {
		return math.Inf(1)
	}
	return sg - w.det.LogDetDD()
}

// ForceTo writes dS/dtheta into dst (length 2V, not sharing memory with
// links).
func (a *ExactAction) ForceTo(dst, links []float64) {
	a.Gauge.ForceTo(dst, links)
	w := a.get()
	defer a.put(w)
	if err := w.det.Factorize(links); err != nil {
		for i := range dst {
			dst[i] = math.NaN()
		}
		return
	}
	w.det.GradTo(w.grad)
	for i, v := range w.grad {
		dst[i] -= v
	}
}

// Wrap brings the link angles into [0, 2pi) (lattice.Wrapper).
func (a *ExactAction) Wrap(links []float64) { gauge.WrapLinks(links) }

var (
	_ lattice.Action  = (*ExactAction)(nil)
	_ lattice.Wrapper = (*ExactAction)(nil)
)
