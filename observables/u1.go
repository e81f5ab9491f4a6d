package observables

import (
	"math"

	"latflow/gauge"
	"latflow/lattice"
)

// U1Measurement holds the per-configuration observables of a U(1) gauge
// field.
type U1Measurement struct {
	// Action is the Wilson action S = -beta sum_x cos P(x).
	Action float64
	// Plaquette is the mean cos P over the sites.
	Plaquette float64
	// Q is the topological charge rounded to the nearest integer, Q2 = Q^2.
	Q, Q2 float64
}

// MeasureU1 returns the observables of the links (length 2V, see package
// gauge) at coupling beta. The lengths are checked by package gauge.
func MeasureU1(g *lattice.Geometry, beta float64, links []float64) U1Measurement {
	q := math.Round(gauge.TopologicalCharge(g, links))
	return U1Measurement{
		Action:    gauge.WilsonAction{Geom: g, Beta: beta}.Action(links),
		Plaquette: gauge.MeanCosPlaquette(g, links),
		Q:         q,
		Q2:        q * q,
	}
}
