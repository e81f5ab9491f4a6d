package flow

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"latflow/ensemble"
	"latflow/nn"

	"latflow/internal/atomicfile"
)

// Model file format, version 1. All integers are little-endian.
//
//	offset      size  content
//	0           8     magic "LATFLOWM"
//	8           4     format version, uint32 (ModelFormatVersion)
//	12          4     header length H, uint32 (at most maxHeaderBytes)
//	16          H     header, UTF-8 JSON: {"config", "couplings",
//	                  "parametrization", "provenance"} (see Model)
//	16+H        8     parameter count N, uint64
//	24+H        8N    parameters, IEEE 754 float64, in Flow.GetParams order
//	24+H+8N     32    SHA-256 of all preceding bytes
//
// Parameters are stored as float64 whatever the flow's element type; Build
// converts them. A reader rejects a file with another magic or version,
// a length field that overruns the file, trailing bytes, or a checksum
// mismatch.
const (
	// ModelFormatVersion is the version of the model file format written by
	// Write and Save.
	ModelFormatVersion = 1
	modelMagic         = "LATFLOWM"
	maxHeaderBytes     = 1 << 20
	checksumBytes      = sha256.Size
	// prefixBytes is the size of magic, version and header length.
	prefixBytes = len(modelMagic) + 4 + 4
)

// Model is a trained flow as stored in a model file: the architecture, what
// it was trained for and how, and the parameters.
type Model struct {
	// Config is the flow architecture, built for the lattice extent
	// Config.L; BuildAt builds it for any L its masks allow.
	Config Config `json:"config"`
	// Target is the ensemble the flow was trained for.
	Target ensemble.Target `json:"target"`
	// Provenance records how the model was made.
	Provenance Provenance `json:"provenance"`
	// Params are the flow parameters in Flow.GetParams order.
	Params []float64 `json:"-"`
}

// Provenance records how a model was trained.
type Provenance struct {
	// Version is the latflow version that trained the model.
	Version string `json:"version"`
	// Steps is the number of training steps, over all runs.
	Steps int `json:"steps"`
	// Estimator names the gradient estimator used for training.
	Estimator string `json:"estimator"`
	// Seed is the seed of the training run.
	Seed uint64 `json:"seed"`
	// Date is when the model was written.
	Date time.Time `json:"date"`
	// Commands are the training commands in order, a continuation (resume,
	// or training started from another model) after the run it continues.
	Commands []string `json:"commands,omitempty"`
	// WallSeconds is the training wall time over all runs: resumed
	// sessions and, for a model trained from another (train --init), that
	// model's WallSeconds.
	WallSeconds float64 `json:"wall_seconds,omitempty"`
	// TotalWallSeconds is the training wall time the model cost, the
	// models it started from included: this run's (over its resumed
	// sessions) plus, for train --init FILE, FILE's TotalWall, so that a
	// chain of transfers (L=8 -> 16 -> 32) adds up. TotalCPUSeconds is
	// the same sum of the CPU time (user + system) of the training
	// processes; it is left out (0) where a model of the chain does not
	// record CPU time. Models written before these fields have neither.
	TotalWallSeconds float64 `json:"total_wall_seconds,omitempty"`
	TotalCPUSeconds  float64 `json:"total_cpu_seconds,omitempty"`
	// Eval is the quality measured on fresh samples, if any.
	Eval *Evaluation `json:"evaluation,omitempty"`
}

// TotalWall returns the training wall time the model cost, the models it
// started from included: TotalWallSeconds, or for a model without it
// WallSeconds (which already adds up a chain of --init runs).
func (p Provenance) TotalWall() float64 {
	if p.TotalWallSeconds > 0 {
		return p.TotalWallSeconds
	}
	return p.WallSeconds
}

// TotalCPU returns TotalCPUSeconds, or NaN where it is not recorded.
func (p Provenance) TotalCPU() float64 {
	if p.TotalCPUSeconds > 0 {
		return p.TotalCPUSeconds
	}
	return math.NaN()
}

// Evaluation is the quality of a flow as an independence-Metropolis
// proposal for its target, measured on Samples fresh proposals.
type Evaluation struct {
	Samples int `json:"samples"`
	// ESS is ESS_q/N of the proposals' weights.
	ESS float64 `json:"ess"`
	// Acceptance is the independence-Metropolis acceptance rate.
	Acceptance float64 `json:"acceptance"`
	// Threads and SamplesPerSecond describe the measurement's speed.
	SamplesPerSecond float64 `json:"samples_per_second,omitempty"`
}

