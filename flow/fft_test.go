package flow

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

// TestFFT2 checks the 2D transform against the direct sum
// sum_x exp(-+2 pi i n.x/L) a(x), forward and backward, for L a power of
// two (radix 2) and not (gonum's dsp/fourier).
func TestFFT2(t *testing.T) {
	for _, L := range []int{1, 2, 4, 6, 8, 12, 16, 32} {
		t.Run(fmt.Sprint("L=", L), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(58, uint64(L)))
			V := L * L
			a := make([]complex128, V)
			for i := range a {
				a[i] = complex(rng.NormFloat64(), rng.NormFloat64())
			}
			f := newFFT2(L)
			for _, inverse := range []bool{false, true} {
				sign := -1.0
				if inverse {
					sign = 1
				}
				got := append([]complex128(nil), a...)
				f.transform(got, inverse)
				var worst float64
				for n0 := range L {
					for n1 := range L {
						var want complex128
						for x0 := range L {
							for x1 := range L {
								ph := sign * 2 * math.Pi * float64(n0*x0+n1*x1) / float64(L)
								want += a[x0*L+x1] * cmplx.Exp(complex(0, ph))
							}
						}
						worst = math.Max(worst, cmplx.Abs(got[n0*L+n1]-want))
					}
				}
				if worst > 1e-10*float64(V) {
					t.Errorf("inverse=%v: largest error %.3g against the direct sum", inverse, worst)
				}
			}
		})
	}
}
