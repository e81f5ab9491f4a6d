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

// rowCoefs returns coefficients for np rows and 4 outputs in one of two
// layouts with their RowTable offsets: packed (coefficient of row p for
// output r at 4p + r, r >= m zero) or strided like a convolution weight
// (row p's coefficients at a random permutation of the rows, outputs np
// apart, r >= m reading output 0's).
func rowCoefs[T Float](rng *rand.Rand, np, m int, packed bool) (w []T, coef []int32, coff [4]int32) {
	w = randSlice[T](rng, 4*np+3)
	coef = make([]int32, np)
	if packed {
		for p := range np {
			coef[p] = int32(4 * p)
			for r := m; r < 4; r++ {
				w[4*p+r] = 0
			}
		}
		return w, coef, [4]int32{0, 1, 2, 3}
	}
	for p, q := range rng.Perm(np) {
		coef[p] = int32(q)
	}
	for r := range 4 {
		if r < m {
			coff[r] = int32(r*np + 3)
		} else {
			coff[r] = coff[0]
		}
	}
	return w, coef, coff
}

func testRowCombine[T Float](t *testing.T, lv isa, tol float64) {
	rng := rand.New(rand.NewPCG(7, 1))
	for _, c := range rowCases() {
		for _, epi := range []Epilogue{EpiNone, EpiLeakyReLU, EpiLeakyReLUVJP} {
			for _, packed := range []bool{true, false} {
				t.Run(fmt.Sprintf("%v/epi=%d/packed=%v", c, epi, packed), func(t *testing.T) {
					ld := c.n + c.pad
					src, rows := rowData[T](rng, c.np, c.n)
					w, coef, coff := rowCoefs[T](rng, c.np, c.m, packed)
					tab := NewRowTable(rows, coef)
					bias := [4]T{T(rng.Float64()), T(-rng.Float64()), T(rng.Float64()), 0.5}
					y := randSlice[T](rng, 4*ld)
					y[0], y[1] = 0, T(math.Copysign(0, -1)) // the kink: slope
					size := (c.m-1)*ld + c.n
					got := randSlice[T](rng, size+5)
					want := append([]T(nil), got...)
					rowCombine4(lv, got[:size], ld, c.m, w, &coff, src, tab, &bias, y, epi, c.n)
					RowCombine4Ref(want[:size], ld, c.m, w, &coff, src, tab, &bias, y, epi, c.n)
					scale := make([]T, size)
					a := absRows(w, src)
					ab := [4]T{T(math.Abs(float64(bias[0]))), T(math.Abs(float64(bias[1]))), T(math.Abs(float64(bias[2]))), T(math.Abs(float64(bias[3])))}
					RowCombine4Ref(scale, ld, c.m, a[0], &coff, a[1], tab, &ab, nil, EpiNone, c.n)
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
}

func testRowDots[T Float](t *testing.T, lv isa, tol float64) {
	rng := rand.New(rand.NewPCG(7, 2))
	for _, c := range rowCases() {
		for _, packed := range []bool{true, false} {
			t.Run(fmt.Sprintf("%v/packed=%v", c, packed), func(t *testing.T) {
				ld := c.n + c.pad
				src, rows := rowData[T](rng, c.np, c.n)
				// Outputs as a weight gradient: packed rows of ldw, or the
				// strided layout of rowCoefs (rows r >= m alias row 0).
				_, coef, coff := rowCoefs[T](rng, c.np, c.m, false)
				size := 4*c.np + 3
				if packed {
					ldw := c.np + c.pad + 1
					for p := range coef {
						coef[p] = int32(p)
					}
					coff = [4]int32{0, int32(ldw), int32(2 * ldw), int32(3 * ldw)}
					size = 3*ldw + c.np
				}
				tab := NewRowTable(rows, coef)
				g := randSlice[T](rng, (c.m-1)*ld+c.n)
				got := randSlice[T](rng, size+3)
				want := append([]T(nil), got...)
				scale := abs(got)
				rowDots4(lv, got[:size], &coff, c.m, g, ld, src, tab, c.n)
				RowDots4Ref(want[:size], &coff, c.m, g, ld, src, tab, c.n)
				a := absRows(g, src)
				RowDots4Ref(scale[:size], &coff, c.m, a[0], ld, a[1], tab, c.n)
				written := make([]bool, len(got))
				for r := range c.m {
					for p := range c.np {
						written[int(coff[r])+int(coef[p])] = true
					}
				}
				for i := range got {
					if !written[i] {
						if got[i] != want[i] {
							t.Fatalf("element %d outside gw: got %g, want %g (unchanged)", i, got[i], want[i])
						}
						continue
					}
					if d := math.Abs(float64(got[i] - want[i])); d > tol*float64(scale[i]) {
						t.Fatalf("element %d: got %.9g, want %.9g (reference)", i, got[i], want[i])
					}
				}
			})
		}
	}
}

// TestRowCombine4MatchesReference and TestRowDots4MatchesReference run
// every instruction set the CPU supports (levels) against the reference
// loops.
func TestRowCombine4MatchesReference(t *testing.T) {
	for _, lv := range levels() {
		t.Run(lv.String(), func(t *testing.T) {
			t.Run("float64", func(t *testing.T) { testRowCombine[float64](t, lv, tolFloat64) })
			t.Run("float32", func(t *testing.T) { testRowCombine[float32](t, lv, tolFloat32) })
			t.Run("named", func(t *testing.T) { testRowCombine[namedFloat](t, lv, tolFloat32) })
		})
	}
}

func TestRowDots4MatchesReference(t *testing.T) {
	for _, lv := range levels() {
		t.Run(lv.String(), func(t *testing.T) {
			t.Run("float64", func(t *testing.T) { testRowDots[float64](t, lv, tolFloat64) })
			t.Run("float32", func(t *testing.T) { testRowDots[float32](t, lv, tolFloat32) })
			t.Run("named", func(t *testing.T) { testRowDots[namedFloat](t, lv, tolFloat32) })
		})
	}
}

// TestLevels records the instruction sets under test; on a CPU with
// AVX-512 all three run.
func TestLevels(t *testing.T) {
	t.Logf("kernel levels under test: %v (best %v)", levels(), best)
}

// TestRowCombine4Epilogues checks the activation epilogues element by
// element against LeakyReLUTo and LeakyReLUVJPTo, with one row holding the
// unit coefficient so that the sum is exactly the source value.
func TestRowCombine4Epilogues(t *testing.T) {
	for _, lv := range levels() {
		t.Run(lv.String(), func(t *testing.T) { testRowCombine4Epilogues(t, lv) })
	}
}

func testRowCombine4Epilogues(t *testing.T, lv isa) {
	const n = 128 // covers the AVX-512 tile
	src := make([]float32, n)
	for i := range src {
		src[i] = float32(i-n/2) / 4 // includes 0
	}
	src[3] = float32(math.Copysign(0, -1))
	tab := NewRowTable([]int32{0}, []int32{0})
	coef, coff := []float32{1}, [4]int32{}
	var zero [4]float32
	got, want := make([]float32, n), make([]float32, n)
	rowCombine4(lv, got, n, 1, coef, &coff, src, tab, &zero, nil, EpiLeakyReLU, n)
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
	rowCombine4(lv, got, n, 1, coef, &coff, src, tab, &zero, y, EpiLeakyReLUVJP, n)
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
	one := NewRowTable([]int32{0}, []int32{0})
	two := NewRowTable([]int32{0, 1}, []int32{0, 1})
	var coff [4]int32
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"row past source", func() {
			RowCombine4To(make([]float64, 8), 8, 1, make([]float64, 4), &coff, src, NewRowTable([]int32{13}, []int32{0}), &bias, nil, EpiNone, 8)
		}},
		{"m=5", func() {
			RowCombine4To(make([]float64, 40), 8, 5, make([]float64, 4), &coff, src, one, &bias, nil, EpiNone, 8)
		}},
		{"short dst", func() {
			RowCombine4To(make([]float64, 15), 8, 2, make([]float64, 4), &coff, src, one, &bias, nil, EpiNone, 8)
		}},
		{"short coef", func() {
			RowCombine4To(make([]float64, 8), 8, 1, make([]float64, 1), &coff, src, two, &bias, nil, EpiNone, 8)
		}},
		{"coefficient offset past w", func() {
			RowCombine4To(make([]float64, 8), 8, 1, make([]float64, 4), &[4]int32{0, 0, 0, 3}, src, two, &bias, nil, EpiNone, 8)
		}},
		{"negative coefficient offset", func() {
			RowCombine4To(make([]float64, 8), 8, 1, make([]float64, 4), &[4]int32{-1, 0, 0, 0}, src, one, &bias, nil, EpiNone, 8)
		}},
		{"nil y", func() {
			RowCombine4To(make([]float64, 8), 8, 1, make([]float64, 4), &coff, src, one, &bias, nil, EpiLeakyReLUVJP, 8)
		}},
		{"nil table", func() { RowDots4(make([]float64, 3), &coff, 1, make([]float64, 16), 8, src, nil, 8) }},
		{"short gw", func() { RowDots4(make([]float64, 3), &[4]int32{0, 2, 0, 0}, 2, make([]float64, 16), 8, src, two, 8) }},
		{"negative gradient offset", func() {
			RowDots4(make([]float64, 3), &[4]int32{-1, 0, 0, 0}, 1, make([]float64, 16), 8, src, two, 8)
		}},
		{"negative row", func() { NewRowTable([]int32{-1}, nil) }},
		{"table lengths", func() { NewRowTable([]int32{0, 1}, []int32{0}) }},
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
// calls of four outputs) with the row kernels at every level and their
// references.
func BenchmarkRowKernels(b *testing.B) {
	const L, K, C = 16, 3, 8
	V, S := L*L, ShiftedLen(K, L)
	rng := rand.New(rand.NewPCG(5, 8))
	rows, coef := make([]int32, C*K*K), make([]int32, C*K*K)
	for i := range C {
		for k0 := range K {
			for k1 := range K {
				p := (i*K+k0)*K + k1
				rows[p], coef[p] = int32(i*S+(k1*(L+K-1)+k0)*L), int32(p)
			}
		}
	}
	tab := NewRowTable(rows, coef)
	P := len(rows)
	src32, w32, dst32 := randSlice[float32](rng, C*S), randSlice[float32](rng, C*P), make([]float32, C*V)
	src64, w64, dst64 := randSlice[float64](rng, C*S), randSlice[float64](rng, C*P), make([]float64, C*V)
	gw32, gw64 := make([]float32, C*P), make([]float64, C*P)
	var b32 [4]float32
	var b64 [4]float64
	lo, hi := [4]int32{0, int32(P), int32(2 * P), int32(3 * P)}, [4]int32{int32(4 * P), int32(5 * P), int32(6 * P), int32(7 * P)}
	for _, lv := range levels() {
		benchRows(b, "RowCombine4To/float32/"+lv.String(), func() {
			rowCombine4(lv, dst32, V, 4, w32, &lo, src32, tab, &b32, nil, EpiLeakyReLU, V)
			rowCombine4(lv, dst32[4*V:], V, 4, w32, &hi, src32, tab, &b32, nil, EpiLeakyReLU, V)
		})
		benchRows(b, "RowCombine4To/float64/"+lv.String(), func() {
			rowCombine4(lv, dst64, V, 4, w64, &lo, src64, tab, &b64, nil, EpiLeakyReLU, V)
			rowCombine4(lv, dst64[4*V:], V, 4, w64, &hi, src64, tab, &b64, nil, EpiLeakyReLU, V)
		})
		benchRows(b, "RowDots4/float32/"+lv.String(), func() {
			rowDots4(lv, gw32, &lo, 4, dst32, V, src32, tab, V)
			rowDots4(lv, gw32, &hi, 4, dst32[4*V:], V, src32, tab, V)
		})
		benchRows(b, "RowDots4/float64/"+lv.String(), func() {
			rowDots4(lv, gw64, &lo, 4, dst64, V, src64, tab, V)
			rowDots4(lv, gw64, &hi, 4, dst64[4*V:], V, src64, tab, V)
		})
	}
	// The axpy kernels on the same layer, for comparison.
	benchRows(b, "ConvShifted/float32", func() {
		for o := range C {
			for i := range C {
				ConvShifted(dst32[o*V:(o+1)*V], src32[i*S:(i+1)*S], w32[(o*C+i)*9:], K, L)
			}
		}
	})
}

// TestAddRowSums checks AddRowSums at every level against Sum row by row.
func TestAddRowSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 3))
	for _, lv := range levels() {
		for _, n := range []int{0, 1, 7, 32, 64, 100, 256} {
			t.Run(fmt.Sprintf("%v/n=%d", lv, n), func(t *testing.T) {
				const rows = 5
				s32, s64 := randSlice[float32](rng, rows*n), randSlice[float64](rng, rows*n)
				d32, d64 := randSlice[float32](rng, rows), randSlice[float64](rng, rows)
				w32, w64 := append([]float32(nil), d32...), append([]float64(nil), d64...)
				addRowSums(lv, d32, s32, n)
				addRowSums(lv, d64, s64, n)
				for i := range rows {
					w32[i] += Sum(s32[i*n : (i+1)*n])
					w64[i] += Sum(s64[i*n : (i+1)*n])
					a32, a64 := absRows(s32[i*n : (i+1)*n])[0], absRows(s64[i*n : (i+1)*n])[0]
					if d := math.Abs(float64(d32[i] - w32[i])); d > tolFloat32*float64(Sum(a32)+1) {
						t.Errorf("float32 row %d: got %g, want %g", i, d32[i], w32[i])
					}
					if d := math.Abs(d64[i] - w64[i]); d > tolFloat64*(Sum(a64)+1) {
						t.Errorf("float64 row %d: got %g, want %g", i, d64[i], w64[i])
					}
				}
			})
		}
	}
}