// NewModel returns a Model holding f's config and parameters (converted to
// float64); the caller fills Target and Provenance.
func NewModel[T nn.Float](f *Flow[T]) Model {
	p := make([]T, f.NumParams())
	f.GetParams(p)
	m := Model{Config: f.Config, Params: make([]float64, len(p))}
	for i, v := range p {
		m.Params[i] = float64(v)
	}
	return m
}

// Build returns the flow of m's Config with m's parameters converted to T.
// It returns an error if the config is invalid or the parameter count does
// not match the architecture.
func Build[T nn.Float](m Model) (*Flow[T], error) {
	return BuildAt[T](m, m.Config.L)
}

// BuildAt returns the flow of m on an L x L lattice. The conditioners are
// translation-equivariant convolutions, so the parameters do not depend on
// L and a flow trained at one L applies at any L its masks allow (a
// multiple of 4 for U(1), even for phi^4, at least the kernel size). It
// returns the error of Config.Validate for an L the architecture cannot
// take.
func BuildAt[T nn.Float](m Model, L int) (*Flow[T], error) {
	cfg := m.Config
	cfg.L = L
	// The initial parameters are overwritten, so any seed will do.
	f, err := New[T](cfg, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, fmt.Errorf("flow: Build: %w", err)
	}
	if len(m.Params) != f.NumParams() {
		return nil, fmt.Errorf("flow: Build: model has %d parameters, the %s architecture %d",
			len(m.Params), m.Config.Theory, f.NumParams())
	}
	p := make([]T, len(m.Params))
	for i, v := range m.Params {
		p[i] = T(v)
	}
	f.SetParams(p)
	return f, nil
}

// ForTarget returns m for sampling the target t. A U(1) flow on the
// plaquette base, sampled for a gauge target (U(1), or the Schwinger model,
// whose gauge part it proposes) at a beta other than its training target's, gets
// the base at t's beta (the independent-plaquette proposal of that beta)
// and keeps its coupling layers, which act on the base unchanged. Any
// other model is returned as is, as is one sampled at its training beta
// (whose base beta may differ from it by choice). The layers learnt what
// the base gets wrong at the training beta; the base left at the training
// beta is far from another target: the shipped model of beta 3 accepted 9
// of 20000 proposals at beta 6, L=32, and 0.99 of them with the base at
// beta 6.
func (m Model) ForTarget(t ensemble.Target) Model {
	beta, ok := t.Couplings[ensemble.Beta]
	if m.Config.Base != BasePlaquettes || !t.Gauge() || !ok || beta == m.Target.Couplings[ensemble.Beta] {
		return m
	}
	m.Config.BaseBeta = beta
	return m
}

// modelHeader is the JSON header of a model file.
//
// Files written before the header had "target" hold the target's couplings
// and parametrization at the top level and its theory and L in "config".
type modelHeader struct {
	Config     Config           `json:"config"`
	Target     *ensemble.Target `json:"target,omitempty"`
	Provenance Provenance       `json:"provenance"`

	Couplings       map[string]float64 `json:"couplings,omitempty"`
	Parametrization string             `json:"parametrization,omitempty"`
}

// Encode returns the model file bytes of m.
func (m Model) Encode() ([]byte, error) {
	t := m.Target
	hdr, err := json.Marshal(modelHeader{Config: m.Config, Target: &t, Provenance: m.Provenance})
	if err != nil {
		return nil, fmt.Errorf("flow: encode model header: %w", err)
	}
	if len(hdr) > maxHeaderBytes {
		return nil, fmt.Errorf("flow: encode model: header of %d bytes exceeds %d", len(hdr), maxHeaderBytes)
	}
	buf := make([]byte, 0, prefixBytes+len(hdr)+8+8*len(m.Params)+checksumBytes)
	buf = append(buf, modelMagic...)
	buf = binary.LittleEndian.AppendUint32(buf, ModelFormatVersion)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(hdr)))
	buf = append(buf, hdr...)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(len(m.Params)))
	for _, v := range m.Params {
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
	}
	sum := sha256.Sum256(buf)
	return append(buf, sum[:]...), nil
}

// Write writes m in the model file format to w.
func Write(w io.Writer, m Model) error {
	b, err := m.Encode()
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("flow: write model: %w", err)
	}
	return nil
}

// Save writes m to the file path atomically: to a temporary file in the
// same directory, synced, then renamed over path.
func Save(path string, m Model) error {
	b, err := m.Encode()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("flow: save model: %w", err)
	}
	return nil
}

// MaxModelBytes is the largest model file Load, ReadFile and Read accept:
// 256 MiB, some 32 million parameters, a thousand times the shipped
// models. It bounds what a reader allocates for a file that is not a
// model (a device such as /dev/zero, a huge file named by mistake).
const MaxModelBytes = 1 << 28

