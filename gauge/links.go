package gauge

import (
	"fmt"
	"math"
	"math/rand/v2"

	"latflow/lattice"
)

// twoPi is 2pi as a float64; every wrap is modulo this value.
const twoPi = 2 * math.Pi

// Wrap returns x modulo 2pi in the canonical range [0, 2pi). NaN and
// infinities give NaN.
func Wrap(x float64) float64 {
	if x >= 0 && x < twoPi {
		return x
	}
	y := math.Mod(x, twoPi)
	if y < 0 {
		y += twoPi
		if y >= twoPi {
			// x was a tiny negative number: -tiny + 2pi rounds to 2pi.
			y = 0
		}
	}
	return y
}

// WrapLinks wraps every angle of links into [0, 2pi) in place.
func WrapLinks(links []float64) {
	for i, x := range links {
		links[i] = Wrap(x)
	}
}

// RandomLinksTo fills dst with independent angles uniform on [0, 2pi), the
// Haar measure of U(1) (a "hot start").
func RandomLinksTo(dst []float64, rng *rand.Rand) {
	if rng == nil {
		panic("gauge: RandomLinksTo: nil *rand.Rand")
	}
	for i := range dst {
		x := twoPi * rng.Float64()
		if x >= twoPi {
			x = 0
		}
		dst[i] = x
	}
}

// checkLinks panics unless links is a configuration on g.
func checkLinks(fn string, g *lattice.Geometry, links []float64) {
	if g == nil {
		panic(fmt.Sprintf("gauge: %s: nil geometry", fn))
	}
	if len(links) != 2*g.V {
		panic(fmt.Sprintf("gauge: %s: len(links)=%d, want 2V=%d", fn, len(links), 2*g.V))
	}
}
