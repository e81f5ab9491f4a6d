package lattice

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

const (
	// identityTol is the relative tolerance of two evaluations of the same
	// action that differ only in the order of floating-point operations.
	identityTol = 1e-12
	// fdStep and fdTol are the step and the relative tolerance of the
	// central finite-difference checks (truncation ~ fdStep^2, rounding
	// ~ 1e-16 |S| / fdStep with |S| of order 100).
	fdStep = 1e-5
	fdTol  = 1e-7
)

func randomField(rng *rand.Rand, V int, scale float64) []float64 {
	phi := make([]float64, V)
	for i := range phi {
		phi[i] = scale * rng.NormFloat64()
	}
	return phi
}

func closeRel(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// standardLiteral is S of the standard parametrization written as in
// physics.md section 2, with neighbours from the coordinates.
func standardLiteral(g *Geometry, m2, lambda float64, phi []float64) float64 {
	var s float64
	for x0 := 0; x0 < g.L; x0++ {
		for x1 := 0; x1 < g.L; x1++ {
			f := phi[g.Site(x0, x1)]
			d0 := phi[g.Site(x0+1, x1)] - f
			d1 := phi[g.Site(x0, x1+1)] - f
			s += d0*d0 + d1*d1 + m2*f*f + lambda*f*f*f*f
		}
	}
	return s
}

// hoppingLiteral is S of the hopping parametrization written as in
// physics.md section 2.
func hoppingLiteral(g *Geometry, kappa, lambda float64, phi []float64) float64 {
	var s float64
	for x0 := 0; x0 < g.L; x0++ {
		for x1 := 0; x1 < g.L; x1++ {
			f := phi[g.Site(x0, x1)]
			nb := phi[g.Site(x0+1, x1)] + phi[g.Site(x0, x1+1)]
			s += -2*kappa*f*nb + (1-2*lambda)*f*f + lambda*f*f*f*f
		}
	}
	return s
}

func TestPhi4StandardIdentity(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, L := range []int{2, 3, 4, 8} {
		for _, c := range []struct{ m2, lambda float64 }{{-4, 8}, {1, 0}, {0.5, 0.1}} {
			t.Run(fmt.Sprintf("L=%d/m2=%g/lambda=%g", L, c.m2, c.lambda), func(t *testing.T) {
				g := NewGeometry(L)
				a := NewPhi4Standard(g, c.m2, c.lambda)
				if a.J != 1 || a.A != 4+c.m2 || a.B != c.lambda {
					t.Fatalf("got J=%g A=%g B=%g, want 1, %g, %g", a.J, a.A, a.B, 4+c.m2, c.lambda)
				}
				for trial := 0; trial < 5; trial++ {
					phi := randomField(rng, g.V, 1.5)
					got, want := a.Action(phi), standardLiteral(g, c.m2, c.lambda, phi)
					if !closeRel(got, want, identityTol) {
						t.Errorf("trial %d: got S=%.15g, want %.15g", trial, got, want)
					}
				}
			})
		}
	}
}

func TestPhi4HoppingIdentity(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, L := range []int{2, 3, 4, 8} {
		for _, c := range []struct{ kappa, lambda float64 }{{0.3, 0.022}, {0.2, 0}, {-0.1, 1.1}} {
			t.Run(fmt.Sprintf("L=%d/kappa=%g/lambda=%g", L, c.kappa, c.lambda), func(t *testing.T) {
				g := NewGeometry(L)
				a := NewPhi4Hopping(g, c.kappa, c.lambda)
				for trial := 0; trial < 5; trial++ {
					phi := randomField(rng, g.V, 1.5)
					got, want := a.Action(phi), hoppingLiteral(g, c.kappa, c.lambda, phi)
					if !closeRel(got, want, identityTol) {
						t.Errorf("trial %d: got S=%.15g, want %.15g", trial, got, want)
					}
				}
			})
		}
	}
}

func TestPhi4ForceFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 3))
	for _, L := range []int{2, 3, 6} {
		g := NewGeometry(L)
		for _, a := range []Phi4Action{NewPhi4Standard(g, -4, 8), NewPhi4Hopping(g, 0.3, 0.022)} {
			t.Run(fmt.Sprintf("L=%d/%v", L, a.Param), func(t *testing.T) {
				phi := randomField(rng, g.V, 1)
				force := make([]float64, g.V)
				a.ForceTo(force, phi)
				for n := range phi {
					orig := phi[n]
					phi[n] = orig + fdStep
					sp := a.Action(phi)
					phi[n] = orig - fdStep
					sm := a.Action(phi)
					phi[n] = orig
					fd := (sp - sm) / (2 * fdStep)
					if !closeRel(force[n], fd, fdTol) {
						t.Errorf("site %d: got dS/dphi=%.10g, want %.10g (finite difference)", n, force[n], fd)
					}
				}
			})
		}
	}
}

func TestPhi4String(t *testing.T) {
	g := NewGeometry(4)
	for _, c := range []struct {
		a    Phi4Action
		want string
	}{
		{NewPhi4Standard(g, -4, 8), "phi4 standard m2=-4 lambda=8"},
		{NewPhi4Hopping(g, 0.3, 0.022), "phi4 hopping kappa=0.3 lambda=0.022"},
	} {
		if got := c.a.String(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
	for p, want := range map[Parametrization]string{Standard: "standard", Hopping: "hopping"} {
		if got := p.String(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func expectPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Errorf("%s: got no panic, want a panic", name)
			return
		}
		if msg := fmt.Sprint(r); !strings.HasPrefix(msg, "lattice: ") {
			t.Errorf("%s: got panic %q, want prefix \"lattice: \"", name, msg)
		}
	}()
	f()
}

func TestPhi4Panics(t *testing.T) {
	g := NewGeometry(4)
	a := NewPhi4Standard(g, 1, 1)
	expectPanic(t, "Action short field", func() { a.Action(make([]float64, 15)) })
	expectPanic(t, "ForceTo short dst", func() { a.ForceTo(make([]float64, 15), make([]float64, 16)) })
	expectPanic(t, "ForceTo short field", func() { a.ForceTo(make([]float64, 16), make([]float64, 15)) })
	expectPanic(t, "no geometry", func() { Phi4Action{}.Action(nil) })
}

func BenchmarkPhi4ActionForce(b *testing.B) {
	for _, L := range []int{16, 64} {
		b.Run(fmt.Sprintf("L=%d", L), func(b *testing.B) {
			g := NewGeometry(L)
			a := NewPhi4Standard(g, -4, 8)
			phi := randomField(rand.New(rand.NewPCG(1, 4)), g.V, 1)
			force := make([]float64, g.V)
			var s float64
			b.ReportAllocs()
			for b.Loop() {
				s += a.Action(phi)
				a.ForceTo(force, phi)
			}
			b.ReportMetric(float64(g.V)*float64(b.N)/b.Elapsed().Seconds(), "sites/s")
		})
	}
}