// Load reads the model file at path.
func Load(path string) (Model, error) {
	b, err := ReadFile(path)
	if err != nil {
		return Model{}, err
	}
	return Decode(path, b)
}

// ReadFile returns the bytes of the model file at path, for Decode. It
// checks the file's size and its magic before reading it whole and reads
// at most MaxModelBytes, so a device or a file that is not a model is
// refused without being read; errors read "flow: model file PATH:
// PROBLEM".
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("flow: model file %s: %w", path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > MaxModelBytes {
		return nil, fmt.Errorf("flow: model file %s: %d bytes, more than the %d of the largest model file read (not a model?)", path, fi.Size(), MaxModelBytes)
	}
	return ReadBytes(path, f)
}

// ReadBytes returns the bytes of one model file read from r, for Decode;
// name labels errors. It reads the magic first, then at most MaxModelBytes
// in all.
func ReadBytes(name string, r io.Reader) ([]byte, error) {
	return readBytes(name, r, MaxModelBytes)
}

// readBytes is ReadBytes with the bound limit.
func readBytes(name string, r io.Reader, limit int64) ([]byte, error) {
	fail := func(format string, a ...any) ([]byte, error) {
		return nil, fmt.Errorf("flow: model file %s: "+format, append([]any{name}, a...)...)
	}
	magic := make([]byte, len(modelMagic))
	if n, err := io.ReadFull(r, magic); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fail("%v", err)
	} else if n < len(magic) || !bytes.Equal(magic, []byte(modelMagic)) {
		return fail("not a latflow model file (bad magic)")
	}
	rest, err := io.ReadAll(io.LimitReader(r, limit-int64(len(magic))+1))
	if err != nil {
		return fail("%v", err)
	}
	if int64(len(magic)+len(rest)) > limit {
		return fail("more than %d bytes, the largest model file read (corrupted file?)", limit)
	}
	return append(magic, rest...), nil
}

// Read reads a model file from r, at most MaxModelBytes; name labels
// errors.
func Read(name string, r io.Reader) (Model, error) {
	b, err := ReadBytes(name, r)
	if err != nil {
		return Model{}, err
	}
	return Decode(name, b)
}

// Decode parses the model file bytes b; name labels errors, which read
// "flow: model file NAME: PROBLEM".
func Decode(name string, b []byte) (Model, error) {
	fail := func(format string, a ...any) (Model, error) {
		return Model{}, fmt.Errorf("flow: model file %s: "+format, append([]any{name}, a...)...)
	}
	if len(b) < len(modelMagic) || !bytes.Equal(b[:len(modelMagic)], []byte(modelMagic)) {
		return fail("not a latflow model file (bad magic)")
	}
	if len(b) < prefixBytes {
		return fail("truncated: want %d bytes of file prefix, have %d", prefixBytes, len(b))
	}
	version := binary.LittleEndian.Uint32(b[8:])
	if version != ModelFormatVersion {
		return fail("format version %d, this latflow reads version %d", version, ModelFormatVersion)
	}
	H := int(binary.LittleEndian.Uint32(b[12:]))
	if H > maxHeaderBytes {
		return fail("header length %d exceeds %d (corrupted file?)", H, maxHeaderBytes)
	}
	rest := len(b) - prefixBytes
	if rest < H+8 {
		return fail("truncated: want %d bytes of header and parameter count, have %d", H+8, rest)
	}
	n64 := binary.LittleEndian.Uint64(b[prefixBytes+H:])
	rest -= H + 8
	if n64 > uint64(rest/8) {
		return fail("truncated: want %d bytes of parameters, have %d", 8*n64, rest)
	}
	N := int(n64)
	rest -= 8 * N
	if rest < checksumBytes {
		return fail("truncated: want %d bytes of checksum, have %d", checksumBytes, rest)
	}
	if rest > checksumBytes {
		return fail("%d trailing bytes after the checksum", rest-checksumBytes)
	}
	body := b[:len(b)-checksumBytes]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], b[len(body):]) {
		return fail("checksum mismatch (corrupted file)")
	}
	// Unknown header fields (from a newer writer) are ignored.
	var hdr modelHeader
	if err := json.Unmarshal(b[prefixBytes:prefixBytes+H], &hdr); err != nil {
		return fail("header: %v", err)
	}
	m := Model{Config: hdr.Config, Provenance: hdr.Provenance, Params: make([]float64, N)}
	if hdr.Target != nil {
		m.Target = *hdr.Target
	} else {
		m.Target = ensemble.Target{Theory: hdr.Config.Theory, L: hdr.Config.L, Couplings: hdr.Couplings, Parametrization: hdr.Parametrization}
	}
	p := b[prefixBytes+H+8:]
	for i := range m.Params {
		m.Params[i] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:]))
	}
	if err := m.Config.Validate(); err != nil {
		return fail("%v", err)
	}
	if err := m.Target.Validate(); err != nil {
		return fail("training target: %v", err)
	}
	if TheoryFor(m.Target.Theory) != m.Config.Theory {
		return fail("training target theory %q, flow theory %q", m.Target.Theory, m.Config.Theory)
	}
	return m, nil
}

