package flow

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// BaseGaussK is the Gaussian base of the phi^4 flow diagonal in momentum
// space (GaussKBase), with the propagator Config.BasePropagator.
const BaseGaussK = "gauss-k"

// GaussKBase is a Gaussian on the L x L periodic lattice that is diagonal
// in momentum space, the phi^4 analogue of the plaquette base of U(1).
// With the unitary transform phi_k = V^(-1/2) sum_x exp(-i k.x) phi(x),
// k = 2pi (n0, n1)/L, the modes are independent with <|phi_k|^2> = G(k):
//
//	log q0(phi) = -(1/2) sum_k |phi_k|^2 / G(k) - (1/2) sum_k log(2pi G(k)),
//
// the sum over all V momenta. In the real orthonormal basis of the field
// (phi_k real at the V-invariant momenta k = -k mod 2pi; sqrt(2) Re phi_k
// and sqrt(2) Im phi_k for each pair k, -k) every coordinate is N(0, G(k)),
// and the basis change from phi(x) is orthogonal, so there is no Jacobian
// and this density is normalized on R^V. Equivalently q0 = N(0, C) with
// the circulant covariance C = U^H diag(G) U. Then
//
//	d log q0/dphi = -C^-1 phi = -U^H (phi_k / G(k)),
//	draw: phi = U^H (sqrt(G(k)) U xi) with xi white noise in x space,
//
// each by two 2D FFTs (separable: L row and L column transforms, fft2).
// G must be even, G(k) = G(-k), so that these maps are real.
//
// A GaussKBase is immutable and safe for concurrent use; it keeps its FFT
// workspace in a pool, so its methods do not allocate once warm.
type GaussKBase struct {
	l              int
	g, sqrtG, invG []float64
	logNorm        float64
	pool           *scratchPool[gaussKScratch]
}

var _ Base = GaussKBase{}

// gaussKScratch is the workspace of one GaussKBase call.
type gaussKScratch struct {
	ft *fft2
	c  []complex128
}

// NewGaussKBase returns the momentum-space Gaussian base on the L x L
// lattice with propagator G (V = L^2 values, G[n0*L + n1] at
// k = 2pi (n0, n1)/L). It returns an error unless every G is finite and
// positive and G is even, G(-k) = G(k) within a relative 1e-9.
func NewGaussKBase(L int, G []float64) (GaussKBase, error) {
	if L < 1 || len(G) != L*L {
		return GaussKBase{}, fmt.Errorf("flow: gauss-k base: %d propagator values, want L*L=%d", len(G), L*L)
	}
	b := GaussKBase{l: L, g: append([]float64(nil), G...), sqrtG: make([]float64, len(G)), invG: make([]float64, len(G))}
	for n0 := range L {
		for n1 := range L {
			k := n0*L + n1
			v := G[k]
			if !(v > 0) || math.IsInf(v, 1) {
				return GaussKBase{}, fmt.Errorf("flow: gauss-k base: propagator G(n=(%d,%d))=%g, want finite and > 0", n0, n1, v)
			}
			m := (L-n0)%L*L + (L-n1)%L
			if math.Abs(G[m]-v) > 1e-9*v {
				return GaussKBase{}, fmt.Errorf("flow: gauss-k base: propagator not even: G(n=(%d,%d))=%g, G(-n)=%g", n0, n1, v, G[m])
			}
			b.sqrtG[k] = math.Sqrt(v)
			b.invG[k] = 1 / v
			b.logNorm -= 0.5 * math.Log(2*math.Pi*v)
		}
	}
	b.pool = newScratchPool(func() *gaussKScratch {
		return &gaussKScratch{ft: newFFT2(L), c: make([]complex128, L*L)}
	})
	return b, nil
}

// String returns "gauss-k".
func (GaussKBase) String() string { return BaseGaussK }

// L returns the lattice extent.
func (b GaussKBase) L() int { return b.l }

// Propagator returns a copy of G.
func (b GaussKBase) Propagator() []float64 { return append([]float64(nil), b.g...) }

