package flow

import (
	"fmt"
	"math"
	"math/rand/v2"

	"latflow/ensemble"
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
	// BaseModeSpread draws every plaquette and spreads the defect of the
	// constraint evenly over them (gauge.ConstraintSpread).
	BaseModeSpread = "spread"
)

// Initializations accepted in Config.Init.
const (
	// InitRandom draws every conditioner parameter from the PyTorch
	// default for Conv2d (nn.Net.InitRandom), the default.
	InitRandom = "random"
	// InitIdentity is InitRandom with the last convolution of every
	// conditioner zeroed, so that its outputs vanish and every coupling
	// layer starts as the identity map: the NCP mixture with all s_k = 0 and
	// t = 0 (U(1)), y = x exp(0) + 0 (phi^4). The untrained flow is then
	// its base distribution, and the gradient reaches the last convolution
	// (the hidden activations are not zero), so training leaves the
	// identity.
	InitIdentity = "identity"
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
	// (also the meaning of empty), BaseModeFixed or BaseModeSpread; only
	// with BasePlaquettes.
	BaseMode string `json:"base_mode,omitempty"`
	// BasePropagator is G(k) = <|phi_k|^2> of the momentum-space Gaussian
	// base (only with BaseGaussK, phi4): L*L positive values, G at
	// k = 2pi (n0, n1)/L at index n0*L + n1, even in k (GaussKBase). Like
	// BaseBeta it belongs to the architecture, and to its L.
	BasePropagator []float64 `json:"base_propagator,omitempty"`
	// Init is how New initializes the parameters: InitRandom (also the
	// meaning of empty) or InitIdentity. Build overwrites them with those
	// of the model, so Init records how a model's training started.
	Init string `json:"init,omitempty"`
	// Z2 symmetrizes the flow's density under x -> -x (phi4 only):
	// Sample, SampleScore and LogProb are those of
	// q_s(x) = (q(x) + q(-x))/2 (z2.go); training trains q. Model files
	// written before the field existed are not symmetrized.
	Z2 bool `json:"z2,omitempty"`
	// Coupling is the phi^4 coupling layer: CouplingAffine (also the
	// meaning of empty; model files written before the field existed are
	// affine) or CouplingSpline, the rational-quadratic spline coupling
	// with Bins bins on [-SplineBound, SplineBound] (SplineCoupling).
	Coupling    string  `json:"coupling,omitempty"`
	Bins        int     `json:"bins,omitempty"`
	SplineBound float64 `json:"spline_bound,omitempty"`
	// ZeroModeBins, if not zero, appends a ZeroModeSpline (phi4 only)
	// after the coupling layers: a monotone spline of the magnetization
	// with ZeroModeBins bins on [-ZeroModeBound, ZeroModeBound]. Model
	// files written before the fields existed have no such layer.
	ZeroModeBins  int     `json:"zero_mode_bins,omitempty"`
	ZeroModeBound float64 `json:"zero_mode_bound,omitempty"`
	// Blocks, if not empty, appends one BlockCoupling per entry (phi4
	// only) after the coupling layers and before a zero-mode layer: a
	// coupling of the kind of Coupling, with Hidden and Kernel, on the
	// lattice of the Blocks[i] x Blocks[i] block averages, active coarse
	// parity i%2. Each block size must divide L into an even coarse
	// extent of at least Kernel, at every L the model is built for.
	// Model files written before the field existed have none.
	Blocks []int `json:"blocks,omitempty"`
	// Spectral, if not zero, appends a SpectralScale (phi4 only) after
	// the block couplings, before a zero-mode layer: a linear layer
	// diagonal in momentum space whose log-scale is bilinear between
	// nodes spaced pi/Spectral apart (1 <= Spectral <= MaxSpectralNodes).
	Spectral int `json:"spectral,omitempty"`
}

// Couplings accepted in Config.Coupling (phi4).
const (
	// CouplingAffine is the RealNVP affine coupling, y = x exp(s) + t.
	CouplingAffine = "affine"
	// CouplingSpline is the monotone rational-quadratic spline coupling.
	CouplingSpline = "spline"
)

// Limits of the spline coupling's Bins and SplineBound.
const (
	MinSplineBins  = 2
	MaxSplineBins  = 64
	MaxSplineBound = 1000
)

