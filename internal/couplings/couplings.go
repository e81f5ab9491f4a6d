// Package couplings compares the coupling sets of two runs (beta; m2,
// lambda; kappa, lambda), as datasets, checkpoints and training data must
// agree on them.
package couplings

import (
	"maps"
	"slices"
)

// Diff is the first coupling, in name order, on which two sets differ: a
// different value, or a name present in one set only.
type Diff struct {
	Name   string
	A, B   float64
	InA    bool // Name is in the first set
	InB    bool // Name is in the second set
	Differ bool // false: the sets are equal
}

// FirstDiff compares a and b exactly (float64 ==) and returns their first
// difference in name order; Differ is false if they are equal.
func FirstDiff(a, b map[string]float64) Diff {
	names := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		x, okA := a[k]
		y, okB := b[k]
		if okA && okB && x == y {
			continue
		}
		return Diff{Name: k, A: x, B: y, InA: okA, InB: okB, Differ: true}
	}
	return Diff{}
}
