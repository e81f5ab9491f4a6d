package dataset_test

import (
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"latflow/dataset"
)

// Example writes a short U(1) chain with a configuration every 10 steps and
// a string column, reads it back, and summarizes it as a status command
// would.
func Example() {
	root, err := os.MkdirTemp("", "latflow-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	dir := filepath.Join(root, "u1-L4-beta2")

	const l = 4
	spec := dataset.Spec{
		Meta: dataset.Meta{
			Theory: "u1", L: l, Couplings: map[string]float64{"beta": 2},
			Sampler: "hmc", SamplerSettings: map[string]string{"save_every": "10"},
			Seed: 1, Chain: 0, Version: "example",
		},
		Observables: []string{"plaquette", "topological_charge"},
		Labels:      []string{"update"},
		ConfigName:  dataset.ConfigLinks,
		ConfigSize:  2 * l * l,
	}
	w, err := dataset.Create(dir, spec, dataset.WriterOptions{RowsPerPart: 10})
	if err != nil {
		log.Fatal(err)
	}
	for step := range int64(25) {
		row := dataset.Row{
			Step: step, Accepted: step%4 != 0, Action: -20 - float64(step),
			Obs:    []float64{math.Cos(float64(step)), float64(step % 3)},
			Labels: []string{"flow"},
		}
		if step%5 == 4 {
			row.Labels[0] = "hmc"
		}
		if step%10 == 0 {
			row.Config = make([]float64, spec.ConfigSize)
			row.Config[0] = float64(step) / 10
		}
		if err := w.Append(row); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	ds, err := dataset.OpenWith(dataset.OpenOptions{Configs: true}, dir)
	if err != nil {
		log.Fatal(err)
	}
	c := ds.Chains[0]
	fmt.Printf("%s L=%d beta=%g: %d chain, %d parts, %d rows\n",
		ds.Meta.Theory, ds.Meta.L, ds.Meta.Couplings["beta"], len(ds.Chains), len(c.Parts), len(c.Steps))
	fmt.Printf("plaquette at step 3: %.4f\n", c.Obs["plaquette"][3])
	fmt.Printf("configurations at steps %v, links[0] = %v %v %v\n",
		c.ConfigSteps, c.Configs[0][0], c.Configs[1][0], c.Configs[2][0])
	fmt.Printf("update at steps 3, 4: %s %s\n", c.Labels["update"][3], c.Labels["update"][4])

	chains, err := dataset.Inspect(dir)
	if err != nil {
		log.Fatal(err)
	}
	for _, ch := range chains {
		fmt.Printf("chain %d: %d rows, steps %d to %d, %d configurations, %d parts; resume at part %d\n",
			ch.ID, ch.Rows, ch.FirstStep, ch.LastStep, ch.Configs, len(ch.Parts), ch.NextPart)
	}
	// Output:
	// u1 L=4 beta=2: 1 chain, 3 parts, 25 rows
	// plaquette at step 3: -0.9900
	// configurations at steps [0 10 20], links[0] = 0 1 2
	// update at steps 3, 4: flow hmc
	// chain 0: 25 rows, steps 0 to 24, 3 configurations, 3 parts; resume at part 3
}