// TheoryFor returns the flow theory that serves the target theory: the
// U(1) flow for U(1) and for the Schwinger model (whose configurations are
// U(1) links; its weight adds the fermion determinant), the phi^4 flow for
// phi^4.
func TheoryFor(target string) string {
	if target == ensemble.Schwinger {
		return TheoryU1
	}
	return target
}

// DefaultConfig returns the published architecture for theory on an L x L
// lattice: for u1, 24 layers, 6 mixture components, hidden [8, 8], kernel 3
// (Kanwar et al.); for phi4, 16 layers, hidden [8, 8], kernel 3 (Albergo et
// al.); Base and Init empty (the theory's base, random initialization).
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
	if err := c.validateBase(); err != nil {
		return err
	}
	switch c.Init {
	case "", InitRandom, InitIdentity:
	default:
		return fmt.Errorf("flow: config: init %q, want %q or %q", c.Init, InitRandom, InitIdentity)
	}
	if c.Z2 && c.Theory != TheoryPhi4 {
		return fmt.Errorf("flow: config: z2 symmetrization for theory %q, want it for %q only", c.Theory, TheoryPhi4)
	}
	if err := c.validateZeroMode(); err != nil {
		return err
	}
	if c.Spectral != 0 && (c.Theory != TheoryPhi4 || c.Spectral < 1 || c.Spectral > MaxSpectralNodes) {
		return fmt.Errorf("flow: config: spectral=%d for theory %q, want 0 (no spectral layer) or 1 <= spectral <= %d for %q", c.Spectral, c.Theory, MaxSpectralNodes, TheoryPhi4)
	}
	if err := c.validateBlocks(); err != nil {
		return err
	}
	return c.validateCoupling()
}

// validateBlocks checks Blocks.
func (c Config) validateBlocks() error {
	if len(c.Blocks) > 0 && c.Theory != TheoryPhi4 {
		return fmt.Errorf("flow: config: blocks %v for theory %q, want block couplings for %q only", c.Blocks, c.Theory, TheoryPhi4)
	}
	for i, b := range c.Blocks {
		if b < 2 || c.L%b != 0 || (c.L/b)%2 != 0 || c.L/b < c.Kernel {
			return fmt.Errorf("flow: config: blocks[%d]=%d at L=%d, want a block size b >= 2 dividing L with L/b even and L/b >= kernel=%d",
				i, b, c.L, c.Kernel)
		}
	}
	return nil
}

// validateZeroMode checks ZeroModeBins and ZeroModeBound.
func (c Config) validateZeroMode() error {
	if c.ZeroModeBins == 0 {
		if c.ZeroModeBound != 0 {
			return fmt.Errorf("flow: config: zero_mode_bound=%g without zero_mode_bins, want both or neither", c.ZeroModeBound)
		}
		return nil
	}
	if c.Theory != TheoryPhi4 {
		return fmt.Errorf("flow: config: zero_mode_bins=%d for theory %q, want the zero-mode layer for %q only", c.ZeroModeBins, c.Theory, TheoryPhi4)
	}
	if c.ZeroModeBins < MinSplineBins || c.ZeroModeBins > MaxSplineBins {
		return fmt.Errorf("flow: config: zero_mode_bins=%d, want 0 (no zero-mode layer) or %d <= zero_mode_bins <= %d", c.ZeroModeBins, MinSplineBins, MaxSplineBins)
	}
	if !(c.ZeroModeBound > 0) || c.ZeroModeBound > MaxSplineBound {
		return fmt.Errorf("flow: config: zero_mode_bound=%g, want 0 < zero_mode_bound <= %g", c.ZeroModeBound, float64(MaxSplineBound))
	}
	return nil
}

