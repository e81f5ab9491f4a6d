package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// rowCase is one shape of the row kernel tests: np rows, m outputs, n sites
// with stride ld = n + pad.
type rowCase struct{ np, m, n, pad int }

func (c rowCase) String() string {
	return fmt.Sprintf("np=%d/m=%d/n=%d/pad=%d", c.np, c.m, c.n, c.pad)
}

func rowCases() []rowCase {
	var cs []rowCase
	for _, np := range []int{1, 2, 9, 18, 72} {
		for m := 1; m <= 4; m++ {
			for _, n := range []int{1, 4, 7, 8, 16, 36, 64, 100, 256} {
				cs = append(cs, rowCase{np, m, n, (np + n) % 3})
			}
		}
	}
	return append(cs, rowCase{0, 2, 16, 0}, rowCase{3, 3, 0, 1})
}

// rowData returns a source with random values and np random rows in it.
func rowData[T Float](rng *rand.Rand, np, n int) ([]T, []int32) {
	src := randSlice[T](rng, 3*n+40)
	rows := make([]int32, np)
	for p := range rows {
		rows[p] = int32(rng.IntN(len(src) - n + 1))
	}
	return src, rows
}

// absRows returns |v| of each element of xs, in new slices.
func absRows[T Float](xs ...[]T) [][]T {
	out := make([][]T, len(xs))
	for i, x := range xs {
		out[i] = abs(x)
	}
	return out
}

func testRowCombine[T Float](t *testing.T, tol float64) {
	rng := rand.New(rand.NewPCG(7, 1))
	for _, c := range rowCases() {
		for _, epi := range []Epilogue{EpiNone, EpiLeakyReLU, EpiLeakyReLUVJP} {
			t.Run(fmt.Sprintf("%v/epi=%d", c, epi), func(t *testing.T) {
				ld := c.n + c.pad
				src, rows := rowData[T](rng, c.np, c.n)
				coef := randSlice[T](rng, 4*c.np)
				for p := range c.np {
					for r := c.m; r < 4; r++ {
						coef[4*p+r] = 0
					}
				}
				bias := [4]T{T(rng.Float64()), T(-rng.Float64()), T(rng.Float64()), 0.5}
				y := randSlice[T](rng, 4*ld)
				y[0], y[1] = 0, T(math.Copysign(0, -1)) // the kink: slope
				size := (c.m-1)*ld + c.n
				got := randSlice[T](rng, size+5)
				want := append([]T(nil), got...)
				RowCombine4To(got[:size], ld, c.m, coef, src, rows, &bias, y, epi, c.n)
				RowCombine4Ref(want[:size], ld, c.m, coef, src, rows, &bias, y, epi, c.n)
				scale := make([]T, size)
				a := absRows(coef, src)
				ab := [4]T{T(math.Abs(float64(bias[0]))), T(math.Abs(float64(bias[1]))), T(math.Abs(float64(bias[2]))), T(math.Abs(float64(bias[3])))}
				RowCombine4Ref(scale, ld, c.m, a[0], a[1], rows, &ab, nil, EpiNone, c.n)
				for r := range c.m {
					for x := range ld {
						i := r*ld + x
						if x >= c.n || i >= size {
							// Padding between rows and after the last one is untouched.
							if i < len(got) && got[i] != want[i] {
								t.Fatalf("element %d outside the rows: got %g, want %g (unchanged)", i, got[i], want[i])
							}
							continue
						}
						if d := math.Abs(float64(got[i] - want[i])); d > tol*float64(scale[i]+1e-30) {
							t.Fatalf("row %d site %d: got %.9g, want %.9g (reference)", r, x, got[i], want[i])
						}
					}
				}
				for i := size; i < len(got); i++ {
					if got[i] != want[i] {
						t.Fatalf("element %d past the rows: got %g, want %g (unchanged)", i, got[i], want[i])
					}
				}
			})
		}
	}
}

