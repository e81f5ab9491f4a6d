package fermion_test

import (
	"fmt"
	"math/rand/v2"

	"latflow/fermion"
	"latflow/gauge"
	"latflow/lattice"
)

// The two-flavour weight det(D)^2 of a hot start, its gradient for HMC or a
// flow's score, the condensate and the pion correlator, and a CG solve.
func ExampleDeterminant() {
	g := lattice.NewGeometry(8)
	const kappa = 0.25
	det, err := fermion.NewDeterminant(g, kappa, fermion.DefaultMethod(g.L))
	if err != nil {
		panic(err)
	}
	links := make([]float64, 2*g.V)
	if err := det.Factorize(links); err != nil {
		panic(err)
	}
	fmt.Printf("free field: log det D^2 = %.4f, condensate = %.4f\n", det.LogDetDD(), det.Condensate())

	gauge.RandomLinksTo(links, rand.New(rand.NewPCG(1, 2)))
	if err := det.Factorize(links); err != nil {
		panic(err)
	}
	grad := make([]float64, len(links))
	det.GradTo(grad) // d log det(D^dagger D) / d theta
	c := make([]float64, g.L)
	det.PionCorrelatorTo(c)
	fmt.Printf("hot start: log det D^2 = %.4f, C(0) = %.4f, C(4) = %.4f\n", det.LogDetDD(), c[0], c[4])

	op := fermion.NewOperator(g, kappa)
	op.SetLinks(links)
	b := make([]complex128, op.Size())
	b[0] = 1
	x := make([]complex128, op.Size())
	iters, err := fermion.NewCG(op, 1e-10, 1000).SolveTo(x, b)
	fmt.Println("CG converged:", err == nil, iters > 0)
	// Output:
	// free field: log det D^2 = 9.0227, condensate = -1.5399
	// hot start: log det D^2 = -0.0119, C(0) = 2.7569, C(4) = 0.0201
	// CG converged: true true
}
