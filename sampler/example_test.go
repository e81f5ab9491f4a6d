package sampler_test

import (
	"fmt"
	"math/rand/v2"

	"latflow/lattice"
	"latflow/sampler"
)

// HMC for the free phi^4 field, compared with the exact <phi^2>.
func ExampleChain() {
	g := lattice.NewGeometry(4)
	act := lattice.NewPhi4Standard(g, 1, 0)
	h := sampler.HMC{Tau: 0.6, Steps: 6}
	if err := h.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	c := sampler.NewChain(h, act, make([]float64, g.V), rand.New(rand.NewPCG(1, 2)))
	const n = 5000
	var sum float64
	for i := 0; i < n; i++ {
		c.Step()
		for _, v := range c.X {
			sum += v * v
		}
	}
	exact, err := lattice.ExactFreeField(act)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%v, HMC tau=%g steps=%d\n", act, h.Tau, h.Steps)
	fmt.Printf("acceptance %.2f\n", c.Acceptance())
	fmt.Printf("<phi^2> = %.2f (exact %.2f)\n", sum/float64(n*g.V), exact.Phi2)
	fmt.Println(sampler.HMC{Tau: 1}.Validate())
	// Output:
	// phi4 standard m2=1 lambda=0, HMC tau=0.6 steps=6
	// acceptance 0.96
	// <phi^2> = 0.13 (exact 0.13)
	// sampler: HMC leapfrog steps Steps=0, want Steps >= 1
}