// Grow returns m with n more coupling layers, placed after its own
// couplings (before block couplings and a zero-mode layer) and started as
// the identity (their conditioners' last convolutions zero, the rest drawn
// from rng, as InitIdentity does), so the grown flow is m's distribution
// until it is trained. The layers continue the alternation of masks.
// Target and Provenance are m's; Config.Init stays m's (how its training
// started).
func Grow(m Model, n int, rng *rand.Rand) (Model, error) {
	if n < 1 {
		return Model{}, fmt.Errorf("flow: Grow: n=%d, want n >= 1", n)
	}
	cfg := m.Config
	cfg.Layers += n
	return grow(m, cfg, n, 0, rng)
}

// GrowBlocks returns m with one more BlockCoupling per entry of blocks
// (block sizes), placed after its own block couplings (before a zero-mode
// layer) and started as the identity, like Grow.
func GrowBlocks(m Model, blocks []int, rng *rand.Rand) (Model, error) {
	if len(blocks) == 0 {
		return Model{}, fmt.Errorf("flow: GrowBlocks: no block sizes")
	}
	cfg := m.Config
	cfg.Blocks = append(append([]int(nil), cfg.Blocks...), blocks...)
	return grow(m, cfg, 0, len(blocks), rng)
}

// GrowSpectral returns m with a SpectralScale of N nodes per pi added as the
// identity after its block couplings (before a zero-mode layer). m must
// not have one.
func GrowSpectral(m Model, N int, rng *rand.Rand) (Model, error) {
	if m.Config.Spectral != 0 {
		return Model{}, fmt.Errorf("flow: GrowSpectral: the model has a spectral layer (%d nodes per pi)", m.Config.Spectral)
	}
	cfg := m.Config
	cfg.Spectral = N
	return grow(m, cfg, 0, 0, rng)
}

// RefineSpectral returns m with its spectral layer on a finer grid of N
// nodes per pi, N a multiple of its own count: the same map (the same
// theta at every momentum), more parameters to train at a larger L.
func RefineSpectral(m Model, N int) (Model, error) {
	n0 := m.Config.Spectral
	if n0 == 0 || N%n0 != 0 || N > MaxSpectralNodes {
		return Model{}, fmt.Errorf("flow: RefineSpectral: %d nodes per pi from %d, want a multiple of %d up to %d", N, n0, max(n0, 1), MaxSpectralNodes)
	}
	old, err := Build[float64](m)
	if err != nil {
		return Model{}, err
	}
	cfg := m.Config
	cfg.Spectral = N
	fine, err := New[float64](cfg, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return Model{}, fmt.Errorf("flow: RefineSpectral: %w", err)
	}
	at := m.Config.Layers + len(m.Config.Blocks)
	for i, l := range old.Layers {
		if i == at {
			l.(*SpectralScale[float64]).Refine(fine.Layers[i].Params(), N)
			continue
		}
		copy(fine.Layers[i].Params(), l.Params())
	}
	r := NewModel(fine)
	r.Target, r.Provenance = m.Target, m.Provenance
	return r, nil
}

// grow builds cfg (m's architecture with couplings more couplings, blocks
// more block couplings, and a spectral layer if cfg has one and m not)
// with new layers as the identity and m's layers at their places.
func grow(m Model, cfg Config, couplings, blocks int, rng *rand.Rand) (Model, error) {
	old, err := Build[float64](m)
	if err != nil {
		return Model{}, err
	}
	cfg.Init = InitIdentity
	grown, err := New[float64](cfg, rng)
	if err != nil {
		return Model{}, fmt.Errorf("flow: grow: %w", err)
	}
	for i, l := range old.Layers {
		j := i
		if i >= m.Config.Layers {
			j += couplings
		}
		if i >= m.Config.Layers+len(m.Config.Blocks) { // a spectral and the zero-mode layer stay last
			j += blocks
			if cfg.Spectral > 0 && m.Config.Spectral == 0 {
				j++ // a new spectral layer goes before the zero-mode layer
			}
		}
		copy(grown.Layers[j].Params(), l.Params())
	}
	g := NewModel(grown)
	g.Config.Init = m.Config.Init
	g.Target, g.Provenance = m.Target, m.Provenance
	return g, nil
}
