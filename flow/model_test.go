package flow

import (
	"bytes"
	"fmt"
	"latflow/ensemble"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testModel returns a model of a small random phi^4 flow with metadata.
func testModel(t *testing.T) (Model, *Flow[float64]) {
	t.Helper()
	f := newTestPhi4Flow(t, 31, 8, 4)
	m := NewModel(f)
	m.Target = ensemble.NewPhi4Standard(m.Config.L, -4, 8)
	m.Provenance = Provenance{
		Version: "test", Steps: 1234, Estimator: "fast-path", Seed: 31,
		Date: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC),
	}
	return m, f
}

func TestModelRoundTrip(t *testing.T) {
	m, f := testModel(t)
	path := filepath.Join(t.TempDir(), "phi4.model")
	if err := Save(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("Load(Save(m)): got %+v, want %+v", got, m)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("directory after Save: got %d entries, want 1 (no temporary file left)", len(entries))
	}

	// The rebuilt flow draws bit-identical samples from the same seed.
	g, err := Build[float64](got)
	if err != nil {
		t.Fatal(err)
	}
	const B = 4
	x1, q1 := make([]float64, B*f.Size), make([]float64, B)
	x2, q2 := make([]float64, B*f.Size), make([]float64, B)
	f.Sample(rand.New(rand.NewPCG(32, 1)), x1, q1, 2)
	g.Sample(rand.New(rand.NewPCG(32, 1)), x2, q2, 2)
	for k := range x1 {
		if math.Float64bits(x1[k]) != math.Float64bits(x2[k]) {
			t.Fatalf("x[%d] of the rebuilt flow: got %v, want %v", k, x2[k], x1[k])
		}
	}
	for i := range q1 {
		if math.Float64bits(q1[i]) != math.Float64bits(q2[i]) {
			t.Fatalf("logq[%d] of the rebuilt flow: got %v, want %v", i, q2[i], q1[i])
		}
	}

	// Write and Read agree with Save and Load.
	var buf bytes.Buffer
	if err := Write(&buf, m); err != nil {
		t.Fatal(err)
	}
	disk, _ := os.ReadFile(path)
	if !bytes.Equal(buf.Bytes(), disk) {
		t.Errorf("Write and Save: got different bytes (%d and %d)", buf.Len(), len(disk))
	}
	if _, err := Read("buffer", &buf); err != nil {
		t.Errorf("Read: got error %v, want nil", err)
	}
}

func TestModelCorrupt(t *testing.T) {
	m, _ := testModel(t)
	good, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	hdrEnd := prefixBytes + strings.Index(string(good[prefixBytes:]), "}}") + 2
	edit := func(fn func(b []byte) []byte) []byte {
		return fn(append([]byte(nil), good...))
	}
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"param-byte", edit(func(b []byte) []byte { b[len(b)-100] ^= 1; return b }), "checksum mismatch"},
		{"header-byte", edit(func(b []byte) []byte { b[prefixBytes+5] ^= 0x20; return b }), "checksum mismatch"},
		{"checksum-byte", edit(func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b }), "checksum mismatch"},
		{"truncated-params", good[:len(good)-200], fmt.Sprintf("truncated: want %d bytes of parameters", 8*len(m.Params))},
		{"truncated-checksum", good[:len(good)-10], "truncated: want 32 bytes of checksum"},
		{"truncated-header", good[:hdrEnd-3], "truncated"},
		{"empty", nil, "bad magic"},
		{"magic", edit(func(b []byte) []byte { b[0] = 'X'; return b }), "bad magic"},
		{"version", edit(func(b []byte) []byte { b[8] = 9; return b }), "format version 9"},
		{"trailing", append(append([]byte(nil), good...), 0), "1 trailing bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.model")
			if err := os.WriteFile(path, c.b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil {
				t.Fatalf("got nil error, want one containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "flow: model file "+path+": ") {
				t.Errorf("got error %q, want it to name the file and contain %q", err, c.want)
			}
		})
	}
}

func TestBuildMismatch(t *testing.T) {
	m, _ := testModel(t)
	m.Params = m.Params[1:]
	if _, err := Build[float32](m); err == nil || !strings.Contains(err.Error(), "parameters") {
		t.Errorf("Build with %d parameters: got error %v, want a parameter count error", len(m.Params), err)
	}
}

