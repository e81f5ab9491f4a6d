package fermion

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"latflow/lattice"
)

// benchDeterminant times Factorize (log det) and, with grad, the gradient
// from the inverse, on random links (two configurations in turn, since
// Factorize keeps its work at unchanged links).
func benchDeterminant(b *testing.B, L int, m Method, grad bool) {
	g := lattice.NewGeometry(L)
	d, err := NewDeterminant(g, 0.26, m)
	if err != nil {
		b.Fatal(err)
	}
	links := [2][]float64{randomLinks(g, 1), randomLinks(g, 2)}
	dst := make([]float64, 2*g.V)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := d.Factorize(links[i%2]); err != nil {
			b.Fatal(err)
		}
		if grad {
			d.GradTo(dst)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/op")
}

// BenchmarkLogDetDD compares the four factorizations of log det(D^dagger D).
func BenchmarkLogDetDD(b *testing.B) {
	for _, L := range []int{8, 16} {
		for _, m := range allMethods {
			b.Run(fmt.Sprintf("L=%d/%v", L, m), func(b *testing.B) { benchDeterminant(b, L, m, false) })
		}
	}
}

// BenchmarkLogDetDDGrad times log det and its link gradient together.
func BenchmarkLogDetDDGrad(b *testing.B) {
	for _, L := range []int{8, 16} {
		for _, m := range allMethods {
			b.Run(fmt.Sprintf("L=%d/%v", L, m), func(b *testing.B) { benchDeterminant(b, L, m, true) })
		}
	}
}

// BenchmarkApplyDD times one application of D^dagger D by the stencil.
func BenchmarkApplyDD(b *testing.B) {
	for _, L := range []int{16, 64} {
		b.Run(fmt.Sprintf("L=%d", L), func(b *testing.B) {
			g := lattice.NewGeometry(L)
			op := NewOperator(g, 0.26)
			op.SetLinks(randomLinks(g, 1))
			psi := randomSpinor(op.Size(), 1)
			dst, tmp := make([]complex128, op.Size()), make([]complex128, op.Size())
			b.ReportAllocs()
			for b.Loop() {
				op.ApplyDDTo(dst, tmp, psi)
			}
			b.ReportMetric(float64(g.V)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Msites/s")
		})
	}
}

// BenchmarkPseudofermionForce times the pseudofermion force (one CG solve
// and the link derivative) on a hot and on a cold start at L = 16 near
// the free critical kappa, plain and even-odd, and reports the CG
// iterations per solve.
func BenchmarkPseudofermionForce(b *testing.B) {
	for _, start := range []string{"cold", "hot"} {
		for _, kappa := range []float64{0.2, 0.24} {
			for _, eo := range []bool{false, true} {
				b.Run(fmt.Sprintf("L=16/kappa=%g/%s/evenodd=%v", kappa, start, eo), func(b *testing.B) {
					g := lattice.NewGeometry(16)
					act := NewPseudofermionAction(g, 2, kappa, 1e-10, 100*g.V)
					if eo {
						act = NewEvenOddPseudofermionAction(g, 2, kappa, 1e-10, 100*g.V)
					}
					links := make([]float64, 2*g.V)
					if start == "hot" {
						links = randomLinks(g, 1)
					}
					act.Refresh(links, rand.New(rand.NewPCG(1, 1)))
					dst := make([]float64, len(links))
					for b.Loop() {
						act.Invalidate()
						act.ForceTo(dst, links)
					}
					if err := act.Err(); err != nil {
						b.Fatal(err)
					}
					s, it := act.CGCounts()
					b.ReportMetric(float64(it)/float64(s), "cg-iters/solve")
				})
			}
		}
	}
}
