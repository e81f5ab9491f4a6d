package flowtrain

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"latflow/ensemble"
	"latflow/flow"

	"latflow/internal/atomicfile"
)

// RunParams are the parameters of a training run that determine its
// result. A checkpoint stores them, and a run resumed from it must have the
// same ones (Mismatch); the number of workers, the checkpoint interval and
// MaxSkips may change, since they do not change the result.
type RunParams struct {
	// Version is the latflow version that started the run (not compared).
	Version string `json:"version"`
	// Target is the ensemble the flow is trained for; its fields (theory,
	// L, couplings, parametrization) are at the top level of the JSON.
	ensemble.Target
	// Config is the flow architecture; Precision is "float64" or "float32".
	Config    flow.Config `json:"config"`
	Precision string      `json:"precision"`
	// Objective and Gradient name the estimator (Objective.String,
	// GradientType.String).
	Objective string `json:"objective"`
	Gradient  string `json:"gradient"`
	Batch     int    `json:"batch"`
	// LR is the base learning rate of the schedule named Schedule
	// (ParseSchedule) over Steps steps.
	LR       float64 `json:"lr"`
	Schedule string  `json:"schedule"`
	Steps    int     `json:"steps"`
	Clip     float64 `json:"clip"`
	Seed     uint64  `json:"seed"`
	// Data are the dataset directories of the forward objective, as given
	// (not compared); DataConfigs and DataDigest (DataDigest) identify
	// their configurations.
	Data        []string `json:"data,omitempty"`
	DataConfigs int      `json:"data_configs,omitempty"`
	DataDigest  string   `json:"data_digest,omitempty"`
	// InitModel is the SHA-256 of the model file whose parameters the run
	// started from (latflow train --init), "" for a fresh flow.
	InitModel string `json:"init_model,omitempty"`
}

// Mismatch compares the parameters saved in a checkpoint (r) with those of
// the run resuming from it (o). It returns the name of the first parameter
// that differs, named as latflow's command-line flags (theory, L, a
// coupling such as beta or kappa, layers, mixtures, hidden, kernel, base,
// base-beta, base-mode, layer-init, precision, objective, gradient, batch, lr,
// schedule, steps, clip, seed, data), with the two values as text, or
// name == "" if none differs. An empty base, base mode or init equals its
// default (flow.Config.Canonical).
func (r RunParams) Mismatch(o RunParams) (name, saved, given string) {
	str := func(v any) string { return fmt.Sprint(v) }
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	ints := func(v []int) string {
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = strconv.Itoa(x)
		}
		return strings.Join(s, ",")
	}
	type field struct {
		name string
		a, b string
	}
	if name, a, b := r.Target.Diff(o.Target); name != "" {
		return name, a, b
	}
	data := func(p RunParams) string {
		if p.DataDigest == "" {
			return "none"
		}
		return fmt.Sprintf("%d configurations (digest %.12s)", p.DataConfigs, p.DataDigest)
	}
	rc, oc := r.Config.Canonical(), o.Config.Canonical()
	rest := []field{
		// The model a run started from decides its architecture, so it
		// is named before the architecture.
		{"init", r.InitModel, o.InitModel},
		{"layers", str(r.Config.Layers), str(o.Config.Layers)},
		{"mixtures", str(r.Config.Mixtures), str(o.Config.Mixtures)},
		{"hidden", ints(r.Config.Hidden), ints(o.Config.Hidden)},
		{"kernel", str(r.Config.Kernel), str(o.Config.Kernel)},
		{"base", rc.Base, oc.Base},
		{"base-beta", num(rc.BaseBeta), num(oc.BaseBeta)},
		{"base-mode", rc.BaseMode, oc.BaseMode},
		{"layer-init", rc.Init, oc.Init},
		{"base-propagator", propagatorDigest(rc.BasePropagator), propagatorDigest(oc.BasePropagator)},
		{"z2", fmt.Sprint(rc.Z2), fmt.Sprint(oc.Z2)},
		{"coupling", fmt.Sprintf("%s %d %g", rc.Coupling, rc.Bins, rc.SplineBound), fmt.Sprintf("%s %d %g", oc.Coupling, oc.Bins, oc.SplineBound)},
		{"zero-mode", fmt.Sprintf("%d %g", rc.ZeroModeBins, rc.ZeroModeBound), fmt.Sprintf("%d %g", oc.ZeroModeBins, oc.ZeroModeBound)},
		{"blocks", ints(rc.Blocks), ints(oc.Blocks)},
		{"spectral", str(rc.Spectral), str(oc.Spectral)},
		{"precision", r.Precision, o.Precision},
		{"objective", r.Objective, o.Objective},
		{"gradient", r.Gradient, o.Gradient},
		{"batch", str(r.Batch), str(o.Batch)},
		{"lr", num(r.LR), num(o.LR)},
		{"schedule", r.Schedule, o.Schedule},
		{"steps", str(r.Steps), str(o.Steps)},
		{"clip", num(r.Clip), num(o.Clip)},
		{"seed", str(r.Seed), str(o.Seed)},
		{"data", data(r), data(o)},
	}
	for _, f := range rest {
		if f.a != f.b {
			return f.name, f.a, f.b
		}
	}
	return "", "", ""
}

