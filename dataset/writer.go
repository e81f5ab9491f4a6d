package dataset

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// DefaultRowsPerPart is the number of rows per part when
// WriterOptions.RowsPerPart is 0.
const DefaultRowsPerPart = 1000

// WriterOptions tunes a Writer. The zero value is usable.
type WriterOptions struct {
	// RowsPerPart is the number of rows after which Append writes a part
	// (0 means DefaultRowsPerPart).
	RowsPerPart int
	// FirstPart is the index of the first part written; parts of the same
	// chain with this index or above must not exist yet. A resumed run
	// passes NextPart(dir, chain).
	FirstPart int
	// Allocator allocates the Arrow buffers (nil means
	// memory.DefaultAllocator).
	Allocator memory.Allocator
	// OnPart, if set, is called after each part is durably in place with
	// its path, its number of rows and the time taken to build, write,
	// sync and rename it.
	OnPart func(path string, rows int, dur time.Duration)
	// Format is the format version of the parts written: 0 means
	// FormatVersion (2); FormatVersion1 writes the layout of format 1 for
	// readers that know no other (no string columns, float64
	// configurations only).
	Format int
	// NoLock skips the chain's lock, for filesystems without flock (e.g.
	// Lustre mounted without the flock option). The caller must then
	// guarantee that no other writer of the chain runs.
	NoLock bool
	// Lock, if set, is the chain's lock, taken by the caller with
	// LockChain (for dir and the spec's chain). Create takes it over: the
	// Writer releases it on Close or Discard, and Create when it fails.
	Lock *ChainLock
}

// Row is one Monte Carlo step of a chain.
type Row struct {
	Step     int64
	Accepted bool
	Action   float64
	Obs      []float64 // one value per Spec.Observables, in that order
	// Null, if not nil, has one entry per Spec.Observables: true writes a
	// null (no value: e.g. delta_h on an IMH step) instead of Obs[k] in
	// format 2, and NaN in format 1, which has no nulls. Open reads a null
	// as NaN.
	Null   []bool
	Labels []string  // one value per Spec.Labels, in that order
	Config []float64 // Spec.ConfigSize values, or nil for a null configuration
	// Seconds is the wall time the step took, or 0 if it was not timed;
	// a part of format 2 stores the sum over its rows under KeyPartSeconds.
	Seconds float64
}

// Writer appends the rows of one chain to a dataset directory, one part per
// RowsPerPart rows. It holds the chain's lock from Create to Close or
// Discard. A Writer is not safe for concurrent use.
type Writer struct {
	dir    string
	spec   Spec
	format int
	opt    WriterOptions
	mem    memory.Allocator
	schema *arrow.Schema
	lock   *ChainLock
	sums   *os.File // checksum manifest, open for appending

	b        *array.RecordBuilder
	chainB   *array.Int32Builder
	stepB    *array.Int64Builder
	accB     *array.BooleanBuilder
	actionB  *array.Float64Builder
	lB       *array.Int32Builder     // format 2
	seedB    *array.Uint64Builder    // format 2
	coupB    []*array.Float64Builder // format 2, one per coupling in name order
	coupV    []float64
	obsB     []*array.Float64Builder
	labB     []*array.StringBuilder
	fslB     *array.FixedSizeListBuilder // format 1 configurations
	listB    *array.ListBuilder          // format 2 configurations
	cfg64B   *array.Float64Builder
	cfg32B   *array.Float32Builder
	cfg32Buf []float32

	rows      int     // rows buffered for the open part
	configs   int     // non-null configurations buffered
	cfgValues int64   // configuration values buffered
	seconds   float64 // Row.Seconds summed over the buffered rows
	maxValues int64   // configuration values per part (list offsets are int32)
	firstStep int64   // smallest step buffered
	lastStep  int64   // largest step buffered
	part      int     // index of the next part
	saved     int64   // rows in completed parts
	err       error   // sticky write error
	closed    bool
}

