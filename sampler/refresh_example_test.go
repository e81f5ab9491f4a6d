package sampler_test

import (
	"fmt"
	"math/rand/v2"

	"latflow/fermion"
	"latflow/gauge"
	"latflow/lattice"
	"latflow/sampler"
)

// Pseudofermion HMC for the Schwinger model (two flavours of Wilson
// fermions) on a small lattice, measuring the plaquette and the condensate
// with the dense determinant.
func ExampleRefreshHMCUpdate() {
	g := lattice.NewGeometry(4)
	const beta, kappa = 2, 0.2
	act := fermion.NewPseudofermionAction(g, beta, kappa, 1e-10, 1000)
	u, err := sampler.NewRefreshHMCUpdate(sampler.HMC{Tau: 1, Steps: 8}, act, 2*g.V, rand.NewPCG(1, 2),
		sampler.HMCOptions{Jitter: sampler.DefaultJitter})
	if err != nil {
		panic(err)
	}
	det, err := fermion.NewDeterminant(g, kappa, fermion.DefaultMethod(g.L))
	if err != nil {
		panic(err)
	}
	x := make([]float64, 2*g.V)
	var acc int
	var cosP, cond float64
	const n = 200
	for range n {
		s, err := u.Step(x)
		if err != nil {
			panic(err)
		}
		if s.Accepted {
			acc++
		}
		if err := det.Factorize(x); err != nil {
			panic(err)
		}
		cosP += gauge.MeanCosPlaquette(g, x) / n
		cond += det.Condensate() / n
	}
	solves, iters := act.CGCounts()
	fmt.Printf("acceptance %.1f, <cos P> %.1f, condensate %.1f, CG iterations per solve < 100: %v\n",
		float64(acc)/n, cosP, cond, iters < 100*solves)
	// Output:
	// acceptance 0.9, <cos P> 0.7, condensate -1.9, CG iterations per solve < 100: true
}