// TestModelSize reports the file size of the default architectures; the
// U(1) one must stay well under 1 MB.
func TestModelSize(t *testing.T) {
	const limit = 1 << 20
	for _, theory := range []string{TheoryPhi4, TheoryU1} {
		cfg := DefaultConfig(theory, 16)
		f, err := New[float64](cfg, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		b, err := NewModel(f).Encode()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s L=16: %d parameters, model file %d bytes", theory, f.NumParams(), len(b))
		if len(b) > limit/2 {
			t.Errorf("%s: model file of %d bytes, want < %d", theory, len(b), limit/2)
		}
	}
}

// endless is a reader of prefix followed by zeros without end; it counts
// the bytes read and fails after far more than any bound.
type endless struct {
	prefix []byte
	n      int64
	max    int64
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n > e.max {
		return 0, fmt.Errorf("endless: read %d bytes, more than the %d allowed", e.n, e.max)
	}
	k := 0
	for k < len(p) && e.n < int64(len(e.prefix)) {
		p[k] = e.prefix[e.n]
		k++
		e.n++
	}
	clear(p[k:])
	e.n += int64(len(p) - k)
	return len(p), nil
}

// TestReadBytesBounded: a model reader stops at the magic of a stream
// that is not a model (as /dev/zero) and at the size bound of one that
// does not end; a regular file above MaxModelBytes is refused unread.
func TestReadBytesBounded(t *testing.T) {
	const limit = 1 << 16
	zeros := &endless{max: 4 * limit}
	if _, err := readBytes("zeros", zeros, limit); err == nil || !strings.Contains(err.Error(), "flow: model file zeros: not a latflow model file (bad magic)") {
		t.Errorf("endless zeros: got error %v, want bad magic", err)
	}
	if zeros.n > 4096 {
		t.Errorf("endless zeros: read %d bytes, want the magic only", zeros.n)
	}
	long := &endless{prefix: []byte(modelMagic), max: 4 * limit}
	if _, err := readBytes("long", long, limit); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("more than %d bytes", limit)) {
		t.Errorf("endless model: got error %v, want one naming the bound %d", err, limit)
	}
	if long.n > 2*limit {
		t.Errorf("endless model: read %d bytes, want at most about %d", long.n, limit)
	}
	m, _ := testModel(t)
	good, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if b, err := ReadBytes("good", bytes.NewReader(good)); err != nil || !bytes.Equal(b, good) {
		t.Errorf("ReadBytes of a model file: got %d bytes, error %v; want the %d bytes of the file", len(b), err, len(good))
	}
	huge := filepath.Join(t.TempDir(), "huge.flow")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(good[:len(modelMagic)]); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxModelBytes + 1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	if _, err := Load(huge); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("more than the %d", MaxModelBytes)) {
		t.Errorf("Load of a file of %d bytes: got error %v, want the size bound", MaxModelBytes+1, err)
	}
}

// TestModelForTarget: a U(1) model on the plaquette base sampled at
// another beta gets its base at that beta; at its training beta (at any L),
// on another base, or for phi^4 it is unchanged.
func TestModelForTarget(t *testing.T) {
	plaq := Model{
		Config: Config{Theory: "u1", L: 8, Layers: 2, Mixtures: 2, Hidden: []int{4}, Kernel: 3, Base: BasePlaquettes, BaseBeta: 2.5, BaseMode: BaseModeSpread},
		Target: ensemble.NewU1(8, 3),
	}
	uniform := plaq
	uniform.Config.Base, uniform.Config.BaseBeta, uniform.Config.BaseMode = BaseUniform, 0, ""
	phi4, _ := testModel(t)
	for _, c := range []struct {
		name string
		m    Model
		t    ensemble.Target
		want float64 // BaseBeta of the result
	}{
		{"plaquettes/beta=6", plaq, ensemble.NewU1(8, 6), 6},
		{"plaquettes/L=32/beta=2", plaq, ensemble.NewU1(32, 2), 2},
		{"plaquettes/training beta", plaq, ensemble.NewU1(16, 3), 2.5},
		{"uniform/beta=6", uniform, ensemble.NewU1(8, 6), 0},
		{"phi4", phi4, ensemble.NewPhi4Standard(8, -3, 8), phi4.Config.BaseBeta},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := c.m.Config
			got := c.m.ForTarget(c.t)
			if got.Config.BaseBeta != c.want {
				t.Errorf("base_beta: got %v, want %v", got.Config.BaseBeta, c.want)
			}
			if got.Config.BaseBeta = before.BaseBeta; !reflect.DeepEqual(got.Config, before) || !reflect.DeepEqual(got.Target, c.m.Target) {
				t.Errorf("got config %+v target %v, want %+v and %v but for base_beta", got.Config, got.Target, before, c.m.Target)
			}
			if c.m.Config.BaseBeta != before.BaseBeta {
				t.Errorf("the model itself changed: base_beta %v, was %v", c.m.Config.BaseBeta, before.BaseBeta)
			}
			if err := got.Config.Validate(); err != nil {
				t.Errorf("result does not validate: %v", err)
			}
		})
	}
}

