package fermion

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"latflow/lattice"
)

const (
	// pfCGTol is the CG tolerance of the derivative tests: the CG error of
	// S_pf (about pfCGTol |phi|^2 / lambda_min) divided by the FD step must
	// stay below pfForceFDTol.
	pfCGTol = 1e-14
	// pfForceFDTol bounds |force - FD| relative to max |force|.
	pfForceFDTol = 1e-6
)

// forceFD compares act's force with central differences of its action on
// every link and returns the largest force.
func forceFD(t *testing.T, act lattice.Action, links []float64, tol float64) {
	t.Helper()
	force := make([]float64, len(links))
	act.ForceTo(force, links)
	var scale float64
	for _, f := range force {
		scale = max(scale, math.Abs(f))
	}
	if scale < 1e-3 {
		t.Fatalf("max |force| = %g: the test cannot fail", scale)
	}
	x := append([]float64(nil), links...)
	for l := range x {
		x[l] = links[l] + gradFDStep
		sp := act.Action(x)
		x[l] = links[l] - gradFDStep
		sm := act.Action(x)
		x[l] = links[l]
		fd := (sp - sm) / (2 * gradFDStep)
		if d := math.Abs(force[l] - fd); d > tol*scale {
			t.Errorf("link %d: got force %.10g, want FD %.10g (diff %.2g, scale %.3g)", l, force[l], fd, d, scale)
		}
	}
}

func TestPseudofermionForceFD(t *testing.T) {
	for _, L := range []int{3, 4, 6} {
		for _, kappa := range []float64{0.2, 0.27} {
			t.Run(fmt.Sprintf("L=%d/kappa=%g", L, kappa), func(t *testing.T) {
				g := lattice.NewGeometry(L)
				act := NewPseudofermionAction(g, 1.5, kappa, pfCGTol, 100*g.V)
				links := randomLinks(g, uint64(L)+uint64(100*kappa))
				act.Refresh(links, rand.New(rand.NewPCG(uint64(L), 3)))
				// Move away from the point of the refresh, where S_pf is
				// stationary in no particular way but chi is known.
				for i := range links {
					links[i] += 0.3 * math.Sin(float64(i))
				}
				forceFD(t, act, links, pfForceFDTol)
				if err := act.Err(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestExactActionForceFD(t *testing.T) {
	for _, L := range []int{3, 4} {
		t.Run(fmt.Sprintf("L=%d", L), func(t *testing.T) {
			g := lattice.NewGeometry(L)
			act, err := NewExactAction(g, 1.5, 0.25, DefaultMethod(L))
			if err != nil {
				t.Fatal(err)
			}
			forceFD(t, act, randomLinks(g, uint64(L)+40), gradFDTol)
		})
	}
}

// TestPseudofermionRefresh checks the heat bath: right after Refresh,
// S_pf = chi^dagger chi, whose mean over chi is n = 2V (each complex
// component contributes |chi_i|^2 with mean 1, variance 1), so that phi has
// the normalized density exp(-phi^dagger (D^dagger D)^-1 phi) /
// det(D^dagger D).
func TestPseudofermionRefresh(t *testing.T) {
	const L, N = 4, 4000
	g := lattice.NewGeometry(L)
	act := NewPseudofermionAction(g, 2, 0.24, 1e-12, 1000)
	links := randomLinks(g, 8)
	rng := rand.New(rand.NewPCG(4, 4))
	sg := act.Gauge.Action(links)
	var sum float64
	for range N {
		act.Refresh(links, rng)
		sum += act.Action(links) - sg
	}
	if err := act.Err(); err != nil {
		t.Fatal(err)
	}
	n := float64(2 * g.V)
	mean, sigma := sum/N, math.Sqrt(n/N)
	if math.Abs(mean-n) > 4*sigma {
		t.Errorf("<S_pf> after refresh: got %.3f, want %g +- %.3f (4 sigma)", mean, n, 4*sigma)
	}
}

// TestPseudofermionCGFailure checks that a CG that cannot converge makes
// Action NaN and sets Err with the iteration count.
func TestPseudofermionCGFailure(t *testing.T) {
	g := lattice.NewGeometry(4)
	act := NewPseudofermionAction(g, 2, 0.25, 1e-14, 2)
	links := randomLinks(g, 1)
	act.Refresh(links, rand.New(rand.NewPCG(1, 1)))
	if s := act.Action(links); !math.IsNaN(s) {
		t.Errorf("Action with 2 CG iterations: got %g, want NaN", s)
	}
	if act.Err() == nil {
		t.Errorf("Err: got nil, want the CG failure")
	}
	act.Refresh(links, rand.New(rand.NewPCG(1, 1)))
	if act.Err() != nil {
		t.Errorf("Err after Refresh: got %v, want nil", act.Err())
	}
}

// TestExactActionConcurrent calls Action and ForceTo from several
// goroutines at once (as the IMH workers do) and compares with sequential
// calls; run with -race to check the free list.
func TestExactActionConcurrent(t *testing.T) {
	const L, workers, per = 4, 4, 20
	g := lattice.NewGeometry(L)
	act, err := NewExactAction(g, 2, 0.24, EvenOdd)
	if err != nil {
		t.Fatal(err)
	}
	configs := make([][]float64, workers*per)
	want := make([]float64, len(configs))
	wantF := make([][]float64, len(configs))
	for i := range configs {
		configs[i] = randomLinks(g, uint64(i)+100)
		want[i] = act.Action(configs[i])
		wantF[i] = make([]float64, 2*g.V)
		act.ForceTo(wantF[i], configs[i])
	}
	got := make([]float64, len(configs))
	gotF := make([][]float64, len(configs))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(configs); i += workers {
				got[i] = act.Action(configs[i])
				gotF[i] = make([]float64, 2*g.V)
				act.ForceTo(gotF[i], configs[i])
			}
		}()
	}
	wg.Wait()
	for i := range configs {
		if got[i] != want[i] {
			t.Errorf("config %d: concurrent action %v, want %v", i, got[i], want[i])
		}
		for l := range gotF[i] {
			if gotF[i][l] != wantF[i][l] {
				t.Fatalf("config %d link %d: concurrent force %v, want %v", i, l, gotF[i][l], wantF[i][l])
			}
		}
	}
}