// Create prepares a Writer of the chain spec.Meta.Chain in dir, creating dir
// if needed, and takes the chain's lock (a second writer of the chain, in
// this process or another, gets an error naming the chain, the directory and
// the holder's pid). It refuses a spec that cannot be stored, a directory
// that already holds parts of the chain at index opt.FirstPart or above, a
// directory whose parts belong to another ensemble or have other columns
// (in format 2: other columns or column types, or another format). It
// removes temporary files of the chain left by a crashed writer.
func Create(dir string, spec Spec, opt WriterOptions) (w *Writer, err error) {
	format := opt.Format
	if format == 0 {
		format = FormatVersion
	}
	if format != FormatVersion1 && format != FormatVersion2 {
		return nil, fmt.Errorf("dataset: Format = %d, want %d or %d (0 means %d)", opt.Format, FormatVersion1, FormatVersion2, FormatVersion)
	}
	if err := spec.validate(format); err != nil {
		return nil, err
	}
	if opt.RowsPerPart < 0 {
		return nil, fmt.Errorf("dataset: RowsPerPart = %d, want >= 0", opt.RowsPerPart)
	}
	if opt.RowsPerPart == 0 {
		opt.RowsPerPart = DefaultRowsPerPart
	}
	if opt.FirstPart < 0 {
		return nil, fmt.Errorf("dataset: FirstPart = %d, want >= 0", opt.FirstPart)
	}
	mem := opt.Allocator
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if err := makeDir(dir); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	chain := spec.Meta.Chain
	lock := opt.Lock
	switch {
	case lock != nil && (lock.f == nil || lock.chain != chain || filepath.Clean(lock.dir) != filepath.Clean(dir)):
		lock.unlock()
		return nil, fmt.Errorf("dataset: WriterOptions.Lock is not the held lock of chain %d of %s", chain, dir)
	case lock == nil && !opt.NoLock:
		if lock, err = lockChain(dir, chain); err != nil {
			return nil, err
		}
	}
	var sums *os.File
	defer func() {
		if err != nil {
			if sums != nil {
				sums.Close()
			}
			lock.unlock()
		}
	}()
	if err := removeStaleTemps(dir, chain); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if err := checkExisting(dir, spec, format, opt.FirstPart, mem); err != nil {
		return nil, err
	}
	if sums, err = openChecksums(dir, chain); err != nil {
		return nil, fmt.Errorf("dataset: chain %d: checksums: %w", chain, err)
	}

	spec.Meta = spec.Meta.clone()
	spec.Observables = slices.Clone(spec.Observables)
	spec.Labels = slices.Clone(spec.Labels)
	w = &Writer{dir: dir, spec: spec, format: format, opt: opt, mem: mem, schema: spec.schema(format),
		lock: lock, sums: sums, part: opt.FirstPart, maxValues: math.MaxInt32}
	w.b = array.NewRecordBuilder(mem, w.schema)
	field := 0
	next := func() array.Builder { field++; return w.b.Field(field - 1) }
	w.chainB = next().(*array.Int32Builder)
	w.stepB = next().(*array.Int64Builder)
	w.accB = next().(*array.BooleanBuilder)
	w.actionB = next().(*array.Float64Builder)
	if format == FormatVersion2 {
		w.lB = next().(*array.Int32Builder)
		w.seedB = next().(*array.Uint64Builder)
		for _, name := range spec.couplingNames() {
			w.coupB = append(w.coupB, next().(*array.Float64Builder))
			w.coupV = append(w.coupV, spec.Meta.Couplings[name])
		}
	}
	for range spec.Observables {
		w.obsB = append(w.obsB, next().(*array.Float64Builder))
	}
	for range spec.Labels {
		w.labB = append(w.labB, next().(*array.StringBuilder))
	}
	if spec.ConfigName != "" {
		switch b := next().(type) {
		case *array.FixedSizeListBuilder:
			w.fslB, w.cfg64B = b, b.ValueBuilder().(*array.Float64Builder)
		case *array.ListBuilder:
			w.listB = b
			if spec.ConfigFloat32 {
				w.cfg32B = b.ValueBuilder().(*array.Float32Builder)
				w.cfg32Buf = make([]float32, spec.ConfigSize)
			} else {
				w.cfg64B = b.ValueBuilder().(*array.Float64Builder)
			}
		}
	}
	return w, nil
}

// makeDir creates dir and makes its entry in the parent durable.
func makeDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return syncDir(filepath.Dir(filepath.Clean(dir)))
}

// checkExisting refuses a directory with parts that Create must not mix
// with spec.
func checkExisting(dir string, spec Spec, format, firstPart int, mem memory.Allocator) error {
	names, err := listParts(dir)
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	for _, name := range names {
		if c, p, ok := parsePartName(name); ok && c == spec.Meta.Chain && p >= firstPart {
			return fmt.Errorf("dataset: %s already holds %s of chain %d (a resumed writer starts at FirstPart = NextPart)",
				dir, name, c)
		}
	}
	if len(names) == 0 {
		return nil
	}
	path := filepath.Join(dir, names[0])
	other, otherFormat, err := readSpec(path, mem)
	if err != nil {
		return err
	}
	if what, va, vb := ensembleDiff(spec.Meta, other.Meta); what != "" {
		return fmt.Errorf("dataset: different ensemble: %s for the new chain %d, %s in %s", va, spec.Meta.Chain, vb, path)
	}
	if format != otherFormat {
		return fmt.Errorf("dataset: %s holds format %d parts (%s); a writer of format %d does not add to it, so that "+
			"all parts of a directory have one schema and Polars reads them as one table (write to a new directory, "+
			"or set WriterOptions.Format = %d)", dir, otherFormat, path, format, otherFormat)
	}
	va, vb := layoutDiff(spec, other)
	if format == FormatVersion2 {
		va, vb = schemaDiff(spec, format, other, otherFormat)
	}
	if va != "" {
		return fmt.Errorf("dataset: different columns: %s for the new chain %d, %s in %s", va, spec.Meta.Chain, vb, path)
	}
	return nil
}

