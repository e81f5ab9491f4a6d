package dataset

import (
	"fmt"
)

// Check refuses a dataset whose chains are not independent, complete Markov
// chains, each with a message naming the chains or parts:
//   - two chains with the same seed and chain id (in two directories): one
//     chain written twice, which would count as two independent replicas
//     and shrink error bars by sqrt(2);
//   - a chain whose parts come from different seeds (parts of two runs);
//   - a chain whose steps are not contiguous from its first step (a gap).
//
// Two chains with the same id and different seeds are independent replicas
// and pass. OpenWith calls Check unless OpenOptions.SkipChecks.
func (d *Dataset) Check() error {
	for _, c := range d.Chains {
		if err := c.checkSeeds(); err != nil {
			return err
		}
		if err := c.checkSteps(); err != nil {
			return err
		}
	}
	type key struct {
		seed uint64
		id   int
	}
	seen := map[key]*Chain{}
	for i := range d.Chains {
		c := &d.Chains[i]
		k := key{c.Meta.Seed, c.ID}
		if prev, ok := seen[k]; ok {
			return fmt.Errorf("dataset: chain %d of %s and chain %d of %s have the same seed %d: they are one Markov chain "+
				"written twice, not independent replicas (give each run its own seed or chain ids)",
				prev.ID, prev.Dir, c.ID, c.Dir, c.Meta.Seed)
		}
		seen[k] = c
	}
	return nil
}

// checkSeeds refuses parts of c from different seeds.
func (c *Chain) checkSeeds() error {
	for _, p := range c.PartInfos {
		if first := c.PartInfos[0]; p.Meta.Seed != first.Meta.Seed {
			return fmt.Errorf("dataset: chain %d of %s mixes seeds: %s has seed %d, %s has seed %d (parts of two runs in one chain)",
				c.ID, c.Dir, first.Path, first.Meta.Seed, p.Path, p.Meta.Seed)
		}
	}
	return nil
}

// checkSteps refuses a gap in the sorted steps of c.
func (c *Chain) checkSteps() error {
	for j := 1; j < len(c.Steps); j++ {
		a, b := c.Steps[j-1], c.Steps[j]
		if b == a+1 {
			continue
		}
		return fmt.Errorf("dataset: chain %d of %s has a gap: no rows for steps %d to %d, between %s and %s",
			c.ID, c.Dir, a+1, b-1, c.partOf(a), c.partOf(b))
	}
	return nil
}

// partOf returns the path of the part of c that holds step.
func (c *Chain) partOf(step int64) string {
	for _, p := range c.PartInfos {
		if p.Rows > 0 && p.FirstStep <= step && step <= p.LastStep {
			return p.Path
		}
	}
	return "?"
}
