package flowtrain_test

import (
	"fmt"
	"math/rand/v2"

	"latflow/flow"
	"latflow/flowtrain"
	"latflow/gauge"
	"latflow/lattice"
)

// The per-sample variance of the forward-KL estimators of a fresh U(1)
// flow on exact samples: far from convergence the fast path gradient is
// much noisier than maximum likelihood (physics.md section 4).
func ExampleGradientVariance() {
	const L, beta, n = 4, 3.0, 256
	cfg := flow.DefaultConfig(flow.TheoryU1, L)
	cfg.Layers, cfg.Mixtures = 4, 2
	f, err := flow.New[float64](cfg, rand.New(rand.NewPCG(7, 0)))
	if err != nil {
		panic(err)
	}
	ex, err := gauge.NewExactSampler(L, beta)
	if err != nil {
		panic(err)
	}
	data := make([]float64, n*f.Size)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range n {
		ex.SampleTo(data[i*f.Size:(i+1)*f.Size], rng)
	}
	target := gauge.WilsonAction{Geom: lattice.NewGeometry(L), Beta: beta}
	v, err := flowtrain.GradientVariance(f, target, flowtrain.Forward,
		[]flowtrain.GradientType{flowtrain.Standard, flowtrain.FastPath}, nil, data, n, 0)
	if err != nil {
		panic(err)
	}
	for _, s := range v {
		fmt.Printf("%-9v trace %5.0f\n", s.Gradient, s.Trace)
	}
	fmt.Printf("ratio fast/standard > 10: %v\n", v[1].Trace > 10*v[0].Trace)
	// Output:
	// standard  trace     3
	// fast-path trace   219
	// ratio fast/standard > 10: true
}
