package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// Fast and reference loops sum the same terms in a different order, so they
// agree to rounding, measured relative to the sum of |terms| of each element
// (at most L*L = 256 terms here: the float32 bound is ~256 * 6e-8).
const (
	tolFloat64 = 1e-13
	tolFloat32 = 1e-5
)

var kernelSizes = []int{1, 3, 5, 7}
var extents = []int{1, 2, 3, 4, 5, 6, 8, 16}

func randSlice[T Float](rng *rand.Rand, n int) []T {
	x := make([]T, n)
	for i := range x {
		x[i] = T(2*rng.Float64() - 1)
	}
	return x
}

// maxRelDiff returns max_i |a_i - b_i| / scale_i, scale_i being the sum of
// the absolute values of the terms that make up b_i.
func maxRelDiff[T Float](a, b, scale []T) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i]))/float64(scale[i]))
	}
	return d
}

func abs[T Float](x []T) []T {
	y := make([]T, len(x))
	for i, v := range x {
		y[i] = T(math.Abs(float64(v)))
	}
	return y
}

type kernelPair[T Float] struct {
	name      string
	fast, ref func(dst, a, b []T, K, L int)
	// dstLen, aLen, bLen give the slice lengths for K, L.
	dstLen func(K, L int) int
}

func pairs[T Float]() []kernelPair[T] {
	plane := func(K, L int) int { return L * L }
	kernel := func(K, L int) int { return K * K }
	return []kernelPair[T]{
		{"ConvPlane", func(d, s, w []T, K, L int) { ConvPlane(d, s, w, K, L) },
			func(d, s, w []T, K, L int) { ConvPlaneRef(d, s, w, K, L) }, plane},
		{"ConvPlaneAdjoint", func(d, s, w []T, K, L int) { ConvPlaneAdjoint(d, s, w, K, L) },
			func(d, s, w []T, K, L int) { ConvPlaneAdjointRef(d, s, w, K, L) }, plane},
		{"ConvWeightGrad", func(gw, g, s []T, K, L int) { ConvWeightGrad(gw, g, s, K, L) },
			func(gw, g, s []T, K, L int) { ConvWeightGradRef(gw, g, s, K, L) }, kernel},
		{"ConvShifted", func(d, s, w []T, K, L int) { ConvShifted(d, shifted(s, K, L), w, K, L) },
			func(d, s, w []T, K, L int) { ConvPlaneRef(d, s, w, K, L) }, plane},
		{"ConvShiftedAdjoint", func(d, s, w []T, K, L int) { ConvShiftedAdjoint(d, shifted(s, K, L), w, K, L) },
			func(d, s, w []T, K, L int) { ConvPlaneAdjointRef(d, s, w, K, L) }, plane},
		{"ConvWeightGradShifted", func(gw, g, s []T, K, L int) { ConvWeightGradShifted(gw, g, shifted(s, K, L), K, L) },
			func(gw, g, s []T, K, L int) { ConvWeightGradRef(gw, g, s, K, L) }, kernel},
	}
}

// shifted returns the shifted-row copies of the plane src.
func shifted[T Float](src []T, K, L int) []T {
	s := make([]T, ShiftedLen(K, L))
	ShiftRowsTo(s, src, K, L)
	return s
}

// namedFloat takes the plain-loop fallback of Axpy and Dot.
type namedFloat float32

func testKernelsAgainstRef[T Float](t *testing.T, tol float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range pairs[T]() {
		for _, K := range kernelSizes {
			for _, L := range extents {
				t.Run(fmt.Sprintf("%s/K=%d/L=%d", p.name, K, L), func(t *testing.T) {
					n := p.dstLen(K, L)
					// ConvWeightGrad takes (gw, g, src); the others (dst, src, w).
					var a, b []T
					if strings.HasPrefix(p.name, "ConvWeightGrad") {
						a, b = randSlice[T](rng, L*L), randSlice[T](rng, L*L)
					} else {
						a, b = randSlice[T](rng, L*L), randSlice[T](rng, K*K)
					}
					// Start from a nonzero destination: the kernels accumulate.
					got := randSlice[T](rng, n)
					want := append([]T(nil), got...)
					scale := abs(got)
					p.fast(got, a, b, K, L)
					p.ref(want, a, b, K, L)
					p.ref(scale, abs(a), abs(b), K, L)
					if d := maxRelDiff(got, want, scale); d > tol {
						t.Errorf("got max relative difference %.3g from the reference, want <= %.3g", d, tol)
					}
				})
			}
		}
	}
}

func TestKernelsMatchReference(t *testing.T) {
	t.Run("float64", func(t *testing.T) { testKernelsAgainstRef[float64](t, tolFloat64) })
	t.Run("float32", func(t *testing.T) { testKernelsAgainstRef[float32](t, tolFloat32) })
	t.Run("named", func(t *testing.T) { testKernelsAgainstRef[namedFloat](t, tolFloat32) })
}

