package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestShiftRowsMatchesReference checks ShiftRowsTo at every level (assembly
// for K = 3) bit for bit against ShiftRowsRef and against the
// definition S_k1[(r+h)*L + x1] = src[(r mod L)*L + (x1+k1-h) mod L].
func TestShiftRowsMatchesReference(t *testing.T) {
	for _, lv := range levels() {
		t.Run(lv.String(), func(t *testing.T) {
			t.Run("float32", func(t *testing.T) { testShiftRows[float32](t, lv) })
			t.Run("float64", func(t *testing.T) { testShiftRows[float64](t, lv) })
			t.Run("named", func(t *testing.T) { testShiftRows[namedFloat](t, lv) })
		})
	}
}

// TestShiftPlanesMatchesReference checks several planes in one call at
// every level against ShiftRowsRef plane by plane.
func TestShiftPlanesMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 2))
	for _, lv := range levels() {
		for _, L := range []int{4, 8, 16, 32} {
			for _, n := range []int{1, 2, 7} {
				t.Run(fmt.Sprintf("%v/L=%d/n=%d", lv, L, n), func(t *testing.T) {
					V, S := L*L, ShiftedLen(3, L)
					src32, src64 := randSlice[float32](rng, n*V), randSlice[float64](rng, n*V)
					got32, want32 := randSlice[float32](rng, n*S+5), make([]float32, n*S+5)
					got64, want64 := randSlice[float64](rng, n*S+5), make([]float64, n*S+5)
					copy(want32, got32)
					copy(want64, got64)
					shiftPlanes(lv, got32[:n*S], src32, 3, L, n)
					shiftPlanes(lv, got64[:n*S], src64, 3, L, n)
					for i := range n {
						ShiftRowsRef(want32[i*S:(i+1)*S], src32[i*V:(i+1)*V], 3, L)
						ShiftRowsRef(want64[i*S:(i+1)*S], src64[i*V:(i+1)*V], 3, L)
					}
					for i := range got32 {
						if got32[i] != want32[i] || got64[i] != want64[i] {
							t.Fatalf("element %d: got %g, %g, want %g, %g", i, got32[i], got64[i], want32[i], want64[i])
						}
					}
				})
			}
		}
	}
}

func testShiftRows[T Float](t *testing.T, lv isa) {
	rng := rand.New(rand.NewPCG(9, 1))
	for _, K := range []int{1, 3, 5} {
		for _, L := range []int{1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48} {
			t.Run(fmt.Sprintf("K=%d/L=%d", K, L), func(t *testing.T) {
				src := randSlice[T](rng, L*L)
				n := ShiftedLen(K, L)
				got := randSlice[T](rng, n+3)
				want := append([]T(nil), got...)
				shiftPlanes(lv, got[:n], src, K, L, 1)
				ShiftRowsRef(want[:n], src, K, L)
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("element %d: got %g, want %g", i, got[i], want[i])
					}
				}
				h, R := K/2, L+K-1
				for k1 := range K {
					for r := -h; r < L+h; r++ {
						for x1 := range L {
							v := got[(k1*R+r+h)*L+x1]
							if w := src[wrap(r, L)*L+wrap(x1+k1-h, L)]; v != w {
								t.Fatalf("copy %d row %d site %d: got %g, want %g", k1, r, x1, v, w)
							}
						}
					}
				}
			})
		}
	}
}