// Dir returns the dataset directory.
func (w *Writer) Dir() string { return w.dir }

// RowsSaved returns the number of rows in the parts written so far.
func (w *Writer) RowsSaved() int64 { return w.saved }

// RowsBuffered returns the number of rows appended since the last part.
func (w *Writer) RowsBuffered() int { return w.rows }

// Append buffers a row and writes a part when RowsPerPart rows are
// buffered. It panics if r.Obs, r.Labels or r.Config do not match the spec
// or if the writer is closed. After a write error, Append and Flush return
// that error.
func (w *Writer) Append(r Row) error {
	if w.closed {
		panic("dataset: Append on a closed Writer")
	}
	if len(r.Obs) != len(w.obsB) {
		panic(fmt.Sprintf("dataset: row has %d observables, want %d", len(r.Obs), len(w.obsB)))
	}
	if r.Null != nil && len(r.Null) != len(w.obsB) {
		panic(fmt.Sprintf("dataset: row has %d null flags, want %d", len(r.Null), len(w.obsB)))
	}
	if len(r.Labels) != len(w.labB) {
		panic(fmt.Sprintf("dataset: row has %d labels, want %d", len(r.Labels), len(w.labB)))
	}
	if r.Config != nil && (w.spec.ConfigName == "" || len(r.Config) != w.spec.ConfigSize) {
		panic(fmt.Sprintf("dataset: row has a configuration of size %d, want %d", len(r.Config), w.spec.ConfigSize))
	}
	if w.err != nil {
		return w.err
	}
	if w.listB != nil && r.Config != nil && w.rows > 0 && w.cfgValues+int64(len(r.Config)) > w.maxValues {
		if err := w.Flush(); err != nil { // the list offsets of a part are int32
			return err
		}
	}
	if w.rows == 0 {
		w.reserve()
		w.firstStep, w.lastStep = r.Step, r.Step
	}
	w.firstStep, w.lastStep = min(w.firstStep, r.Step), max(w.lastStep, r.Step)
	w.chainB.UnsafeAppend(int32(w.spec.Meta.Chain))
	w.stepB.UnsafeAppend(r.Step)
	w.accB.UnsafeAppend(r.Accepted)
	w.actionB.UnsafeAppend(r.Action)
	if w.lB != nil {
		w.lB.UnsafeAppend(int32(w.spec.Meta.L))
		w.seedB.UnsafeAppend(w.spec.Meta.Seed)
		for i, v := range w.coupV {
			w.coupB[i].UnsafeAppend(v)
		}
	}
	for i, v := range r.Obs {
		switch {
		case r.Null == nil || !r.Null[i]:
			w.obsB[i].UnsafeAppend(v)
		case w.format == FormatVersion1:
			w.obsB[i].UnsafeAppend(math.NaN())
		default:
			w.obsB[i].AppendNull()
		}
	}
	for i, v := range r.Labels {
		w.labB[i].Append(v)
	}
	switch {
	case w.fslB != nil && r.Config == nil:
		w.fslB.AppendNulls(1)
	case w.fslB != nil:
		w.fslB.Append(true)
		w.cfg64B.AppendValues(r.Config, nil)
	case w.listB != nil && r.Config == nil:
		w.listB.AppendNull()
	case w.listB != nil:
		w.listB.Append(true)
		if w.cfg32B != nil {
			for k, v := range r.Config {
				w.cfg32Buf[k] = float32(v)
			}
			w.cfg32B.AppendValues(w.cfg32Buf, nil)
		} else {
			w.cfg64B.AppendValues(r.Config, nil)
		}
	}
	w.seconds += r.Seconds
	if r.Config != nil {
		w.configs++
		w.cfgValues += int64(len(r.Config))
	}
	w.rows++
	if w.rows >= w.opt.RowsPerPart {
		return w.Flush()
	}
	return nil
}

// reserve sizes the builders of the fixed-width columns for a full part.
// Configurations of format 2 grow as they come, so that a part takes the
// memory of the configurations it saves.
func (w *Writer) reserve() {
	n := w.opt.RowsPerPart
	w.b.Reserve(n)
	if w.fslB != nil {
		w.cfg64B.Reserve(n * w.spec.ConfigSize)
	}
}

