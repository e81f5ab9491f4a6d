package couplings

import "testing"

func TestFirstDiff(t *testing.T) {
	cases := []struct {
		name string
		a, b map[string]float64
		want Diff
	}{
		{"equal", map[string]float64{"beta": 2}, map[string]float64{"beta": 2}, Diff{}},
		{"both empty", nil, map[string]float64{}, Diff{}},
		{"value", map[string]float64{"m2": -4, "lambda": 8}, map[string]float64{"m2": -4, "lambda": 7},
			Diff{Name: "lambda", A: 8, B: 7, InA: true, InB: true, Differ: true}},
		{"first in name order", map[string]float64{"m2": 1, "lambda": 1}, map[string]float64{"m2": 2, "lambda": 2},
			Diff{Name: "lambda", A: 1, B: 2, InA: true, InB: true, Differ: true}},
		{"only in b", map[string]float64{"lambda": 1}, map[string]float64{"lambda": 1, "kappa": 0.3},
			Diff{Name: "kappa", B: 0.3, InB: true, Differ: true}},
		{"only in a", map[string]float64{"m2": -4}, nil, Diff{Name: "m2", A: -4, InA: true, Differ: true}},
	}
	for _, tc := range cases {
		if got := FirstDiff(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