// LogMetadata returns the schema metadata of the training log: latflow.*
// keys for the version, theory, L, couplings (latflow.coupling.NAME),
// parametrization, precision, objective, gradient, batch, lr, schedule,
// steps, clip, seed, and the flow architecture (latflow.flow.layers,
// .mixtures, .hidden, .kernel).
func (r RunParams) LogMetadata() map[string]string {
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	hidden := make([]string, len(r.Config.Hidden))
	for i, h := range r.Config.Hidden {
		hidden[i] = strconv.Itoa(h)
	}
	md := map[string]string{
		"latflow.version":         r.Version,
		"latflow.theory":          r.Theory,
		"latflow.L":               strconv.Itoa(r.L),
		"latflow.parametrization": r.Parametrization,
		"latflow.precision":       r.Precision,
		"latflow.objective":       r.Objective,
		"latflow.gradient":        r.Gradient,
		"latflow.batch":           strconv.Itoa(r.Batch),
		"latflow.lr":              num(r.LR),
		"latflow.schedule":        r.Schedule,
		"latflow.steps":           strconv.Itoa(r.Steps),
		"latflow.clip":            num(r.Clip),
		"latflow.seed":            strconv.FormatUint(r.Seed, 10),
		"latflow.flow.layers":     strconv.Itoa(r.Config.Layers),
		"latflow.flow.mixtures":   strconv.Itoa(r.Config.Mixtures),
		"latflow.flow.hidden":     strings.Join(hidden, ","),
		"latflow.flow.kernel":     strconv.Itoa(r.Config.Kernel),
	}
	for k, v := range r.Couplings {
		md["latflow.coupling."+k] = num(v)
	}
	return md
}

