package flow

import (
	"fmt"
	"math/rand/v2"

	"latflow/nn"
)

// Theory names accepted in Config.Theory.
const (
	// TheoryPhi4 is two-dimensional phi^4 theory (RealNVP flow, normal base).
	TheoryPhi4 = "phi4"
	// TheoryU1 is two-dimensional U(1) gauge theory (gauge-equivariant flow,
	// uniform base).
	TheoryU1 = "u1"
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
}

// DefaultConfig returns the published architecture for theory on an L x L
// lattice: for u1, 24 layers, 6 mixture components, hidden [8, 8], kernel 3
// (Kanwar et al.); for phi4, 16 layers, hidden [8, 8], kernel 3 (Albergo et
// al.). For an unknown theory it returns a Config that fails Validate.
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
	return nil
}

// New builds the flow described by cfg (NewPhi4Flow or NewU1Flow) with
// parameters initialized from rng (nn.Net.InitRandom, layer by layer in
// order). It returns the error of cfg.Validate for an invalid cfg.
func New[T nn.Float](cfg Config, rng *rand.Rand) (*Flow[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Theory == TheoryU1 {
		return NewU1Flow[T](cfg, rng)
	}
	return NewPhi4Flow[T](cfg, rng)
}
