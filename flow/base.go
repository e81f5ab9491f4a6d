package flow

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"

	"latflow/gauge"
	"latflow/nn"
)

// Base names accepted in Config.Base.
const (
	// BaseUniform is the uniform base of the U(1) flow (UniformBase).
	BaseUniform = "uniform"
	// BaseNormal is the N(0, 1) base of the phi^4 flow (NormalBase).
	BaseNormal = "normal"
	// BasePlaquettes is the independent-plaquette proposal of package gauge
	// as the base of the U(1) flow (PlaquetteBase).
	BasePlaquettes = "plaquettes"
)

// Base is the base distribution q0 of a flow: a density on the samples
// of Size real numbers (U(1): on the flat measure of [0, 2pi)^(2V)), with
// exact sampling and an analytic score. Its methods take one sample in
// float64; a Flow calls them per sample from its parallel workers (log q0
// and the score) and serially in sample order (the draws), converting a
// float32 sample through per-worker float64 scratch. Implementations are
// immutable, safe for concurrent use and allocate nothing. The set is
// closed (UniformBase, NormalBase, PlaquetteBase, GaussKBase), as model
// files name the base in Config.Base.
type Base interface {
	// String returns the name of the base as in Config.Base.
	String() string
	// SampleTo fills z, one sample, with a draw from q0 made from rng.
	SampleTo(z []float64, rng *rand.Rand)
	// LogDensity returns log q0(z) of one sample z.
	LogDensity(z []float64) float64
	// ScoreTo writes the score d log q0/dz at the sample z into dst; dst
	// and z must not overlap.
	ScoreTo(dst, z []float64)
	// angles reports whether samples are angles in [0, 2pi): a draw that
	// rounds up to 2pi in float32 becomes 0, the same angle.
	angles() bool
}

var (
	_ Base = UniformBase{}
	_ Base = NormalBase{}
	_ Base = PlaquetteBase{}
	_ Base = GaussKBase{}
)

// UniformBase is uniform on [0, 2pi) per link angle (U(1)):
// log q0(z) = -N log(2pi) for N angles, d log q0/dz = 0.
type UniformBase struct{}

// String returns "uniform".
func (UniformBase) String() string { return BaseUniform }

// SampleTo sets each z[i] = 2pi rng.Float64(), in order.
func (UniformBase) SampleTo(z []float64, rng *rand.Rand) {
	for i := range z {
		z[i] = 2 * math.Pi * rng.Float64()
	}
}

// LogDensity returns -len(z) log(2pi).
func (UniformBase) LogDensity(z []float64) float64 {
	return -float64(len(z)) * math.Log(2*math.Pi)
}

// ScoreTo sets dst to 0.
func (UniformBase) ScoreTo(dst, z []float64) {
	checkScore("UniformBase", dst, z)
	clear(dst)
}

func (UniformBase) angles() bool { return true }

// NormalBase is N(0, 1) per site (phi^4):
// log q0(z) = -|z|^2/2 - (N/2) log(2pi), d log q0/dz = -z.
type NormalBase struct{}

// String returns "normal".
func (NormalBase) String() string { return BaseNormal }

// SampleTo sets each z[i] = rng.NormFloat64(), in order.
func (NormalBase) SampleTo(z []float64, rng *rand.Rand) {
	for i := range z {
		z[i] = rng.NormFloat64()
	}
}

// LogDensity returns -|z|^2/2 - (len(z)/2) log(2pi).
func (NormalBase) LogDensity(z []float64) float64 {
	var s float64
	for _, v := range z {
		s += v * v
	}
	return -0.5*s - 0.5*float64(len(z))*math.Log(2*math.Pi)
}

// ScoreTo sets dst = -z.
func (NormalBase) ScoreTo(dst, z []float64) {
	checkScore("NormalBase", dst, z)
	for i, v := range z {
		dst[i] = -v
	}
}

func (NormalBase) angles() bool { return false }

// PlaquetteBase is the independent-plaquette proposal of package gauge
// (gauge.PlaquetteProposal: von Mises plaquettes at its beta, one
// plaquette constrained or the constraint's defect spread over all,
// uniform Polyakov loops and gauge) as the base of the U(1) flow, on the
// flat measure of [0, 2pi)^(2V) like UniformBase.
// The coupling layers act on top of it unchanged; with identity couplings
// the flow is the proposal. Proposal must not be nil.
type PlaquetteBase struct {
	Proposal *gauge.PlaquetteProposal
}

// NewPlaquetteBase returns the plaquette base of the L x L lattice at
// coupling beta with the given constraint mode; it returns the error of
// gauge.NewPlaquetteProposal.
func NewPlaquetteBase(L int, beta float64, mode gauge.ConstraintMode) (PlaquetteBase, error) {
	p, err := gauge.NewPlaquetteProposal(L, beta, mode)
	if err != nil {
		return PlaquetteBase{}, err
	}
	return PlaquetteBase{Proposal: p}, nil
}