// TestConvPlaneAdjointIsTranspose checks <g, Conv(s)> = <Adjoint(g), s>,
// which ties the adjoint to the forward kernel independently of the
// reference loops.
func TestConvPlaneAdjointIsTranspose(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, K := range kernelSizes {
		for _, L := range extents {
			s, g, w := randSlice[float64](rng, L*L), randSlice[float64](rng, L*L), randSlice[float64](rng, K*K)
			cs, ag := make([]float64, L*L), make([]float64, L*L)
			ConvPlane(cs, s, w, K, L)
			ConvPlaneAdjoint(ag, g, w, K, L)
			var lhs, rhs, scale float64
			for i := range s {
				lhs += g[i] * cs[i]
				rhs += ag[i] * s[i]
				scale += math.Abs(g[i] * cs[i])
			}
			if math.Abs(lhs-rhs) > tolFloat64*scale {
				t.Errorf("K=%d/L=%d: got <Adjoint(g), s> = %.15g, want <g, Conv(s)> = %.15g", K, L, rhs, lhs)
			}
		}
	}
}

func TestElementwise(t *testing.T) {
	x := []float64{-2, -0.5, 0, 0.5, 2}
	y := make([]float64, len(x))
	LeakyReLUTo(y, x)
	for i, v := range x {
		want := v
		if v <= 0 {
			want = LeakySlope * v
		}
		if y[i] != want {
			t.Errorf("LeakyReLUTo(%g): got %g, want %g", v, y[i], want)
		}
	}
	TanhTo(y, x)
	for i, v := range x {
		if want := math.Tanh(v); y[i] != want {
			t.Errorf("TanhTo(%g): got %g, want %g", v, y[i], want)
		}
	}
	if got, want := Sum(x), 0.0; got != want {
		t.Errorf("Sum: got %g, want %g", got, want)
	}
	// float32: vmath.Tanh32, within half an ULP and a bit of tanh.
	x32 := []float32{-20, -2, -0.5, -1e-5, 0, 1e-30, 0.5, 2, 9, 20}
	y32 := make([]float32, len(x32))
	TanhTo(y32, x32)
	for i, v := range x32 {
		want := float32(math.Tanh(float64(v)))
		if y32[i] != want && y32[i] != math.Nextafter32(want, y32[i]) {
			t.Errorf("TanhTo(float32 %g): got %g, want %g (1 ULP)", v, y32[i], want)
		}
	}
}

func benchKernel(b *testing.B, K, L int, f func(dst, a, c []float32, K, L int)) {
	rng := rand.New(rand.NewPCG(5, 6))
	dst, src, w := randSlice[float32](rng, L*L), randSlice[float32](rng, L*L), randSlice[float32](rng, K*K)
	b.ReportAllocs()
	for b.Loop() {
		f(dst, src, w, K, L)
	}
	b.ReportMetric(float64(2*K*K*L*L)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkConvPlane compares the fast plane kernel with its reference.
func BenchmarkConvPlane(b *testing.B) {
	for _, K := range []int{3, 5} {
		for _, L := range []int{8, 16} {
			b.Run(fmt.Sprintf("K=%d/L=%d/fast", K, L), func(b *testing.B) { benchKernel(b, K, L, ConvPlane[float32]) })
			b.Run(fmt.Sprintf("K=%d/L=%d/ref", K, L), func(b *testing.B) { benchKernel(b, K, L, ConvPlaneRef[float32]) })
		}
	}
}

// BenchmarkConvShifted times the shifted-row kernels per plane: the copies
// (ShiftRowsTo, made once per input channel in a layer) and the
// convolution of one plane (made Cin*Cout times).
func BenchmarkConvShifted(b *testing.B) {
	for _, K := range []int{3, 5} {
		for _, L := range []int{8, 16} {
			rng := rand.New(rand.NewPCG(5, 7))
			s := make([]float32, ShiftedLen(K, L))
			b.Run(fmt.Sprintf("K=%d/L=%d/ShiftRowsTo", K, L), func(b *testing.B) {
				src := randSlice[float32](rng, L*L)
				b.ReportAllocs()
				for b.Loop() {
					ShiftRowsTo(s, src, K, L)
				}
			})
			b.Run(fmt.Sprintf("K=%d/L=%d/ConvShifted", K, L), func(b *testing.B) {
				benchKernel(b, K, L, func(d, _, w []float32, K, L int) { ConvShifted(d, s, w, K, L) })
			})
			b.Run(fmt.Sprintf("K=%d/L=%d/ConvWeightGradShifted", K, L), func(b *testing.B) {
				benchKernel(b, K, L, func(d, _, w []float32, K, L int) { ConvWeightGradShifted(w, d, s, K, L) })
			})
		}
	}
}

// BenchmarkConvWeightGrad compares the fast weight-gradient kernel with its
// reference.
func BenchmarkConvWeightGrad(b *testing.B) {
	for _, K := range []int{3, 5} {
		L := 16
		b.Run(fmt.Sprintf("K=%d/L=%d/fast", K, L), func(b *testing.B) {
			benchKernel(b, K, L, func(d, s, w []float32, K, L int) { ConvWeightGrad(w, d, s, K, L) })
		})
		b.Run(fmt.Sprintf("K=%d/L=%d/ref", K, L), func(b *testing.B) {
			benchKernel(b, K, L, func(d, s, w []float32, K, L int) { ConvWeightGradRef(w, d, s, K, L) })
		})
	}
}