// DataDigest returns the hex SHA-256 of the configurations, in order, as
// little-endian float64 bits: the identity of a forward run's data.
func DataDigest(configs [][]float64) string {
	h := sha256.New()
	var b [8]byte
	for _, c := range configs {
		for _, v := range c {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Checkpoint is the complete state of a Trainer between two steps, with
// the parameters of its run.
type Checkpoint struct {
	Run RunParams
	// Step, Skipped and SkipRun are the steps done, the skipped steps and
	// the skipped steps in a row at the end.
	Step, Skipped, SkipRun int
	// PathSince is Trainer.PathSince: the step of the PathSwitch check
	// that turned the forward path gradient on, 0 if it is off.
	PathSince int
	// Elapsed is the wall-clock seconds of training so far, CPUElapsed the
	// CPU seconds of the process (LogRow.CPUSeconds), NaN if unknown (a
	// checkpoint of format 1 or 2, or a run resumed from one).
	Elapsed, CPUElapsed float64
	// Model holds the architecture, the target (from Run) and the master
	// parameters.
	Model flow.Model
	Adam  Adam
	// RNG is the state of the random number generator (PCG
	// MarshalBinary).
	RNG []byte
	// Plateau is the state of a ReduceOnPlateau schedule, nil for the
	// stateless schedules.
	Plateau *ReduceOnPlateau
	// Log are the log rows of the steps done.
	Log []LogRow
}

// Checkpoint returns the state of t, with run as the run's parameters.
func (t *Trainer[T]) Checkpoint(run RunParams) *Checkpoint {
	rng, err := t.src.MarshalBinary()
	if err != nil {
		panic("flowtrain: Checkpoint: " + err.Error()) // PCG never fails
	}
	m := t.Model()
	m.Target = run.Target.Clone()
	c := &Checkpoint{
		Run: run, Step: t.step, Skipped: t.skipped, SkipRun: t.skipRun, PathSince: t.pathSince, Elapsed: t.wall(),
		CPUElapsed: t.cpu(), Model: m,
		Adam: Adam{Beta1: t.adam.Beta1, Beta2: t.adam.Beta2, Eps: t.adam.Eps, Step: t.adam.Step,
			M: slices.Clone(t.adam.M), V: slices.Clone(t.adam.V)},
		RNG: rng,
		Log: slices.Clone(t.log),
	}
	if p, ok := t.sched.(*ReduceOnPlateau); ok {
		q := *p
		c.Plateau = &q
	}
	return c
}

// Restore replaces the state of t by that of c. It returns an error,
// leaving t unchanged, if c does not fit t: another architecture or
// parameter count, optimizer state of another length, a schedule of
// another kind or other hyperparameters, or a bad RNG state. It does not
// compare c.Run (see RunParams.Mismatch).
func (t *Trainer[T]) Restore(c *Checkpoint) error {
	const p = "flowtrain: restore checkpoint: "
	if !reflect.DeepEqual(c.Model.Config.Canonical(), t.flow.Config.Canonical()) {
		return fmt.Errorf(p+"flow architecture %+v, this trainer's %+v", c.Model.Config, t.flow.Config)
	}
	n := len(t.params)
	if len(c.Model.Params) != n || len(c.Adam.M) != n || len(c.Adam.V) != n {
		return fmt.Errorf(p+"%d parameters and %d+%d optimizer moments, want %d each", len(c.Model.Params), len(c.Adam.M), len(c.Adam.V), n)
	}
	if err := c.Adam.check(); err != nil {
		return fmt.Errorf(p+"optimizer: %v", err)
	}
	if c.Step < 0 || c.Skipped < 0 || c.SkipRun < 0 || c.Skipped > c.Step || c.SkipRun > c.Skipped ||
		c.Adam.Step != c.Step-c.Skipped || len(c.Log) != c.Step || c.PathSince < 0 || c.PathSince > c.Step {
		return fmt.Errorf(p+"inconsistent counters: %d steps, %d skipped (%d in a row), %d updates, %d log rows, path gradient since step %d",
			c.Step, c.Skipped, c.SkipRun, c.Adam.Step, len(c.Log), c.PathSince)
	}
	if c.PathSince > 0 && t.std == nil {
		return fmt.Errorf(p+"checkpoint uses the path gradient since step %d, this trainer has no path switch", c.PathSince)
	}
	plateau, isPlateau := t.sched.(*ReduceOnPlateau)
	switch {
	case isPlateau && c.Plateau == nil:
		return fmt.Errorf(p + "checkpoint has no plateau schedule state, this trainer has a plateau schedule")
	case !isPlateau && c.Plateau != nil:
		return fmt.Errorf(p+"checkpoint has plateau schedule state, this trainer's schedule is %T", t.sched)
	case isPlateau && (c.Plateau.LR0 != plateau.LR0 || c.Plateau.Factor != plateau.Factor ||
		c.Plateau.Patience != plateau.Patience || c.Plateau.Threshold != plateau.Threshold || c.Plateau.Min != plateau.Min):
		return fmt.Errorf(p+"plateau schedule %+v, this trainer's %+v", *c.Plateau, *plateau)
	}
	var src rand.PCG
	if err := src.UnmarshalBinary(c.RNG); err != nil {
		return fmt.Errorf(p+"random number generator state: %v", err)
	}
	*t.src = src
	copy(t.params, c.Model.Params)
	t.adam.Step = c.Adam.Step
	t.adam.Beta1, t.adam.Beta2, t.adam.Eps = c.Adam.Beta1, c.Adam.Beta2, c.Adam.Eps
	copy(t.adam.M, c.Adam.M)
	copy(t.adam.V, c.Adam.V)
	if isPlateau {
		*plateau = *c.Plateau
	}
	t.step, t.skipped, t.skipRun, t.pathSince = c.Step, c.Skipped, c.SkipRun, c.PathSince
	t.elapsed, t.cpuElapsed, t.started = c.Elapsed, c.CPUElapsed, time.Time{}
	t.log = append(t.log[:0], c.Log...)
	for i, v := range t.params {
		t.paramsT[i] = T(v)
	}
	t.flow.SetParams(t.paramsT)
	return nil
}

// Checkpoint file format, version 3. All integers are little-endian.
//
//	magic "LATFLOWC" | format version uint32 | header length H uint32 |
//	header: H bytes of JSON {"run", "step", "skipped", "skip_run",
//	        "path_since" (omitted when 0), "elapsed", "cpu_elapsed"
//	        (omitted when unknown), "plateau"} |
//	model:  uint64 length | a model file (flow.Model.Encode) holding the
//	        architecture, the target and the master parameters |
//	adam:   uint64 length | Adam.MarshalBinary |
//	rng:    uint64 length | rand.PCG.MarshalBinary |
//	log:    uint64 rows | per row: step int64, loss, grad_norm, ess,
//	        std_logw, lr, wall_seconds as float64 bits, skipped uint8,
//	        ess_fresh (from version 2), acc_fresh and cpu_seconds (from
//	        version 3) as float64 bits |
//	SHA-256 of all preceding bytes (32 bytes)
//
// Floats in the header (learning rates, couplings, plateau state) are JSON
// numbers in Go's shortest round-trip form, so they are restored exactly.
//
// DecodeCheckpoint reads versions 1 to 3. What an older version lacks
// reads as not measured: ESSFresh and AccFresh 0, CPUSeconds and
// CPUElapsed NaN (so a run resumed from it logs no CPU time).
const (
	CheckpointFormatVersion = 3
	checkpointMagic         = "LATFLOWC"
)

// logRowBytes returns the size of a log row in a checkpoint of format
// version v (1 to CheckpointFormatVersion).
func logRowBytes(v uint32) int {
	switch v {
	case 1:
		return 8 + 6*8 + 1
	case 2:
		return 8 + 6*8 + 1 + 8
	}
	return 8 + 6*8 + 1 + 3*8
}

type checkpointHeader struct {
	Run        RunParams        `json:"run"`
	Step       int              `json:"step"`
	Skipped    int              `json:"skipped"`
	SkipRun    int              `json:"skip_run"`
	PathSince  int              `json:"path_since,omitempty"`
	Elapsed    float64          `json:"elapsed"`
	CPUElapsed *float64         `json:"cpu_elapsed,omitempty"`
	Plateau    *ReduceOnPlateau `json:"plateau,omitempty"`
}

// Encode returns the checkpoint file bytes of c.
func (c *Checkpoint) Encode() ([]byte, error) {
	h := checkpointHeader{Run: c.Run, Step: c.Step, Skipped: c.Skipped, SkipRun: c.SkipRun, PathSince: c.PathSince, Elapsed: c.Elapsed, Plateau: c.Plateau}
	if cpu := c.CPUElapsed; !math.IsNaN(cpu) && !math.IsInf(cpu, 0) {
		h.CPUElapsed = &cpu
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("flowtrain: encode checkpoint header: %w", err)
	}
	model, err := c.Model.Encode()
	if err != nil {
		return nil, err
	}
	adam, err := c.Adam.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 16+len(hdr)+8+len(model)+8+len(adam)+8+len(c.RNG)+8+logRowBytes(CheckpointFormatVersion)*len(c.Log)+sha256.Size)
	b = append(b, checkpointMagic...)
	b = binary.LittleEndian.AppendUint32(b, CheckpointFormatVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(hdr)))
	b = append(b, hdr...)
	for _, sec := range [][]byte{model, adam, c.RNG} {
		b = binary.LittleEndian.AppendUint64(b, uint64(len(sec)))
		b = append(b, sec...)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(len(c.Log)))
	for _, r := range c.Log {
		b = binary.LittleEndian.AppendUint64(b, uint64(r.Step))
		for _, v := range [...]float64{r.Loss, r.GradNorm, r.ESS, r.StdLogW, r.LR, r.WallSeconds} {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
		var s byte
		if r.Skipped {
			s = 1
		}
		b = append(b, s)
		for _, v := range [...]float64{r.ESSFresh, r.AccFresh, r.CPUSeconds} {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...), nil
}

// DecodeCheckpoint parses checkpoint file bytes; name labels errors, which
// are one line: "flowtrain: checkpoint NAME: PROBLEM".
func DecodeCheckpoint(name string, b []byte) (*Checkpoint, error) {
	fail := func(format string, a ...any) (*Checkpoint, error) {
		return nil, fmt.Errorf("flowtrain: checkpoint %s: "+format, append([]any{name}, a...)...)
	}
	if len(b) < len(checkpointMagic) || string(b[:len(checkpointMagic)]) != checkpointMagic {
		return fail("not a latflow checkpoint (bad magic)")
	}
	if len(b) < 16+sha256.Size {
		return fail("truncated (%d bytes)", len(b))
	}
	body := b[:len(b)-sha256.Size]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], b[len(body):]) {
		return fail("checksum mismatch (corrupted or truncated file)")
	}
	version := binary.LittleEndian.Uint32(b[8:])
	if version < 1 || version > CheckpointFormatVersion {
		return fail("format version %d, this latflow reads versions 1 to %d", version, CheckpointFormatVersion)
	}
	rowBytes := uint64(logRowBytes(version))
	rest := body[12:]
	take := func(n uint64) ([]byte, bool) {
		if n > uint64(len(rest)) {
			return nil, false
		}
		s := rest[:n]
		rest = rest[n:]
		return s, true
	}
	hl, _ := take(4)
	hdrBytes, ok := take(uint64(binary.LittleEndian.Uint32(hl)))
	if !ok {
		return fail("header length overruns the file")
	}
	var hdr checkpointHeader
	if err := json.Unmarshal(hdrBytes, &hdr); err != nil {
		return fail("header: %v", err)
	}
	var secs [3][]byte
	for i, what := range [...]string{"model", "optimizer", "random number generator"} {
		l, ok := take(8)
		if !ok {
			return fail("truncated before the %s section", what)
		}
		if secs[i], ok = take(binary.LittleEndian.Uint64(l)); !ok {
			return fail("%s section overruns the file", what)
		}
	}
	model, err := flow.Decode(name+" (model section)", secs[0])
	if err != nil {
		return fail("%v", err)
	}
	c := &Checkpoint{
		Run: hdr.Run, Step: hdr.Step, Skipped: hdr.Skipped, SkipRun: hdr.SkipRun, PathSince: hdr.PathSince, Elapsed: hdr.Elapsed,
		Plateau: hdr.Plateau, Model: model, RNG: bytes.Clone(secs[2]), CPUElapsed: math.NaN(),
	}
	if hdr.CPUElapsed != nil {
		c.CPUElapsed = *hdr.CPUElapsed
	}
	if err := c.Adam.UnmarshalBinary(secs[1]); err != nil {
		return fail("%v", err)
	}
	l, ok := take(8)
	if !ok {
		return fail("truncated before the log section")
	}
	nrows := binary.LittleEndian.Uint64(l)
	if nrows > uint64(len(rest))/rowBytes || uint64(len(rest)) != nrows*rowBytes {
		return fail("log section of %d bytes, want %d rows of %d bytes", len(rest), nrows, rowBytes)
	}
	c.Log = make([]LogRow, nrows)
	f := func(off int) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(rest[off:])) }
	for i := range c.Log {
		o := i * int(rowBytes)
		r := LogRow{
			Step: int64(binary.LittleEndian.Uint64(rest[o:])),
			Loss: f(o + 8), GradNorm: f(o + 16), ESS: f(o + 24), StdLogW: f(o + 32), LR: f(o + 40), WallSeconds: f(o + 48),
			Skipped: rest[o+56] != 0, CPUSeconds: math.NaN(),
		}
		if version >= 2 {
			r.ESSFresh = f(o + 57)
		}
		if version >= 3 {
			r.AccFresh, r.CPUSeconds = f(o+65), f(o+73)
		}
		c.Log[i] = r
	}
	return c, nil
}

// SaveCheckpoint writes c to path atomically (a temporary file in the same
// directory, synced, renamed over path, and the directory synced).
func SaveCheckpoint(path string, c *Checkpoint) error {
	b, err := c.Encode()
	if err != nil {
		return err
	}
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// LoadCheckpoint reads the checkpoint file at path.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("flowtrain: load checkpoint: %w", err)
	}
	return DecodeCheckpoint(path, b)
}

// writeAtomic writes path through write atomically (package atomicfile).
func writeAtomic(path string, write func(io.Writer) error) error {
	if err := atomicfile.Write(path, 0o644, write); err != nil {
		return fmt.Errorf("flowtrain: %w", err)
	}
	return nil
}

// propagatorDigest names the gauss-k base's propagator in a mismatch: its
// length and a digest of its float64 bits, or "none".
func propagatorDigest(G []float64) string {
	if len(G) == 0 {
		return "none"
	}
	h := sha256.New()
	var b [8]byte
	for _, v := range G {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
	}
	return fmt.Sprintf("%d values (digest %.12x)", len(G), h.Sum(nil))
}