func testRowDots[T Float](t *testing.T, tol float64) {
	rng := rand.New(rand.NewPCG(7, 2))
	for _, c := range rowCases() {
		t.Run(c.String(), func(t *testing.T) {
			ld, ldw := c.n+c.pad, c.np+c.pad+1
			src, rows := rowData[T](rng, c.np, c.n)
			g := randSlice[T](rng, (c.m-1)*ld+c.n)
			size := (c.m-1)*ldw + c.np
			got := randSlice[T](rng, size+3)
			want := append([]T(nil), got...)
			scale := abs(got)
			RowDots4(got[:size], ldw, c.m, g, ld, src, rows, c.n)
			RowDots4Ref(want[:size], ldw, c.m, g, ld, src, rows, c.n)
			a := absRows(g, src)
			RowDots4Ref(scale[:size], ldw, c.m, a[0], ld, a[1], rows, c.n)
			for i := range got {
				r, p := i/ldw, i%ldw
				if r >= c.m || p >= c.np {
					if got[i] != want[i] {
						t.Fatalf("element %d outside gw: got %g, want %g (unchanged)", i, got[i], want[i])
					}
					continue
				}
				if d := math.Abs(float64(got[i] - want[i])); d > tol*float64(scale[i]) {
					t.Fatalf("row %d, p=%d: got %.9g, want %.9g (reference)", r, p, got[i], want[i])
				}
			}
		})
	}
}

func TestRowCombine4MatchesReference(t *testing.T) {
	t.Logf("assembly row kernels: %v", HasRowKernels())
	t.Run("float64", func(t *testing.T) { testRowCombine[float64](t, tolFloat64) })
	t.Run("float32", func(t *testing.T) { testRowCombine[float32](t, tolFloat32) })
	t.Run("named", func(t *testing.T) { testRowCombine[namedFloat](t, tolFloat32) })
}

func TestRowDots4MatchesReference(t *testing.T) {
	t.Run("float64", func(t *testing.T) { testRowDots[float64](t, tolFloat64) })
	t.Run("float32", func(t *testing.T) { testRowDots[float32](t, tolFloat32) })
	t.Run("named", func(t *testing.T) { testRowDots[namedFloat](t, tolFloat32) })
}

// TestRowCombine4Epilogues checks the activation epilogues element by
// element against LeakyReLUTo and LeakyReLUVJPTo, with one row holding the
// unit coefficient so that the sum is exactly the source value.
func TestRowCombine4Epilogues(t *testing.T) {
	const n = 32
	src := make([]float32, n)
	for i := range src {
		src[i] = float32(i-n/2) / 4 // includes 0
	}
	src[3] = float32(math.Copysign(0, -1))
	rows, coef := []int32{0}, []float32{1, 0, 0, 0}
	var zero [4]float32
	got, want := make([]float32, n), make([]float32, n)
	RowCombine4To(got, n, 1, coef, src, rows, &zero, nil, EpiLeakyReLU, n)
	for i, v := range src {
		want[i] = zero[0] + v // the sum: bias + 1*src, +0 for src = -0
	}
	LeakyReLUTo(want, want)
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Errorf("EpiLeakyReLU(%g): got %g, want %g", src[i], got[i], want[i])
		}
	}
	y := make([]float32, n)
	copy(y, src)
	y[5] = float32(math.NaN())
	for i := range src {
		src[i] = 1 + float32(i)
	}
	RowCombine4To(got, n, 1, coef, src, rows, &zero, y, EpiLeakyReLUVJP, n)
	LeakyReLUVJPTo(want, src, y)
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("EpiLeakyReLUVJP(y=%g): got %g, want %g", y[i], got[i], want[i])
		}
	}
}

func TestRowKernelsCheckShapes(t *testing.T) {
	src := make([]float64, 20)
	var bias [4]float64
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"row past source", func() {
			RowCombine4To(make([]float64, 8), 8, 1, make([]float64, 4), src, []int32{13}, &bias, nil, EpiNone, 8)
		}},
		{"m=5", func() {
			RowCombine4To(make([]float64, 40), 8, 5, make([]float64, 4), src, []int32{0}, &bias, nil, EpiNone, 8)
		}},
		{"short dst", func() {
			RowCombine4To(make([]float64, 15), 8, 2, make([]float64, 4), src, []int32{0}, &bias, nil, EpiNone, 8)
		}},
		{"short coef", func() {
			RowCombine4To(make([]float64, 8), 8, 1, make([]float64, 7), src, []int32{0, 1}, &bias, nil, EpiNone, 8)
		}},
		{"nil y", func() {
			RowCombine4To(make([]float64, 8), 8, 1, make([]float64, 4), src, []int32{0}, &bias, nil, EpiLeakyReLUVJP, 8)
		}},
		{"short gw", func() { RowDots4(make([]float64, 3), 2, 2, make([]float64, 16), 8, src, []int32{0, 1}, 8) }},
		{"negative row", func() { RowDots4(make([]float64, 1), 1, 1, make([]float64, 8), 8, src, []int32{-1}, 8) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: got no panic, want one", c.name)
				}
			}()
			c.f()
		}()
	}
}

