package flow

import (
	"fmt"
	"math"
	"math/rand/v2"

	"latflow/nn"
)

// Theory names accepted in Config.Theory.
const (
	// TheoryPhi4 is two-dimensional phi^4 theory (RealNVP flow, normal base).
	TheoryPhi4 = "phi4"
	// TheoryU1 is two-dimensional U(1) gauge theory (gauge-equivariant flow,
	// uniform or plaquette base).
	TheoryU1 = "u1"
)

// Constraint modes accepted in Config.BaseMode (see gauge.ConstraintMode).
const (
	// BaseModeRandom constrains a plaquette chosen at random per sample
	// (gauge.ConstraintRandom), the default.
	BaseModeRandom = "random"
	// BaseModeFixed always constrains the last plaquette
	// (gauge.ConstraintFixed).
	BaseModeFixed = "fixed"
)

// Config is the architecture of a flow. It is stored in model files, so
// its fields are part of the file format (JSON names in the tags).
type Config struct {
	// Theory is TheoryPhi4 or TheoryU1.
	Theory string `json:"theory"`
	// L is the lattice extent: even for phi4, a multiple of 4 for u1,
	// at least 4.
	L int `json:"L"`
	// Layers is the number of coupling layers, at least 1.
	Layers int `json:"layers"`
	// Mixtures is the number of non-compact projections mixed in each
	// U(1) coupling, at least 1; unused for phi4.
	Mixtures int `json:"mixtures"`
	// Hidden lists the hidden channel counts of each conditioner CNN
	// (may be empty: one convolution from input to output channels).
	Hidden []int `json:"hidden"`
	// Kernel is the odd convolution kernel size, 1 <= Kernel <= L.
	Kernel int `json:"kernel"`
	// Base names the base distribution q0: BaseUniform or BasePlaquettes
	// for u1, BaseNormal for phi4. Empty means the theory's default,
	// uniform for u1 and normal for phi4 (model files written before the
	// field existed have no base).
	Base string `json:"base,omitempty"`
	// BaseBeta is the coupling of the plaquette base (> 0; only with
	// BasePlaquettes). It belongs to the architecture: a flow trained
	// with the base at beta = 3 keeps it at 3 when it proposes for
	// another beta.
	BaseBeta float64 `json:"base_beta,omitempty"`
	// BaseMode is the constraint mode of the plaquette base, BaseModeRandom
	// (also the meaning of empty) or BaseModeFixed; only with
	// BasePlaquettes.
	BaseMode string `json:"base_mode,omitempty"`
}

// DefaultConfig returns the published architecture for theory on an L x L
// lattice: for u1, 24 layers, 6 mixture components, hidden [8, 8], kernel 3
// (Kanwar et al.); for phi4, 16 layers, hidden [8, 8], kernel 3 (Albergo et
// al.); Base empty (the theory's base).
// For an unknown theory it returns a Config that fails Validate.
func DefaultConfig(theory string, L int) Config {
	c := Config{Theory: theory, L: L, Hidden: []int{8, 8}, Kernel: 3}
	switch theory {
	case TheoryU1:
		c.Layers, c.Mixtures = 24, 6
	case TheoryPhi4:
		c.Layers = 16
	}
	return c
}

