package sampler

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"

	"latflow/ensemble"
	"latflow/flow"
)

var phi4LeversLong = flag.Bool("phi4levers.long", false, "TestFlowIMHPhi4LeversAgainstHMC also at L=16 with long chains")

// TestFlowIMHPhi4LeversAgainstHMC: independence Metropolis with the phi^4
// flow on the momentum-space Gaussian base, Z2-symmetrized, with a block
// coupling and a spectral layer and ending in the zero-mode spline (the
// levers of the critical-point models), agrees with HMC on every
// observable of the table within 3 sigma at the critical couplings
// kappa 0.27, lambda 0.022.
// The base's G(k) is measured on the configurations of a separate HMC
// chain, as latflow train --base-propagator does. The flow is untrained and
// shifted to favour one sign of the field: the physics is in the accept
// step. A base log density whose quadratic term is off by 10% fails it by
// 7 to 22 sigma, a block coupling whose log|det| is dropped by 4 to 13
// sigma. (A log q_s replaced by the log q of the unflipped draw would not:
// with the flip drawn independently that is itself a valid
// auxiliary-variable proposal. Nor would a spectral layer's log|det|,
// constant in x, which cancels in the acceptance: TestSpectralFlowNormalized
// in flow checks it. Its inverse replaced by its forward map moves U_4 by
// 2.9 sigma and |m| by 2.5 at these gentle parameters, within the
// tolerance.) L=8 always; L=16 with -phi4levers.long.
func TestFlowIMHPhi4LeversAgainstHMC(t *testing.T) {
	sizes := []struct{ L, n int }{{8, 20000}}
	if testing.Short() {
		sizes[0].n = 8000
	}
	if *phi4LeversLong {
		sizes = []struct{ L, n int }{{8, 100000}, {16, 100000}}
	}
	for _, s := range sizes {
		tg := ensemble.NewPhi4Hopping(s.L, 0.27, 0.022)
		hmcUpdate := func(seed uint64, c int) (Update, error) {
			return NewHMCUpdate(HMC{Tau: 4, Steps: 20}, tg.Action(tg.Geometry()), tg.Size(), NewStream(seed, c, StreamHMC), HMCOptions{Tune: true, Jitter: 0.2})
		}
		// The propagator from 400 configurations of a chain of its own.
		u, err := hmcUpdate(40, 0)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float64, tg.Size())
		var configs []float64
		for i := range 1400 {
			if _, err := u.Step(x); err != nil {
				t.Fatal(err)
			}
			if i >= 200 && i%3 == 0 {
				configs = append(configs, x...)
			}
		}
		g := make([]float64, tg.Size())
		if err := flow.MeasurePropagator(g, s.L, configs); err != nil {
			t.Fatal(err)
		}
		cfg := flow.Config{Theory: tg.Theory, L: s.L, Layers: 2, Hidden: []int{4}, Kernel: 3,
			Base: flow.BaseGaussK, BasePropagator: g, Z2: true, Init: flow.InitIdentity,
			ZeroModeBins: 4, ZeroModeBound: 2, Blocks: []int{2}, Spectral: 4}
		f, err := flow.New[float64](cfg, rand.New(rand.NewPCG(5, 0)))
		if err != nil {
			t.Fatal(err)
		}
		// Make q far from even: the layers start as the identity, and the
		// bias of each coupling's shift channel (the last parameter of its
		// conditioner: W then B per convolution, output channels s, t)
		// moves the active sites by tanh(0.6) = 0.54, so q is the base
		// shifted towards positive m, q_s the mixture of both signs (a fair
		// proposal where |m| is about 0.9), and only a right log q_s gives
		// the right answer. The zero-mode spline, last, gets parameters
		// that reshape the distribution of m. The block coupling, after the
		// couplings and with a conditioner of their shape, moves and scales
		// the 2x2 block means by parameters drawn at random, and the
		// spectral layer after it scales each momentum mode by
		// exp(theta(k)), its node values drawn from N(0, 0.05^2).
		p := make([]float64, f.NumParams())
		f.GetParams(p)
		nz := 3*cfg.ZeroModeBins - 1
		zr := rand.New(rand.NewPCG(6, 0))
		for i := len(p) - nz; i < len(p); i++ {
			p[i] = 0.5 * zr.NormFloat64()
		}
		ns := flow.SpectralParams(cfg.Spectral)
		layers := cfg.Layers + len(cfg.Blocks)
		per := (len(p) - nz - ns) / layers
		if per*layers != len(p)-nz-ns {
			t.Fatalf("%d parameters are not %d layers of one shape, %d spectral and %d zero-mode ones", len(p), layers, ns, nz)
		}
		for l := range cfg.Layers {
			p[(l+1)*per-1] = 0.6
		}
		for i := cfg.Layers * per; i < layers*per+ns; i++ {
			p[i] += 0.05 * zr.NormFloat64()
		}
		f.SetParams(p)
		imh := runFlowChain(t, tg, f, s.n)
		r := &Run{Target: tg, Seed: 12, Chains: 2, N: s.n, Therm: 200}
		r.NewUpdate = func(c int) (Update, error) { return hmcUpdate(r.Seed, c) }
		hmc, err := r.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		agreeIMHHMC(t, fmt.Sprintf("L=%d ", s.L), tg, imh, hmc)
	}
}
