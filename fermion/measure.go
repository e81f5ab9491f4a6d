package fermion

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Measurer computes the fermionic observables by conjugate gradient, at
// any L (the dense Determinant stops at MaxDenseL): the pion correlator
// from the two point-source columns of D^-1, and the chiral condensate
// from noise vectors. It uses the links last given to CG.Op.SetLinks and
// holds three vectors of workspace; not safe for concurrent use.
type Measurer struct {
	CG *CG

	src, rhs, col []complex128
}

// NewMeasurer returns a Measurer using cg, a solver of D^dagger D on all
// sites (NewCG). It panics if cg is nil or solves the even-odd Schur
// complement (NewSchurCG), whose solutions are not columns of D^-1.
func NewMeasurer(cg *CG) *Measurer {
	if cg == nil {
		panic("fermion: NewMeasurer: nil CG")
	}
	if cg.Schur() {
		panic("fermion: NewMeasurer: an even-odd CG (NewSchurCG); the measurements need NewCG")
	}
	n := cg.Op.Size()
	return &Measurer{CG: cg, src: make([]complex128, n), rhs: make([]complex128, n), col: make([]complex128, n)}
}

// solveD sets m.col = D^-1 m.src = (D^dagger D)^-1 D^dagger m.src.
func (m *Measurer) solveD() error {
	m.CG.Op.ApplyDaggerTo(m.rhs, m.src)
	_, err := m.CG.SolveTo(m.col, m.rhs)
	return err
}

// PionCorrelatorTo writes C(t) = sum_x1 sum_(a,b) |D^-1((t,x1),a; 0,b)|^2
// (length L) into dst, from two CG solves with point sources at site 0. It
// does not allocate but for the error.
func (m *Measurer) PionCorrelatorTo(dst []float64) error {
	g := m.CG.Op.Geom
	if len(dst) != g.L {
		panic(fmt.Sprintf("fermion: Measurer.PionCorrelatorTo: len(dst)=%d, want L=%d", len(dst), g.L))
	}
	clear(dst)
	for b := range Spin {
		clear(m.src)
		m.src[b] = 1
		if err := m.solveD(); err != nil {
			return fmt.Errorf("fermion: pion correlator, source spin %d: %w", b, err)
		}
		for x := range g.V {
			t, _ := g.Coords(x)
			v0, v1 := m.col[2*x], m.col[2*x+1]
			dst[t] += real(v0)*real(v0) + imag(v0)*imag(v0) + real(v1)*real(v1) + imag(v1)*imag(v1)
		}
	}
	return nil
}

// Condensate returns an unbiased estimate of -(1/V) Tr D^-1 from nNoise
// complex Z2 noise vectors eta (components (+-1 +-i)/sqrt 2, so that
// E[eta eta^dagger] = 1): -(1/V) Re eta^dagger D^-1 eta, averaged. It draws
// one Uint64 from rng per component of each noise vector.
func (m *Measurer) Condensate(rng *rand.Rand, nNoise int) (float64, error) {
	if nNoise < 1 {
		panic(fmt.Sprintf("fermion: Measurer.Condensate: nNoise=%d, want >= 1", nNoise))
	}
	s := 1 / math.Sqrt2
	var sum float64
	for k := range nNoise {
		for i := range m.src {
			r := rng.Uint64()
			re, im := s, s
			if r&1 != 0 {
				re = -s
			}
			if r&2 != 0 {
				im = -s
			}
			m.src[i] = complex(re, im)
		}
		if err := m.solveD(); err != nil {
			return math.NaN(), fmt.Errorf("fermion: condensate, noise vector %d: %w", k, err)
		}
		var tr float64
		for i, e := range m.src {
			c := m.col[i]
			tr += real(e)*real(c) + imag(e)*imag(c)
		}
		sum += tr
	}
	return -sum / float64(nNoise) / float64(m.CG.Op.Geom.V), nil
}

// EffectiveMassTo writes the cosh effective mass of a periodic correlator
// c (length L, even) into dst (length L/2): m(t) solves
//
//	c(t) / c(t+1) = cosh(m (t - L/2)) / cosh(m (t + 1 - L/2)),  t = 0 .. L/2-1,
//
// found by bisection on (0, 50]. Where the ratio is not above 1 or no
// root exists (noise), dst[t] is NaN.
func EffectiveMassTo(dst, c []float64) {
	L := len(c)
	if L%2 != 0 || L < 2 || len(dst) != L/2 {
		panic(fmt.Sprintf("fermion: EffectiveMassTo: len(c)=%d, len(dst)=%d, want L even and L/2", L, len(dst)))
	}
	h := float64(L) / 2
	for t := range dst {
		r := c[t] / c[t+1]
		dst[t] = math.NaN()
		if !(r > 1) || math.IsInf(r, 0) {
			continue
		}
		a, b := float64(t)-h, float64(t)+1-h
		// f(m) = log cosh(m a) - log cosh(m b) - log r grows with m
		// (|a| > |b|), from -log r < 0 at m = 0.
		f := func(m float64) float64 { return logCosh(m*a) - logCosh(m*b) - math.Log(r) }
		lo, hi := 0.0, 50.0
		if f(hi) < 0 {
			continue
		}
		for range 200 {
			mid := (lo + hi) / 2
			if f(mid) < 0 {
				lo = mid
			} else {
				hi = mid
			}
			if hi-lo <= 1e-15*hi {
				break
			}
		}
		dst[t] = (lo + hi) / 2
	}
}

// logCosh returns log cosh x without overflow.
func logCosh(x float64) float64 {
	x = math.Abs(x)
	return x + math.Log1p(math.Exp(-2*x)) - math.Ln2
}