// String returns "plaquettes".
func (PlaquetteBase) String() string { return BasePlaquettes }

// SampleTo draws z (2V links) by gauge.PlaquetteProposal.SampleTo.
func (b PlaquetteBase) SampleTo(z []float64, rng *rand.Rand) { b.Proposal.SampleTo(z, rng) }

// LogDensity returns gauge.PlaquetteProposal.LogDensity(z).
func (b PlaquetteBase) LogDensity(z []float64) float64 { return b.Proposal.LogDensity(z) }

// ScoreTo writes gauge.PlaquetteProposal.ScoreTo(dst, z).
func (b PlaquetteBase) ScoreTo(dst, z []float64) { b.Proposal.ScoreTo(dst, z) }

func (PlaquetteBase) angles() bool { return true }

func checkScore(base string, dst, z []float64) {
	if len(dst) != len(z) {
		panic(fmt.Sprintf("flow: %s.ScoreTo: len(dst)=%d, want len(z)=%d", base, len(dst), len(z)))
	}
}

// NewBase returns the base distribution of cfg (Config.Base, resolved for
// the theory; the plaquette base on cfg.L at cfg.BaseBeta with
// cfg.BaseMode). It returns the error of cfg.Validate for an invalid cfg.
func NewBase(cfg Config) (Base, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch cfg.BaseName() {
	case BaseUniform:
		return UniformBase{}, nil
	case BaseNormal:
		return NormalBase{}, nil
	case BaseGaussK:
		b, err := NewGaussKBase(cfg.L, cfg.BasePropagator)
		if err != nil {
			return nil, fmt.Errorf("flow: config: %w", err)
		}
		return b, nil
	}
	mode, err := gauge.ParseConstraintMode(cmp.Or(cfg.BaseMode, BaseModeRandom))
	if err != nil {
		return nil, fmt.Errorf("flow: config: base %q: %w", BasePlaquettes, err)
	}
	b, err := NewPlaquetteBase(cfg.L, cfg.BaseBeta, mode)
	if err != nil {
		return nil, fmt.Errorf("flow: config: base %q: %w", BasePlaquettes, err)
	}
	return b, nil
}

// The flow's base helpers below work on one sample of a []T field. A
// float64 field is passed to the Base directly; a float32 one goes through
// scratch, float64 scratch of at least 2*len(z) (baseScratch), one per
// worker. None allocates.

// baseScratch returns the float64 scratch of the base helpers for samples
// of size numbers.
func baseScratch(size int) []float64 { return make([]float64, 2*size) }

// asFloat64 returns z as a []float64 if T is float64.
func asFloat64[T nn.Float](z []T) ([]float64, bool) {
	v, ok := any(z).([]float64)
	return v, ok
}

// toFloat64 converts z into the front of scratch and returns that part.
func toFloat64[T nn.Float](scratch []float64, z []T) []float64 {
	d := scratch[:len(z)]
	for i, v := range z {
		d[i] = float64(v)
	}
	return d
}

// drawBase fills z (one sample) with a draw from b made from rng. Draws
// are made in float64 and converted to T, so float32 and float64 flows see
// the same base samples; for a base of angles, a draw that rounds up to
// 2pi in T becomes 0, the same angle.
func drawBase[T nn.Float](b Base, rng *rand.Rand, z []T, scratch []float64) {
	if d, ok := asFloat64(z); ok {
		b.SampleTo(d, rng)
		return
	}
	d := scratch[:len(z)]
	b.SampleTo(d, rng)
	twoPi := T(2 * math.Pi)
	wrap := b.angles()
	for i, v := range d {
		t := T(v)
		if wrap && t >= twoPi {
			t = 0
		}
		z[i] = t
	}
}

// logBase returns log q0(z) of one sample in float64.
func logBase[T nn.Float](b Base, z []T, scratch []float64) float64 {
	if d, ok := asFloat64(z); ok {
		return b.LogDensity(d)
	}
	return b.LogDensity(toFloat64(scratch, z))
}

// scoreBase writes s = d log q0/dz of one sample; s may be z.
func scoreBase[T nn.Float](b Base, s, z []T, scratch []float64) {
	if len(s) != len(z) {
		panic(fmt.Sprintf("flow: scoreBase: len(s)=%d, want len(z)=%d", len(s), len(z)))
	}
	if len(z) == 0 {
		return
	}
	d, ok := asFloat64(s)
	if ok && &s[0] != &z[0] {
		zd, _ := asFloat64(z)
		b.ScoreTo(d, zd)
		return
	}
	n := len(z)
	zd := toFloat64(scratch[:n], z)
	sd := scratch[n : 2*n]
	b.ScoreTo(sd, zd)
	for i, v := range sd {
		s[i] = T(v)
	}
}
