package telemetry

import (
	"slices"

	"go.opentelemetry.io/otel/attribute"
)

// Span attribute keys describing a run; see the package documentation.
const (
	KeyTheory = attribute.Key("latflow.theory")
	KeyL      = attribute.Key("latflow.L")
	// keyPrefix prefixes coupling names: latflow.beta, latflow.m2, ...
	keyPrefix = "latflow."
)

// CouplingKey returns the attribute key of a coupling, latflow.<name>.
func CouplingKey(name string) attribute.Key {
	if name == "" {
		panic("telemetry: empty coupling name")
	}
	if k := attribute.Key(keyPrefix + name); k == KeyTheory || k == KeyL {
		panic("telemetry: coupling name " + name + " collides with " + string(k))
	}
	return attribute.Key(keyPrefix + name)
}

// RunAttributes returns the attributes of a run: its theory, the lattice
// extent L and one attribute per coupling, in sorted order of coupling names.
func RunAttributes(theory string, L int, couplings map[string]float64) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 2+len(couplings))
	attrs = append(attrs, KeyTheory.String(theory), KeyL.Int(L))
	names := make([]string, 0, len(couplings))
	for name := range couplings {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		attrs = append(attrs, CouplingKey(name).Float64(couplings[name]))
	}
	return attrs
}
