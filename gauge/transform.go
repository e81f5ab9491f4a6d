package gauge

import (
	"fmt"

	"latflow/lattice"
)

// GaugeTransformTo writes the gauge transform of links by the site angles
// alpha (length V) into dst:
// theta_mu(n) -> Wrap(theta_mu(n) + alpha(n) - alpha(n+e_mu)).
// dst may be links itself (the update is link by link).
func GaugeTransformTo(dst []float64, g *lattice.Geometry, links, alpha []float64) {
	checkLinks("GaugeTransformTo", g, links)
	if len(dst) != len(links) {
		panic(fmt.Sprintf("gauge: GaugeTransformTo: len(dst)=%d, want 2V=%d", len(dst), len(links)))
	}
	if len(alpha) != g.V {
		panic(fmt.Sprintf("gauge: GaugeTransformTo: len(alpha)=%d, want V=%d", len(alpha), g.V))
	}
	V := g.V
	for mu := range lattice.Dim {
		up := g.UpTable(mu)[:V]
		src, out := links[mu*V:(mu+1)*V], dst[mu*V:(mu+1)*V]
		for n := range V {
			out[n] = Wrap(src[n] + alpha[n] - alpha[up[n]])
		}
	}
}