// Validate returns an error naming the first invalid field and its allowed
// values, or nil.
func (c Config) Validate() error {
	switch c.Theory {
	case TheoryPhi4, TheoryU1:
	default:
		return fmt.Errorf("flow: config: theory %q, want %q or %q", c.Theory, TheoryPhi4, TheoryU1)
	}
	if c.L < 4 {
		return fmt.Errorf("flow: config: L=%d, want L >= 4", c.L)
	}
	if c.Theory == TheoryPhi4 && c.L%2 != 0 {
		return fmt.Errorf("flow: config: L=%d, want an even L for theory %q (checkerboard couplings)", c.L, c.Theory)
	}
	if c.Theory == TheoryU1 && c.L%4 != 0 {
		return fmt.Errorf("flow: config: L=%d, want a multiple of 4 for theory %q (stripe masks)", c.L, c.Theory)
	}
	if c.Layers < 1 {
		return fmt.Errorf("flow: config: layers=%d, want layers >= 1", c.Layers)
	}
	if c.Theory == TheoryU1 && c.Mixtures < 1 {
		return fmt.Errorf("flow: config: mixtures=%d, want mixtures >= 1 for theory %q", c.Mixtures, c.Theory)
	}
	for i, h := range c.Hidden {
		if h < 1 {
			return fmt.Errorf("flow: config: hidden[%d]=%d, want hidden channel counts >= 1", i, h)
		}
	}
	if c.Kernel < 1 || c.Kernel%2 == 0 || c.Kernel > c.L {
		return fmt.Errorf("flow: config: kernel=%d, want an odd kernel with 1 <= kernel <= L=%d", c.Kernel, c.L)
	}
	return c.validateBase()
}

// validateBase checks Base, BaseBeta and BaseMode.
func (c Config) validateBase() error {
	switch {
	case c.Theory == TheoryU1 && (c.Base == "" || c.Base == BaseUniform || c.Base == BasePlaquettes):
	case c.Theory == TheoryPhi4 && (c.Base == "" || c.Base == BaseNormal):
	case c.Theory == TheoryU1:
		return fmt.Errorf("flow: config: base %q, want %q or %q for theory %q", c.Base, BaseUniform, BasePlaquettes, c.Theory)
	default:
		return fmt.Errorf("flow: config: base %q, want %q for theory %q", c.Base, BaseNormal, c.Theory)
	}
	if c.Base != BasePlaquettes {
		if c.BaseBeta != 0 || c.BaseMode != "" {
			return fmt.Errorf("flow: config: base_beta=%g, base_mode %q, want neither for base %q (only for %q)",
				c.BaseBeta, c.BaseMode, c.BaseName(), BasePlaquettes)
		}
		return nil
	}
	if !(c.BaseBeta > 0) || math.IsInf(c.BaseBeta, 1) {
		return fmt.Errorf("flow: config: base_beta=%g, want a finite base_beta > 0 for base %q", c.BaseBeta, BasePlaquettes)
	}
	switch c.BaseMode {
	case "", BaseModeRandom, BaseModeFixed:
	default:
		return fmt.Errorf("flow: config: base_mode %q, want %q or %q for base %q", c.BaseMode, BaseModeRandom, BaseModeFixed, BasePlaquettes)
	}
	return nil
}

// BaseName returns the name of the base distribution of c: c.Base, or
// for an empty Base the theory's default (BaseUniform for u1, BaseNormal
// for phi4, "" for an unknown theory).
func (c Config) BaseName() string {
	if c.Base != "" {
		return c.Base
	}
	switch c.Theory {
	case TheoryU1:
		return BaseUniform
	case TheoryPhi4:
		return BaseNormal
	}
	return ""
}

// Canonical returns c with the defaults of its empty fields spelled out
// (Base, BaseMode for the plaquette base) and an empty Hidden as nil, so
// that two configs of the same architecture compare equal.
func (c Config) Canonical() Config {
	c.Base = c.BaseName()
	if c.Base == BasePlaquettes && c.BaseMode == "" {
		c.BaseMode = BaseModeRandom
	}
	if len(c.Hidden) == 0 {
		c.Hidden = nil
	}
	return c
}

// New builds the flow described by cfg (NewPhi4Flow or NewU1Flow) with its
// base distribution (NewBase) and parameters initialized from rng
// (nn.Net.InitRandom, layer by layer in order). It returns the error of
// cfg.Validate for an invalid cfg.
func New[T nn.Float](cfg Config, rng *rand.Rand) (*Flow[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Theory == TheoryU1 {
		return NewU1Flow[T](cfg, rng)
	}
	return NewPhi4Flow[T](cfg, rng)
}
