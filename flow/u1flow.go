package flow

import (
	"fmt"
	"math/rand/v2"

	"latflow/lattice"
	"latflow/nn"
)

// NewU1Flow returns the gauge-equivariant flow of cfg (theory u1) with the
// base of cfg.Base (NewBase: uniform on [0, 2pi) per link, or the
// plaquette proposal): cfg.Layers GaugeCoupling layers, layer i with the
// stripe masks of lattice.NewStripeMasks(g, i), cfg.Mixtures NCP
// components and a conditioner of channels [2, cfg.Hidden...,
// cfg.Mixtures+1] with kernel cfg.Kernel. The parameters are drawn by
// nn.Net.InitRandom from rng (the PyTorch default initialization), layer
// by layer in order; with cfg.Init = InitIdentity the last convolution of
// each conditioner is then zeroed, so every layer is the identity. It
// returns the error of cfg.Validate for an invalid cfg (in particular if L
// is not a multiple of 4) and an error for another theory.
func NewU1Flow[T nn.Float](cfg Config, rng *rand.Rand) (*Flow[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Theory != TheoryU1 {
		return nil, fmt.Errorf("flow: NewU1Flow: theory %q, want %q", cfg.Theory, TheoryU1)
	}
	base, err := NewBase(cfg)
	if err != nil {
		return nil, err
	}
	g := lattice.NewGeometry(cfg.L)
	layers := make([]Layer[T], cfg.Layers)
	for i := range layers {
		c := NewGaugeCoupling[T](g, i, cfg.Mixtures, cfg.Hidden, cfg.Kernel)
		initConditioner(cfg, c.Net(), rng)
		layers[i] = c
	}
	return NewFlow(cfg, base, 2*g.V, layers), nil
}
