package gauge

import (
	"math"
	"math/rand/v2"

	"latflow/lattice"
)

// ExactSampler draws independent configurations exactly from the Wilson
// density p(theta) proportional to exp(beta sum_n cos P(n)) on the periodic
// L x L torus (flat measure on [0, 2pi)^(2V)).
//
// It draws the plaquettes P(n), n < V-1, from their von Mises marginal,
// sets P(V-1) = -sum of the others by the constraint, and accepts with
// probability exp(beta (cos P(V-1) - 1)), otherwise it draws all V-1 again.
// An accepted set of plaquettes has density proportional to
// exp(beta sum_n cos P(n)) on the torus of the V-1 free plaquettes, which
// is the Wilson density there; the Polyakov loops and the gauge, on which
// the action does not depend, are then drawn uniformly and the links built
// as in PlaquetteProposal.SampleTo. On large lattices P(V-1) is close to
// uniform and the acceptance tends to exp(-beta) I0(beta): 0.31 at beta = 2,
// 0.24 at beta = 3, 0.17 at beta = 6.
//
// An ExactSampler is immutable and safe for concurrent use (each goroutine
// with its own *rand.Rand); it does not allocate.
type ExactSampler struct {
	geom *lattice.Geometry
	beta float64
	vm   vonMises
}

// NewExactSampler returns the exact sampler of the Wilson action at
// coupling beta on the L x L torus. It returns an error unless
// 2 <= L <= 46340 and beta is finite and > 0.
func NewExactSampler(L int, beta float64) (*ExactSampler, error) {
	g, err := plaquetteGeometry("exact sampler", L, beta)
	if err != nil {
		return nil, err
	}
	return &ExactSampler{geom: g, beta: beta, vm: newVonMises(beta)}, nil
}

// Geometry returns the lattice of the sampler.
func (s *ExactSampler) Geometry() *lattice.Geometry { return s.geom }

// Beta returns the coupling.
func (s *ExactSampler) Beta() float64 { return s.beta }

// SampleTo draws a configuration into dst (length 2V), wrapped into
// [0, 2pi), and returns the number of tries it took (>= 1).
//
// The draws from rng, in order (same seed, same samples bit for bit): for
// each try, the plaquettes P(n), n = 0 .. V-2, each a von Mises draw (two
// rng.Float64 per try of its own, see VonMises), then one rng.Float64 u,
// the try being accepted if u < exp(beta (cos P(V-1) - 1)); after the
// accepted try, the Polyakov loops and tree links exactly as in steps 3 and
// 4 of PlaquetteProposal.SampleTo.
func (s *ExactSampler) SampleTo(dst []float64, rng *rand.Rand) (tries int) {
	g := s.geom
	checkLinks("ExactSampler.SampleTo", g, dst)
	if rng == nil {
		panic("gauge: ExactSampler.SampleTo: nil *rand.Rand")
	}
	V := g.V
	plaq := dst[:V]
	for {
		tries++
		sum := 0.0
		for n := range V - 1 {
			x, _, _ := s.vm.draw(rng)
			plaq[n] = x
			sum += x
		}
		last := wrapPi(-sum)
		plaq[V-1] = last
		// cos P - 1 = -2 sin^2(P/2), accurate where the weight is large.
		h := math.Sin(last / 2)
		if rng.Float64() < math.Exp(-2*s.beta*h*h) {
			break
		}
	}
	randomTreeTo(dst, g.L, rng)
	return tries
}
