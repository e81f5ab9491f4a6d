package flow_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"latflow/ensemble"
	"latflow/flow"
)

// A phi^4 RealNVP flow: draw samples with their log-density and check it
// against the inverse pass.
func Example() {
	cfg := flow.DefaultConfig(flow.TheoryPhi4, 8)
	f, err := flow.New[float64](cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		fmt.Println(err)
		return
	}
	const B = 4
	x := make([]float64, B*f.Size)
	logq := make([]float64, B)
	f.Sample(rand.New(rand.NewPCG(2, 1)), x, logq, 2)

	check := make([]float64, B)
	if err := f.LogProb(check, x, 2); err != nil {
		fmt.Println(err)
		return
	}
	var maxDiff float64
	for i := range logq {
		maxDiff = math.Max(maxDiff, math.Abs(check[i]-logq[i]))
	}
	fmt.Printf("%d layers, %d parameters, base %v\n", len(f.Layers), f.NumParams(), f.Base)
	fmt.Printf("log q from sampling and from the inverse agree: %v\n", maxDiff < 1e-9)
	// Output:
	// 16 layers, 12960 parameters, base normal
	// log q from sampling and from the inverse agree: true
}

// Save a flow to a model file and build it back as float32.
func ExampleSave() {
	f, _ := flow.New[float64](flow.DefaultConfig(flow.TheoryPhi4, 8), rand.New(rand.NewPCG(1, 1)))
	m := flow.NewModel(f)
	m.Target = ensemble.NewPhi4Standard(m.Config.L, -4, 8)
	b, _ := m.Encode()
	fmt.Printf("model file: %d bytes\n", len(b))

	back, err := flow.Decode("example", b)
	if err != nil {
		fmt.Println(err)
		return
	}
	g, err := flow.Build[float32](back)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(g.Config.Theory, g.Config.L, g.NumParams())
	// Output:
	// model file: 104008 bytes
	// phi4 8 12960
}

// A U(1) flow on the plaquette base (the independent-plaquette proposal at
// beta = 3) that starts as the identity: untrained, its log q is the
// proposal's log density, so it proposes like the proposal.
func ExamplePlaquetteBase() {
	cfg := flow.DefaultConfig(flow.TheoryU1, 8)
	cfg.Base, cfg.BaseBeta, cfg.Init = flow.BasePlaquettes, 3, flow.InitIdentity
	f, err := flow.New[float64](cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		fmt.Println(err)
		return
	}
	x, logq := make([]float64, f.Size), make([]float64, 1)
	f.Sample(rand.New(rand.NewPCG(1, 2)), x, logq, 1)
	fmt.Printf("base %v, log q = %.4f, log q0 = %.4f\n", f.Base, logq[0], f.Base.LogDensity(x))
	// Output:
	// base plaquettes, log q = -183.0235, log q0 = -183.0235
}
