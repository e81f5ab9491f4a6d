package lattice_test

import (
	"fmt"

	"latflow/lattice"
)

func ExampleNewPhi4Standard() {
	g := lattice.NewGeometry(8)
	a := lattice.NewPhi4Standard(g, -4, 8)
	phi := make([]float64, g.V)
	for i := range phi {
		phi[i] = 0.5
	}
	force := make([]float64, g.V)
	a.ForceTo(force, phi)
	fmt.Println(a)
	fmt.Printf("J=%g A=%g B=%g\n", a.J, a.A, a.B)
	fmt.Printf("S=%.3f dS/dphi=%.3f\n", a.Action(phi), force[0])
	// Output:
	// phi4 standard m2=-4 lambda=8
	// J=1 A=0 B=8
	// S=-32.000 dS/dphi=0.000
}

func ExampleExactFreeField() {
	g := lattice.NewGeometry(8)
	free, err := lattice.ExactFreeField(lattice.NewPhi4Standard(g, 1, 0))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("<phi^2>=%.4f chi_2=%.4f\n", free.Phi2, free.Chi2)
	prop := make([]float64, g.L)
	if err := lattice.FreePropagatorTo(prop, lattice.NewPhi4Standard(g, 1, 0)); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("G(0)=%.4f G(1)=%.4f G(4)=%.4f\n", prop[0], prop[1], prop[4])
	_, err = lattice.ExactFreeField(lattice.NewPhi4Standard(g, -4, 8))
	fmt.Println(err)
	// Output:
	// <phi^2>=0.1271 chi_2=0.5000
	// G(0)=0.2238 G(1)=0.0857 G(4)=0.0095
	// lattice: free field: phi4 standard m2=-4 lambda=8 has B=8, want B=0
}

func ExampleNewStripeMasks() {
	g := lattice.NewGeometry(4)
	s := lattice.NewStripeMasks(g, 2) // mu = 0, offset 1
	fmt.Printf("mu=%d offset=%d\n", s.Mu, s.Offset)
	for x0 := 0; x0 < g.L; x0++ {
		for x1 := 0; x1 < g.L; x1++ {
			n := g.Site(x0, x1)
			switch {
			case s.Frozen[n]:
				fmt.Print("F")
			case s.Active[n]:
				fmt.Print("A")
			default:
				fmt.Print("P")
			}
		}
		fmt.Println()
	}
	// Output:
	// mu=0 offset=1
	// PAFF
	// PAFF
	// PAFF
	// PAFF
}