func benchRows(b *testing.B, name string, f func()) {
	b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f()
		}
		// One layer of the U(1) conditioner: 8 x 8 channels, K = 3, L = 16.
		b.ReportMetric(float64(8*72*256)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
	})
}

// BenchmarkRowKernels times an 8 -> 8 channel, K = 3 layer on L = 16 (two
// calls of four outputs) with the row kernels and their references.
func BenchmarkRowKernels(b *testing.B) {
	const L, K, C = 16, 3, 8
	V, S := L*L, ShiftedLen(K, L)
	rng := rand.New(rand.NewPCG(5, 8))
	rows := make([]int32, C*K*K)
	for i := range C {
		for k0 := range K {
			for k1 := range K {
				rows[(i*K+k0)*K+k1] = int32(i*S + (k1*(L+K-1)+k0)*L)
			}
		}
	}
	src32, coef32, dst32 := randSlice[float32](rng, C*S), randSlice[float32](rng, 4*len(rows)), make([]float32, C*V)
	src64, coef64, dst64 := randSlice[float64](rng, C*S), randSlice[float64](rng, 4*len(rows)), make([]float64, C*V)
	gw32, gw64 := make([]float32, C*len(rows)), make([]float64, C*len(rows))
	var b32 [4]float32
	var b64 [4]float64
	benchRows(b, "RowCombine4To/float32", func() {
		RowCombine4To(dst32, V, 4, coef32, src32, rows, &b32, nil, EpiLeakyReLU, V)
		RowCombine4To(dst32[4*V:], V, 4, coef32, src32, rows, &b32, nil, EpiLeakyReLU, V)
	})
	benchRows(b, "RowCombine4To/float64", func() {
		RowCombine4To(dst64, V, 4, coef64, src64, rows, &b64, nil, EpiLeakyReLU, V)
		RowCombine4To(dst64[4*V:], V, 4, coef64, src64, rows, &b64, nil, EpiLeakyReLU, V)
	})
	benchRows(b, "RowCombine4Ref/float32", func() {
		RowCombine4Ref(dst32, V, 4, coef32, src32, rows, &b32, nil, EpiLeakyReLU, V)
		RowCombine4Ref(dst32[4*V:], V, 4, coef32, src32, rows, &b32, nil, EpiLeakyReLU, V)
	})
	benchRows(b, "RowDots4/float32", func() {
		RowDots4(gw32, len(rows), 4, dst32, V, src32, rows, V)
		RowDots4(gw32[4*len(rows):], len(rows), 4, dst32[4*V:], V, src32, rows, V)
	})
	benchRows(b, "RowDots4/float64", func() {
		RowDots4(gw64, len(rows), 4, dst64, V, src64, rows, V)
		RowDots4(gw64[4*len(rows):], len(rows), 4, dst64[4*V:], V, src64, rows, V)
	})
	benchRows(b, "RowDots4Ref/float32", func() {
		RowDots4Ref(gw32, len(rows), 4, dst32, V, src32, rows, V)
		RowDots4Ref(gw32[4*len(rows):], len(rows), 4, dst32[4*V:], V, src32, rows, V)
	})
	// The axpy kernels on the same layer, for comparison.
	benchRows(b, "ConvShifted/float32", func() {
		for o := range C {
			for i := range C {
				ConvShifted(dst32[o*V:(o+1)*V], src32[i*S:(i+1)*S], coef32[(o*C+i)*9%len(coef32):], K, L)
			}
		}
	})
}
