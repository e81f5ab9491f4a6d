package dataset

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"latflow/internal/couplings"
)

// FormatVersion is the version of the layout that Create writes by default,
// stored under KeyFormat. Open reads FormatVersion1 and FormatVersion2; see
// the package documentation for both.
const FormatVersion = FormatVersion2

// Format versions of the layouts described in the package documentation.
const (
	FormatVersion1 = 1 // configurations as fixed-size lists; no ensemble or string columns
	FormatVersion2 = 2 // configurations as variable-size lists; ensemble and string columns
)

// Schema metadata keys. Couplings and sampler settings are stored under
// KeyCouplingPrefix+name and KeySamplerPrefix+name.
const (
	KeyFormat          = "latflow.format"
	KeyVersion         = "latflow.version"
	KeyTheory          = "latflow.theory"
	KeyL               = "latflow.L"
	KeyCouplingPrefix  = "latflow.coupling."
	KeyParametrization = "latflow.parametrization"
	KeySampler         = "latflow.sampler"
	KeySamplerPrefix   = "latflow.sampler."
	KeySeed            = "latflow.seed"
	KeyChain           = "latflow.chain"
)

// Per-part schema metadata keys of format 2, which describe the rows of the
// part so that Inspect reads them from the file footer alone.
const (
	KeyPartRows      = "latflow.part.rows"       // rows in the part
	KeyPartFirstStep = "latflow.part.first_step" // smallest step
	KeyPartLastStep  = "latflow.part.last_step"  // largest step
	KeyPartConfigs   = "latflow.part.configs"    // non-null configurations
	// KeyPartSeconds is the wall time of the part's steps in seconds, the
	// sum of their Row.Seconds; absent when the steps were not timed (and
	// in parts written before it existed).
	KeyPartSeconds = "latflow.part.seconds"
)

// KeyConfigSize holds the values per configuration (decimal) in format 2,
// whose variable-size list type does not carry it.
const KeyConfigSize = "latflow.config_size"

// Meta describes the chain stored in a part: the ensemble (theory, L,
// parametrization, couplings) and how the chain was produced.
type Meta struct {
	Theory          string             // "u1" or "phi4"
	L               int                // lattice extent
	Couplings       map[string]float64 // e.g. {"beta": 3} or {"kappa": 0.3, "lambda": 0.022}
	Parametrization string             // "standard" or "hopping" for phi^4, "" for U(1)
	Sampler         string             // e.g. "hmc" or "imh"
	SamplerSettings map[string]string  // e.g. {"tau": "1", "steps": "10", "save_every": "10"}
	Seed            uint64
	Chain           int    // chain id, 0 <= Chain <= math.MaxInt32
	Version         string // latflow version
}

