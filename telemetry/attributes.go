package telemetry

import (
	"math"
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
	k := attribute.Key(keyPrefix + name)
	switch k {
	case KeyTheory, KeyL, KeySteps, KeyAcceptance, KeyESS, KeyLogZ, KeyLogZError:
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

// Keys of the totals of a run, set on its run span by Totals.Attributes.
const (
	KeySteps      = attribute.Key("latflow.steps")
	KeyAcceptance = attribute.Key("latflow.acceptance")
	KeyESS        = attribute.Key("latflow.ess")
	KeyLogZ       = attribute.Key("latflow.log_z")
	KeyLogZError  = attribute.Key("latflow.log_z_error")
)

// Totals are the results of a whole run, for its run span. A NaN (or other
// non-finite) value means the run has no such total and is left out.
type Totals struct {
	// Steps is what the run did: measurements of all chains (hmc,
	// sample, analyze) or training steps (train).
	Steps int64
	// Acceptance is the acceptance rate of the chains' proposals (of the
	// flow's, for independence Metropolis and a training evaluation).
	Acceptance float64
	// ESS is ESS/N of the flow's importance weights.
	ESS float64
	// LogZ is the importance-sampling estimate of log Z, with its error.
	LogZ, LogZError float64
}

// Attributes returns the totals as span attributes: latflow.steps (int),
// and latflow.acceptance, latflow.ess, latflow.log_z, latflow.log_z_error
// (float) where finite.
func (t Totals) Attributes() []attribute.KeyValue {
	attrs := []attribute.KeyValue{KeySteps.Int64(t.Steps)}
	for _, f := range []struct {
		k attribute.Key
		v float64
	}{{KeyAcceptance, t.Acceptance}, {KeyESS, t.ESS}, {KeyLogZ, t.LogZ}, {KeyLogZError, t.LogZError}} {
		if !math.IsNaN(f.v) && !math.IsInf(f.v, 0) {
			attrs = append(attrs, f.k.Float64(f.v))
		}
	}
	return attrs
}
