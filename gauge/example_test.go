package gauge_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"latflow/gauge"
	"latflow/lattice"
)

// The Wilson action and its force on a hot start, and the invariance of
// the action and charge under a random gauge transformation.
func ExampleWilsonAction() {
	g := lattice.NewGeometry(8)
	a := gauge.WilsonAction{Geom: g, Beta: 2}
	rng := rand.New(rand.NewPCG(1, 2))

	links := make([]float64, 2*g.V)
	fmt.Printf("cold: S = %.1f\n", a.Action(links))

	gauge.RandomLinksTo(links, rng)
	force := make([]float64, len(links))
	a.ForceTo(force, links) // dS/dtheta, for HMC

	alpha := make([]float64, g.V)
	gauge.RandomLinksTo(alpha, rng)
	moved := make([]float64, len(links))
	gauge.GaugeTransformTo(moved, g, links, alpha)
	fmt.Printf("S = %.4f before and %.4f after\n", a.Action(links), a.Action(moved))
	fmt.Printf("Q = %.0f before and %.0f after\n", gauge.TopologicalCharge(g, links), gauge.TopologicalCharge(g, moved))
	// Output:
	// cold: S = -128.0
	// S = 0.5799 before and 0.5799 after
	// Q = -1 before and -1 after
}

// The uniform-field configuration of charge 2 on a 16 x 16 lattice.
func ExampleInstantonTo() {
	g := lattice.NewGeometry(16)
	links := make([]float64, 2*g.V)
	gauge.InstantonTo(links, g, 2)
	fmt.Printf("Q = %.6f, <cos P> = %.6f\n", gauge.TopologicalCharge(g, links), gauge.MeanCosPlaquette(g, links))
	// Output:
	// Q = 2.000000, <cos P> = 0.998795
}

// Exact results at the benchmark point of Kanwar et al., L = 16, beta = 3.
func ExampleExactTorus() {
	e, err := gauge.ExactTorus(3, 16)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("<cos P> = %.7f\n", e.MeanCos)
	fmt.Printf("<Q^2>   = %.6f\n", e.Q2)
	fmt.Printf("chi_t   = %.8f\n", e.ChiT)
	fmt.Printf("log Z   = %.6f\n", e.LogZ)
	fmt.Printf("<S>     = %.4f\n", e.MeanAction)
	meanCos, chiT, _ := gauge.ExactInfiniteVolume(3)
	fmt.Printf("infinite volume: <cos P> = %.7f, chi_t = %.8f\n", meanCos, chiT)
	// Output:
	// <cos P> = 0.8099853
	// <Q^2>   = 2.831565
	// chi_t   = 0.01106080
	// log Z   = 405.838751
	// <S>     = -622.0687
	// infinite volume: <cos P> = 0.8099853, chi_t = 0.01106080
}

// The independent-plaquette proposal as the proposal of an independence
// Metropolis chain for the Wilson action at L = 8, beta = 2, and the exact
// sampler at the same point.
func ExamplePlaquetteProposal() {
	const L, beta = 8, 2.0
	p, err := gauge.NewPlaquetteProposal(L, beta, gauge.ConstraintRandom)
	if err != nil {
		fmt.Println(err)
		return
	}
	g := p.Geometry()
	a := gauge.WilsonAction{Geom: g, Beta: beta}
	rng := rand.New(rand.NewPCG(1, 2))

	cur := make([]float64, 2*g.V)
	next := make([]float64, 2*g.V)
	logQ := p.SampleTo(cur, rng)
	fmt.Printf("log q = %.6f from SampleTo, %.6f from LogDensity\n", logQ, p.LogDensity(cur))

	// Independence Metropolis: accept with min(1, w'/w), w = exp(-S)/q.
	logW := -a.Action(cur) - logQ
	const steps = 4000
	accepted, sumCos := 0, 0.0
	for range steps {
		lw := -p.SampleTo(next, rng) - a.Action(next)
		if lw >= logW || rng.Float64() < math.Exp(lw-logW) {
			cur, next, logW = next, cur, lw
			accepted++
		}
		sumCos += gauge.MeanCosPlaquette(g, cur)
	}
	fmt.Printf("IMH: acceptance %.2f, <cos P> = %.2f\n", float64(accepted)/steps, sumCos/steps)

	// The exact sampler draws independent configurations of exp(-S).
	s, err := gauge.NewExactSampler(L, beta)
	if err != nil {
		fmt.Println(err)
		return
	}
	tries := 0
	sumCos = 0
	for range steps {
		tries += s.SampleTo(cur, rng)
		sumCos += gauge.MeanCosPlaquette(g, cur)
	}
	e, _ := gauge.ExactTorus(beta, L)
	fmt.Printf("exact sampler: acceptance %.2f, <cos P> = %.2f (exact %.4f)\n", float64(steps)/float64(tries), sumCos/steps, e.MeanCos)
	// Output:
	// log q = -204.401632 from SampleTo, -204.401632 from LogDensity
	// IMH: acceptance 0.84, <cos P> = 0.70
	// exact sampler: acceptance 0.31, <cos P> = 0.70 (exact 0.6978)
}