// SampleTo draws V white-noise numbers rng.NormFloat64() in site order and
// filters them with sqrt(G) in momentum space.
func (b GaussKBase) SampleTo(z []float64, rng *rand.Rand) {
	b.check("SampleTo", z)
	for i := range z {
		z[i] = rng.NormFloat64()
	}
	b.filter(z, z, b.sqrtG)
}

// LogDensity returns log q0(z).
func (b GaussKBase) LogDensity(z []float64) float64 {
	b.check("LogDensity", z)
	ws := b.pool.get()
	defer b.pool.put(ws)
	dftTo(ws.ft, ws.c, z)
	var sum float64
	for k, c := range ws.c {
		sum += (real(c)*real(c) + imag(c)*imag(c)) * b.invG[k]
	}
	return -0.5*sum/float64(len(z)) + b.logNorm
}

// ScoreTo writes d log q0/dz = -U^H (z_k / G(k)) into dst.
func (b GaussKBase) ScoreTo(dst, z []float64) {
	checkScore("GaussKBase", dst, z)
	b.check("ScoreTo", z)
	b.filter(dst, z, b.invG)
	for i, v := range dst {
		dst[i] = -v
	}
}

func (GaussKBase) angles() bool { return false }

func (b GaussKBase) check(op string, z []float64) {
	if len(z) != b.l*b.l {
		panic(fmt.Sprintf("flow: GaussKBase.%s: len(z)=%d, want V=%d", op, len(z), b.l*b.l))
	}
}

// filter writes dst = U^H diag(h) U src (dst may be src) for an even h.
func (b GaussKBase) filter(dst, src, h []float64) {
	ws := b.pool.get()
	defer b.pool.put(ws)
	dftTo(ws.ft, ws.c, src)
	filterBackTo(ws.ft, dst, ws.c, h)
}

// MeasurePropagator writes into dst (L*L values, G[n0*L + n1]) the
// propagator G(k) = <|phi_k|^2> of the configurations in configs (any
// number of L x L fields back to back, e.g. an HMC run), averaged over the
// symmetries of the square lattice (n0 <-> n1, n_mu -> -n_mu), so it is
// even and has the lattice's symmetry. It returns an error for an empty
// or ragged configs or a G that is not positive (a constant field).
func MeasurePropagator(dst []float64, L int, configs []float64) error {
	V := L * L
	if len(dst) != V {
		panic(fmt.Sprintf("flow: MeasurePropagator: len(dst)=%d, want L*L=%d", len(dst), V))
	}
	if len(configs) == 0 || len(configs)%V != 0 {
		return fmt.Errorf("flow: measure propagator: %d numbers, want a positive multiple of L*L=%d", len(configs), V)
	}
	one := make([]float64, V)
	for i := range one {
		one[i] = 1
	}
	b, err := NewGaussKBase(L, one)
	if err != nil {
		return err
	}
	ws := b.pool.get()
	raw := make([]float64, V)
	N := len(configs) / V
	for c := range N {
		dftTo(ws.ft, ws.c, configs[c*V:(c+1)*V])
		for k, v := range ws.c {
			raw[k] += (real(v)*real(v) + imag(v)*imag(v)) / float64(V*N)
		}
	}
	for n0 := range L {
		for n1 := range L {
			var sum float64
			for _, p := range [][2]int{{n0, n1}, {n1, n0}} {
				for _, s := range [][2]int{{1, 1}, {1, -1}, {-1, 1}, {-1, -1}} {
					m0 := ((s[0]*p[0])%L + L) % L
					m1 := ((s[1]*p[1])%L + L) % L
					sum += raw[m0*L+m1]
				}
			}
			dst[n0*L+n1] = sum / 8
			if !(dst[n0*L+n1] > 0) {
				return fmt.Errorf("flow: measure propagator: G(n=(%d,%d))=%g from %d configurations, want > 0", n0, n1, dst[n0*L+n1], N)
			}
		}
	}
	return nil
}