// partSchema returns the schema of the buffered part: the writer's schema
// with, in format 2, the part's rows, steps and configurations as metadata.
func (w *Writer) partSchema() *arrow.Schema {
	if w.format == FormatVersion1 {
		return w.schema
	}
	kv := w.schema.Metadata().ToMap()
	kv[KeyPartRows] = strconv.Itoa(w.rows)
	kv[KeyPartFirstStep] = strconv.FormatInt(w.firstStep, 10)
	kv[KeyPartLastStep] = strconv.FormatInt(w.lastStep, 10)
	kv[KeyPartConfigs] = strconv.Itoa(w.configs)
	if w.seconds > 0 {
		kv[KeyPartSeconds] = strconv.FormatFloat(w.seconds, 'g', -1, 64)
	}
	md := arrow.MetadataFrom(kv) // sorted by key
	return arrow.NewSchema(w.schema.Fields(), &md)
}

// Flush writes the buffered rows as a part now; it does nothing if no row is
// buffered.
func (w *Writer) Flush() error {
	if w.closed {
		panic("dataset: Flush on a closed Writer")
	}
	if w.err != nil {
		return w.err
	}
	if w.rows == 0 {
		return nil
	}
	start := time.Now()
	schema := w.partSchema()
	built := w.b.NewRecordBatch()
	rec := array.NewRecordBatch(schema, built.Columns(), built.NumRows())
	built.Release()
	defer rec.Release()
	rows := w.rows
	w.rows, w.configs, w.cfgValues, w.seconds = 0, 0, 0, 0
	path := filepath.Join(w.dir, PartName(w.spec.Meta.Chain, w.part))
	if err := writePart(path, schema, rec, w.mem, w.sums); err != nil {
		w.err = fmt.Errorf("dataset: chain %d: %w", w.spec.Meta.Chain, err)
		return w.err
	}
	w.part++
	w.saved += int64(rows)
	if w.opt.OnPart != nil {
		w.opt.OnPart(path, rows, time.Since(start))
	}
	return nil
}

// writePart writes rec as the Arrow IPC file path: it writes a temporary
// file with a unique name next to it, syncs and closes it, appends its
// SHA-256 to the checksum manifest sums (if not nil) and syncs that, renames
// the file to path without replacing an existing file, and syncs the
// directory. On error no temporary file is left behind.
func writePart(path string, schema *arrow.Schema, rec arrow.RecordBatch, mem memory.Allocator, sums *os.File) (err error) {
	dir, name := filepath.Split(path)
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s already exists (two writers of one chain?)", path)
	}
	tmp := filepath.Join(dir, tempName(name))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	h := sha256.New()
	fe := &firstError{w: f}
	bw := bufio.NewWriterSize(io.MultiWriter(fe, h), 1<<16)
	fw, err := ipc.NewFileWriter(bw, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	if err != nil {
		return err
	}
	err = fw.Write(rec)
	if cerr := fw.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		if fe.err != nil {
			// The file's own error (a full disk: ENOSPC), which the Arrow
			// writer reports without wrapping.
			return fe.err
		}
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	var listed int64 = -1 // size of the manifest before the part's line
	if sums != nil {
		var sum checksum
		h.Sum(sum[:0])
		if listed, err = sums.Seek(0, io.SeekEnd); err != nil {
			return fmt.Errorf("checksum manifest: %w", err)
		}
		if err = appendChecksum(sums, name, sum); err != nil {
			return fmt.Errorf("checksum manifest: %w", err)
		}
	}
	if err = renameNoReplace(tmp, path); err != nil {
		if listed >= 0 {
			// The part is not in place: take its line back, so that the
			// manifest does not list a part that was never written.
			if terr := sums.Truncate(listed); terr == nil {
				_, _ = sums.Seek(listed, io.SeekStart)
				_ = sums.Sync()
			}
		}
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists (two writers of one chain?)", path)
		}
		return err
	}
	return syncDir(dir)
}

// firstError is a writer that records the first error of w.
type firstError struct {
	w   io.Writer
	err error
}

func (e *firstError) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// Close writes the buffered rows as a last part, releases the writer and
// its lock. Calling Close again returns nil.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	err := w.Flush()
	w.release()
	return err
}

// Discard drops the buffered rows without writing them and releases the
// writer and its lock; the parts already written stay. It is meant for
// interrupts. Calling it after Close or Discard does nothing.
func (w *Writer) Discard() error {
	if w.closed {
		return nil
	}
	w.rows, w.seconds = 0, 0
	w.release()
	return nil
}

func (w *Writer) release() {
	w.closed = true
	w.b.Release()
	w.b = nil
	if w.sums != nil {
		w.sums.Close()
		w.sums = nil
	}
	w.lock.unlock()
}