// TestModelTargetTheory: a U(1) flow trained for the Schwinger model
// decodes with its Schwinger target; a phi^4 flow with that target, or a
// U(1) flow with a phi^4 target, is refused naming both theories.
func TestModelTargetTheory(t *testing.T) {
	phi4, _ := testModel(t)
	cfg := DefaultConfig(TheoryU1, 4)
	cfg.Layers, cfg.Mixtures = 2, 1
	f, err := New[float64](cfg, rand.New(rand.NewPCG(5, 0)))
	if err != nil {
		t.Fatal(err)
	}
	u1 := NewModel(f)
	schwinger := ensemble.NewSchwinger(4, 2, 0.2)
	for _, c := range []struct {
		name   string
		m      Model
		target ensemble.Target
		ok     bool
	}{
		{"u1 flow, schwinger target", u1, schwinger, true},
		{"u1 flow, u1 target", u1, ensemble.NewU1(4, 2), true},
		{"phi4 flow, schwinger target", phi4, ensemble.NewSchwinger(phi4.Config.L, 2, 0.2), false},
		{"u1 flow, phi4 target", u1, ensemble.NewPhi4Standard(4, -4, 8), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := c.m
			m.Target = c.target
			b, err := m.Encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode("m.flow", b)
			switch {
			case c.ok && err != nil:
				t.Errorf("Decode: %v, want the model", err)
			case c.ok && !got.Target.Equal(c.target):
				t.Errorf("Decode: target %v, want %v", got.Target, c.target)
			case !c.ok && (err == nil || !strings.Contains(err.Error(), c.target.Theory) || !strings.Contains(err.Error(), m.Config.Theory)):
				t.Errorf("Decode: error %v, want one naming target theory %q and flow theory %q", err, c.target.Theory, m.Config.Theory)
			}
		})
	}
}

// TestGrow checks that Grow keeps the distribution (the new couplings are
// the identity, the zero-mode layer stays last with its parameters) and
// that the new layers act once their parameters move.
func TestGrow(t *testing.T) {
	const L, layers, n = 6, 3, 2
	f := newTestZeroModeFlow(t, 5, L, layers, 1)
	m := NewModel(f)
	m.Target = ensemble.NewPhi4Standard(L, -1, 0.5)
	m.Provenance = Provenance{Version: "test", Steps: 77}
	g, err := Grow(m, n, rand.New(rand.NewPCG(9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	if g.Config.Layers != layers+n || g.Provenance.Steps != 77 || !reflect.DeepEqual(g.Target, m.Target) || g.Config.Init != m.Config.Init {
		t.Errorf("grown model: layers %d, steps %d, target %+v, init %q; want %d, 77, %+v, %q",
			g.Config.Layers, g.Provenance.Steps, g.Target, g.Config.Init, layers+n, m.Target, m.Config.Init)
	}
	gf, err := Build[float64](g)
	if err != nil {
		t.Fatal(err)
	}
	perLayer := len(f.Layers[0].Params())
	if got, want := gf.NumParams(), f.NumParams()+n*perLayer; got != want {
		t.Fatalf("grown flow: %d parameters, want %d", got, want)
	}
	if _, ok := gf.Layers[len(gf.Layers)-1].(*ZeroModeSpline[float64]); !ok {
		t.Fatalf("grown flow: last layer %T, want the zero-mode spline", gf.Layers[len(gf.Layers)-1])
	}
	const B = 4
	sample := func(f *Flow[float64]) ([]float64, []float64) {
		x, lq := make([]float64, B*f.Size), make([]float64, B)
		f.Sample(rand.New(rand.NewPCG(3, 3)), x, lq, B)
		return x, lq
	}
	x0, lq0 := sample(f)
	x1, lq1 := sample(gf)
	for i := range x0 {
		if math.Abs(x1[i]-x0[i]) > 1e-12 {
			t.Fatalf("grown flow sample x[%d] = %v, want %v (the same distribution)", i, x1[i], x0[i])
		}
	}
	for i := range lq0 {
		if math.Abs(lq1[i]-lq0[i]) > 1e-12 {
			t.Errorf("grown flow log q[%d] = %v, want %v", i, lq1[i], lq0[i])
		}
	}
	// Each new layer acts once its last convolution is not zero.
	for k := layers; k < layers+n; k++ {
		p := gf.Layers[k].Params()
		saved := append([]float64(nil), p...)
		for i := range p {
			p[i] += 0.1
		}
		_, lq := sample(gf)
		if math.Abs(lq[0]-lq0[0]) < 1e-6 {
			t.Errorf("new layer %d with moved parameters: log q unchanged (%v)", k, lq[0])
		}
		copy(p, saved)
	}
	if _, err := Grow(m, 0, rand.New(rand.NewPCG(9, 9))); err == nil {
		t.Error("Grow(m, 0): no error")
	}
}