// metadataMap returns m with the format version as the key-value pairs of
// Arrow schema metadata.
func (m Meta) metadataMap(format int) map[string]string {
	kv := map[string]string{
		KeyFormat:          strconv.Itoa(format),
		KeyVersion:         m.Version,
		KeyTheory:          m.Theory,
		KeyL:               strconv.Itoa(m.L),
		KeyParametrization: m.Parametrization,
		KeySampler:         m.Sampler,
		KeySeed:            strconv.FormatUint(m.Seed, 10),
		KeyChain:           strconv.Itoa(m.Chain),
	}
	for k, v := range m.Couplings {
		kv[KeyCouplingPrefix+k] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	for k, v := range m.SamplerSettings {
		kv[KeySamplerPrefix+k] = v
	}
	return kv
}

// validate reports the first field of m that cannot be stored.
func (m Meta) validate() error {
	switch {
	case m.Theory == "":
		return fmt.Errorf("dataset: Meta.Theory is empty")
	case m.L <= 0 || m.L > math.MaxInt32:
		return fmt.Errorf("dataset: Meta.L = %d, want 0 < L <= %d", m.L, math.MaxInt32)
	case m.Chain < 0 || m.Chain > math.MaxInt32:
		return fmt.Errorf("dataset: Meta.Chain = %d, want 0 <= Chain <= %d", m.Chain, math.MaxInt32)
	}
	for k, v := range m.Couplings {
		if k == "" {
			return fmt.Errorf("dataset: Meta.Couplings has an empty name")
		}
		if math.IsNaN(v) {
			return fmt.Errorf("dataset: coupling %s is NaN", k)
		}
	}
	for k := range m.SamplerSettings {
		if k == "" {
			return fmt.Errorf("dataset: Meta.SamplerSettings has an empty name")
		}
	}
	return nil
}

// metaFrom decodes the latflow keys of md and the format version; keys of
// other applications are ignored.
func metaFrom(md arrow.Metadata) (Meta, int, error) {
	get := func(k string) (string, error) {
		v, ok := md.GetValue(k)
		if !ok {
			return "", fmt.Errorf("no %s metadata (not a latflow dataset part)", k)
		}
		return v, nil
	}
	fs, err := get(KeyFormat)
	if err != nil {
		return Meta{}, 0, err
	}
	var format int
	switch fs {
	case "1":
		format = FormatVersion1
	case "2":
		format = FormatVersion2
	default:
		return Meta{}, 0, fmt.Errorf("unsupported %s %q (this build reads %d and %d)", KeyFormat, fs, FormatVersion1, FormatVersion2)
	}
	var m Meta
	var l, chain, seed string
	for _, f := range []struct {
		key string
		dst *string
	}{
		{KeyVersion, &m.Version}, {KeyTheory, &m.Theory}, {KeyL, &l},
		{KeyParametrization, &m.Parametrization}, {KeySampler, &m.Sampler},
		{KeySeed, &seed}, {KeyChain, &chain},
	} {
		if *f.dst, err = get(f.key); err != nil {
			return Meta{}, 0, err
		}
	}
	if m.L, err = strconv.Atoi(l); err != nil || m.L <= 0 || m.L > math.MaxInt32 {
		return Meta{}, 0, fmt.Errorf("bad %s %q", KeyL, l)
	}
	if m.Chain, err = strconv.Atoi(chain); err != nil || m.Chain < 0 || m.Chain > math.MaxInt32 {
		return Meta{}, 0, fmt.Errorf("bad %s %q", KeyChain, chain)
	}
	if m.Seed, err = strconv.ParseUint(seed, 10, 64); err != nil {
		return Meta{}, 0, fmt.Errorf("bad %s %q", KeySeed, seed)
	}
	keys, values := md.Keys(), md.Values()
	for i, k := range keys {
		switch {
		case strings.HasPrefix(k, KeyCouplingPrefix):
			v, err := strconv.ParseFloat(values[i], 64)
			if err != nil {
				return Meta{}, 0, fmt.Errorf("bad %s %q", k, values[i])
			}
			if m.Couplings == nil {
				m.Couplings = make(map[string]float64)
			}
			m.Couplings[strings.TrimPrefix(k, KeyCouplingPrefix)] = v
		case strings.HasPrefix(k, KeySamplerPrefix):
			if m.SamplerSettings == nil {
				m.SamplerSettings = make(map[string]string)
			}
			m.SamplerSettings[strings.TrimPrefix(k, KeySamplerPrefix)] = values[i]
		}
	}
	return m, format, nil
}

// ensembleDiff compares the ensemble of a and b: theory, L,
// parametrization and couplings. It returns the name of the first field that
// differs with its two values as "name=value" strings, or what == "" if the
// ensembles are the same.
func ensembleDiff(a, b Meta) (what, va, vb string) {
	switch {
	case a.Theory != b.Theory:
		return "theory", "theory=" + strconv.Quote(a.Theory), "theory=" + strconv.Quote(b.Theory)
	case a.L != b.L:
		return "L", fmt.Sprintf("L=%d", a.L), fmt.Sprintf("L=%d", b.L)
	case a.Parametrization != b.Parametrization:
		return "parametrization", "parametrization=" + strconv.Quote(a.Parametrization),
			"parametrization=" + strconv.Quote(b.Parametrization)
	}
	if d := couplings.FirstDiff(a.Couplings, b.Couplings); d.Differ {
		coupling := func(v float64, ok bool) string {
			if !ok {
				return "no " + d.Name
			}
			return d.Name + "=" + strconv.FormatFloat(v, 'g', -1, 64)
		}
		return "couplings", coupling(d.A, d.InA), coupling(d.B, d.InB)
	}
	return "", "", ""
}

// common returns the fields on which a and b agree; the others are zero.
// The ensemble fields must agree (see ensembleDiff).
func (m Meta) common(o Meta) Meta {
	c := Meta{Theory: m.Theory, L: m.L, Couplings: m.Couplings, Parametrization: m.Parametrization}
	if m.Sampler == o.Sampler {
		c.Sampler = m.Sampler
	}
	if maps.Equal(m.SamplerSettings, o.SamplerSettings) {
		c.SamplerSettings = m.SamplerSettings
	}
	if m.Seed == o.Seed {
		c.Seed = m.Seed
	}
	if m.Chain == o.Chain {
		c.Chain = m.Chain
	}
	if m.Version == o.Version {
		c.Version = m.Version
	}
	return c
}

// clone returns a copy of m that shares no maps with it.
func (m Meta) clone() Meta {
	m.Couplings = maps.Clone(m.Couplings)
	m.SamplerSettings = maps.Clone(m.SamplerSettings)
	return m
}