// validateCoupling checks Coupling, Bins and SplineBound.
func (c Config) validateCoupling() error {
	switch c.Coupling {
	case "", CouplingAffine:
		if c.Bins != 0 || c.SplineBound != 0 {
			return fmt.Errorf("flow: config: bins=%d, spline_bound=%g, want neither for coupling %q (only for %q)",
				c.Bins, c.SplineBound, CouplingAffine, CouplingSpline)
		}
		return nil
	case CouplingSpline:
	default:
		return fmt.Errorf("flow: config: coupling %q, want %q or %q", c.Coupling, CouplingAffine, CouplingSpline)
	}
	if c.Theory != TheoryPhi4 {
		return fmt.Errorf("flow: config: coupling %q for theory %q, want it for %q only", c.Coupling, c.Theory, TheoryPhi4)
	}
	if c.Bins < MinSplineBins || c.Bins > MaxSplineBins {
		return fmt.Errorf("flow: config: bins=%d, want %d <= bins <= %d for coupling %q", c.Bins, MinSplineBins, MaxSplineBins, CouplingSpline)
	}
	if !(c.SplineBound > 0) || c.SplineBound > MaxSplineBound {
		return fmt.Errorf("flow: config: spline_bound=%g, want 0 < spline_bound <= %g for coupling %q", c.SplineBound, float64(MaxSplineBound), CouplingSpline)
	}
	return nil
}

// validateBase checks Base, BaseBeta and BaseMode.
func (c Config) validateBase() error {
	switch {
	case c.Theory == TheoryU1 && (c.Base == "" || c.Base == BaseUniform || c.Base == BasePlaquettes):
	case c.Theory == TheoryPhi4 && (c.Base == "" || c.Base == BaseNormal || c.Base == BaseGaussK):
	case c.Theory == TheoryU1:
		return fmt.Errorf("flow: config: base %q, want %q or %q for theory %q", c.Base, BaseUniform, BasePlaquettes, c.Theory)
	default:
		return fmt.Errorf("flow: config: base %q, want %q or %q for theory %q", c.Base, BaseNormal, BaseGaussK, c.Theory)
	}
	if c.Base == BaseGaussK {
		if len(c.BasePropagator) != c.L*c.L {
			return fmt.Errorf("flow: config: base_propagator has %d values, want L*L=%d for base %q at L=%d (the propagator belongs to its L)",
				len(c.BasePropagator), c.L*c.L, BaseGaussK, c.L)
		}
		if _, err := NewGaussKBase(c.L, c.BasePropagator); err != nil {
			return fmt.Errorf("flow: config: %w", err)
		}
	} else if len(c.BasePropagator) != 0 {
		return fmt.Errorf("flow: config: base_propagator given for base %q, want it only for %q", c.BaseName(), BaseGaussK)
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
	case "", BaseModeRandom, BaseModeFixed, BaseModeSpread:
	default:
		return fmt.Errorf("flow: config: base_mode %q, want %q, %q or %q for base %q",
			c.BaseMode, BaseModeRandom, BaseModeFixed, BaseModeSpread, BasePlaquettes)
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
// (Base, BaseMode for the plaquette base, Init, Coupling for phi4) and an empty Hidden as
// nil, so that two configs of the same architecture compare equal.
func (c Config) Canonical() Config {
	c.Base = c.BaseName()
	if c.Base == BasePlaquettes && c.BaseMode == "" {
		c.BaseMode = BaseModeRandom
	}
	if c.Init == "" {
		c.Init = InitRandom
	}
	if c.Theory == TheoryPhi4 && c.Coupling == "" {
		c.Coupling = CouplingAffine
	}
	if len(c.Hidden) == 0 {
		c.Hidden = nil
	}
	if len(c.Blocks) == 0 {
		c.Blocks = nil
	}
	return c
}

// New builds the flow described by cfg (NewPhi4Flow or NewU1Flow) with its
// base distribution (NewBase) and parameters initialized from rng
// (nn.Net.InitRandom, layer by layer in order, and for cfg.Init =
// InitIdentity the last convolution of each conditioner zeroed). It
// returns the error of cfg.Validate for an invalid cfg.
func New[T nn.Float](cfg Config, rng *rand.Rand) (*Flow[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Theory == TheoryU1 {
		return NewU1Flow[T](cfg, rng)
	}
	return NewPhi4Flow[T](cfg, rng)
}

// initConditioner initializes a coupling's conditioner for cfg.Init:
// nn.Net.InitRandom from rng, then for InitIdentity the weights and biases
// of the last convolution set to zero (the rng draws are those of
// InitRandom, so both start the same stream of draws).
func initConditioner[T nn.Float](cfg Config, net *nn.Net[T], rng *rand.Rand) {
	net.InitRandom(rng)
	if cfg.Init == InitIdentity {
		last := &net.Layers[len(net.Layers)-1]
		clear(last.W)
		clear(last.B)
	}
}
