package dataset

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// OpenOptions tunes OpenWith. The zero value reads everything but the
// configurations, verifies every part against its checksum and checks the
// integrity of the ensemble (Dataset.Check).
type OpenOptions struct {
	// Configs loads the non-null configurations into Chain.Configs.
	Configs bool
	// Allocator allocates the Arrow buffers while reading (nil means
	// memory.DefaultAllocator).
	Allocator memory.Allocator
	// SkipChecksums reads the parts without comparing them with their
	// checksums, and reads format 2 parts that have none: for rescuing
	// what a damaged dataset still holds.
	SkipChecksums bool
	// SkipChecks skips Dataset.Check (duplicate chains, chains mixing seeds,
	// gaps in steps), for tools that need raw access to the parts.
	SkipChecks bool
}

// Dataset is the content of one or more dataset directories of one
// ensemble.
type Dataset struct {
	// Meta holds the ensemble (theory, L, parametrization, couplings) and
	// each other field on which all chains agree; the others are zero.
	Meta        Meta
	Observables []string // observable columns, in column order
	Labels      []string // string columns, in column order
	ConfigName  string   // configuration column of some part, or ""
	ConfigSize  int
	Chains      []Chain // ordered by directory (as given), then chain id
}

// Chain is the rows of one chain, sorted by step. Two directories holding
// the same chain id give two chains (independent replicas when their seeds
// differ; Dataset.Check refuses the same seed).
type Chain struct {
	ID        int
	Dir       string
	Meta      Meta       // metadata of the chain's first part
	Parts     []string   // paths of the chain's parts, sorted by name
	PartInfos []PartInfo // one per part, in the order of Parts
	Steps     []int64
	Accepted  []bool
	Action    []float64
	Obs       map[string][]float64 // per observable, aligned with Steps
	Labels    map[string][]string  // per string column, aligned with Steps

	// With OpenOptions.Configs: the steps that saved a configuration and the
	// configurations (each ConfigSize values, one backing array per chain;
	// float32 configurations are widened to float64).
	ConfigSteps []int64
	Configs     [][]float64
}

// SecondsPerStep returns the wall time per step of the chains' timed parts
// (KeyPartSeconds), and false if no part was timed (datasets written
// before parts recorded it).
func SecondsPerStep(chains []Chain) (float64, bool) {
	var sec float64
	var rows int
	for _, c := range chains {
		for _, p := range c.PartInfos {
			if p.Seconds > 0 {
				sec += p.Seconds
				rows += p.Rows
			}
		}
	}
	if rows == 0 {
		return 0, false
	}
	return sec / float64(rows), true
}

// Open reads every part-*.arrow file of the dataset directories dirs,
// without the configurations. See OpenWith.
func Open(dirs ...string) (*Dataset, error) {
	return OpenWith(OpenOptions{}, dirs...)
}

// OpenWith reads every part-*.arrow file of the dataset directories dirs,
// of format 1 or 2. It returns a one-line error for a missing directory, a
// directory without parts, a part that is not a latflow Arrow IPC file or is
// corrupt (naming the file; a reader error is never a panic), a part whose
// SHA-256 differs from its checksum manifest, a format 2 part without a
// checksum, parts of different ensembles or columns (naming both values and
// both files), a step that appears twice in one chain, and, unless
// opt.SkipChecks, an ensemble that fails Dataset.Check.
func OpenWith(opt OpenOptions, dirs ...string) (*Dataset, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("dataset: no directory given")
	}
	mem := opt.Allocator
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	var (
		ds        Dataset
		first     Spec   // spec of the first part
		firstAt   string // path of the first part
		cfgAt     string // path of the first part with a configuration column
		chains    []*chainBuilder
		seenDirs  = map[string]string{}
		manifests = manifestCache{}
	)
	for _, dir := range dirs {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		if prev, ok := seenDirs[abs]; ok {
			return nil, fmt.Errorf("dataset: directory %s given twice (as %s and %s)", abs, prev, dir)
		}
		seenDirs[abs] = dir
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("dataset: %s is not a directory", dir)
		}
		names, err := listParts(dir)
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("dataset: %s holds no part-*.arrow file", dir)
		}
		if !opt.SkipChecksums {
			if err := checkListed(dir, names, manifests); err != nil {
				return nil, err
			}
		}
		byID := map[int]*chainBuilder{}
		for _, name := range names {
			path := filepath.Join(dir, name)
			var partSums map[string]checksum
			if !opt.SkipChecksums {
				if partSums, err = manifests.forPart(dir, name); err != nil {
					return nil, err
				}
			}
			p, err := readPartFile(path, partSums, opt, mem)
			if err != nil {
				return nil, err
			}
			if firstAt == "" {
				first, firstAt = p.spec, path
				ds.Observables, ds.Labels = p.spec.Observables, p.spec.Labels
				ds.Meta = p.spec.Meta
			}
			if what, va, vb := ensembleDiff(first.Meta, p.spec.Meta); what != "" {
				return nil, fmt.Errorf("dataset: parts of different ensembles: %s in %s, %s in %s", va, firstAt, vb, path)
			}
			if p.spec.ConfigName != "" && cfgAt == "" {
				ds.ConfigName, ds.ConfigSize, cfgAt = p.spec.ConfigName, p.spec.ConfigSize, path
			}
			ref, refAt := first, firstAt
			if p.spec.ConfigName != "" && ref.ConfigName == "" {
				ref, refAt = Spec{Observables: ds.Observables, Labels: ds.Labels, ConfigName: ds.ConfigName, ConfigSize: ds.ConfigSize}, cfgAt
			}
			if va, vb := layoutDiff(ref, p.spec); va != "" {
				return nil, fmt.Errorf("dataset: parts with different columns: %s in %s, %s in %s", va, refAt, vb, path)
			}
			ds.Meta = ds.Meta.common(p.spec.Meta)
			c := byID[p.spec.Meta.Chain]
			if c == nil {
				c = &chainBuilder{Chain: Chain{ID: p.spec.Meta.Chain, Dir: dir, Meta: p.spec.Meta,
					Obs: map[string][]float64{}, Labels: map[string][]string{}}}
				byID[c.ID] = c
			}
			c.add(path, p)
		}
		for _, id := range slices.Sorted(maps.Keys(byID)) {
			chains = append(chains, byID[id])
		}
	}
	ds.Meta = ds.Meta.clone()
	for _, c := range chains {
		if err := c.finish(ds.Observables, ds.Labels, ds.ConfigSize); err != nil {
			return nil, err
		}
		ds.Chains = append(ds.Chains, c.Chain)
	}
	if !opt.SkipChecks {
		if err := ds.Check(); err != nil {
			return nil, err
		}
	}
	return &ds, nil
}

// Rows returns the total number of rows of all chains.
func (d *Dataset) Rows() int {
	n := 0
	for _, c := range d.Chains {
		n += len(c.Steps)
	}
	return n
}

// Configs returns the configurations of all chains, chain after chain, in
// step order. It is empty unless the dataset was opened with
// OpenOptions.Configs.
func (d *Dataset) Configs() [][]float64 {
	var all [][]float64
	for _, c := range d.Chains {
		all = append(all, c.Configs...)
	}
	return all
}

// part is the content of one part file.
type part struct {
	spec        Spec
	info        PartInfo
	chain       []int32
	steps       []int64
	accepted    []bool
	action      []float64
	obs         [][]float64
	labels      [][]string
	configSteps []int64
	configs     []float64 // flat, spec.ConfigSize per configuration
}

// readSpec reads the schema and format of a part from its footer.
func readSpec(path string, mem memory.Allocator) (s Spec, format int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return Spec{}, 0, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	defer recoverAsError(path, &err)
	size, err := checkFileFooter(f)
	if err != nil {
		return Spec{}, 0, fmt.Errorf("dataset: %s: %s", path, oneLine(err))
	}
	r, err := ipc.NewFileReader(f, ipc.WithAllocator(boundedAllocator{mem, readLimit(size)}))
	if err != nil {
		return Spec{}, 0, fmt.Errorf("dataset: %s: not an Arrow IPC file: %s", path, oneLine(err))
	}
	defer r.Close()
	s, format, err = specFrom(r.Schema())
	if err != nil {
		return Spec{}, 0, fmt.Errorf("dataset: %s: %s", path, oneLine(err))
	}
	return s, format, nil
}

// recoverAsError turns a panic of the Arrow decoder on a corrupt file into
// an error naming the file.
func recoverAsError(path string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("dataset: %s: corrupt Arrow IPC file: %s", path, oneLine(fmt.Errorf("%v", r)))
	}
}

// readPartFile reads the part at path and, unless opt.SkipChecksums,
// verifies it against its line in sums (the checksum manifest of its chain);
// a format 2 part must have one.
func readPartFile(path string, sums map[string]checksum, opt OpenOptions, mem memory.Allocator) (*part, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	verified := false
	if !opt.SkipChecksums {
		if verified, err = verifyChecksum(path, data, sums); err != nil {
			return nil, err
		}
	}
	p, err := decodePart(path, data, opt.Configs, mem)
	if err != nil {
		return nil, err
	}
	if p.info.Format == FormatVersion2 && !verified && !opt.SkipChecksums {
		c := chainOfPath(path)
		if c < 0 {
			c = p.spec.Meta.Chain
		}
		return nil, fmt.Errorf("dataset: %s: no checksum in %s (format 2 parts are written with one; "+
			"OpenOptions.SkipChecksums reads the part unverified)", path, filepath.Join(filepath.Dir(path), ChecksumName(c)))
	}
	p.info.Checksum = verified
	return p, nil
}

// decodePart decodes the bytes of the part at path, with its configurations
// if configs is set. Every problem, including a panic of the Arrow decoder,
// is an error naming path.
func decodePart(path string, data []byte, configs bool, mem memory.Allocator) (p *part, err error) {
	defer recoverAsError(path, &err)
	if err := checkFooter(data); err != nil {
		return nil, fmt.Errorf("dataset: %s: %s", path, oneLine(err))
	}
	mem = boundedAllocator{mem, readLimit(int64(len(data)))}
	r, err := ipc.NewFileReader(bytes.NewReader(data), ipc.WithAllocator(mem))
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: not an Arrow IPC file: %s", path, oneLine(err))
	}
	defer r.Close()
	spec, format, err := specFrom(r.Schema())
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %s", path, oneLine(err))
	}
	p = &part{spec: spec, obs: make([][]float64, len(spec.Observables)), labels: make([][]string, len(spec.Labels))}
	p.info = PartInfo{Path: path, Index: -1, Format: format, Meta: spec.Meta, ConfigFloat32: spec.ConfigFloat32}
	if _, k, ok := parsePartName(filepath.Base(path)); ok {
		p.info.Index = k
	}
	for i := 0; i < r.NumRecords(); i++ {
		err := func() error {
			rec, err := r.RecordBatchAt(i)
			if err != nil {
				return fmt.Errorf("record batch %d: %s", i, oneLine(err))
			}
			defer rec.Release()
			return p.appendRecord(rec, format, configs)
		}()
		if err != nil {
			return nil, fmt.Errorf("dataset: %s: %w", path, err)
		}
	}
	for _, c := range p.chain {
		if int(c) != spec.Meta.Chain {
			return nil, fmt.Errorf("dataset: %s: chain column holds %d, %s is %d", path, c, KeyChain, spec.Meta.Chain)
		}
	}
	p.info.Rows = len(p.steps)
	if len(p.steps) > 0 {
		p.info.FirstStep, p.info.LastStep = slices.Min(p.steps), slices.Max(p.steps)
	}
	if format == FormatVersion2 {
		if err := checkPartKeys(r.Schema().Metadata(), p.info); err != nil {
			return nil, fmt.Errorf("dataset: %s: %w", path, err)
		}
		if p.info.Seconds, err = partSeconds(r.Schema().Metadata()); err != nil {
			return nil, fmt.Errorf("dataset: %s: %w", path, err)
		}
	}
	return p, nil
}

// appendRecord copies the values of rec, a record batch of a part of the
// format, into p, checking every column for length, nulls and, in format 2,
// agreement of the ensemble columns with the metadata.
func (p *part) appendRecord(rec arrow.RecordBatch, format int, configs bool) error {
	n := int(rec.NumRows())
	cfgAt := -1
	if p.spec.ConfigName != "" {
		cfgAt = int(rec.NumCols()) - 1
	}
	// Observable columns of format 2 may hold nulls (a step for which the
	// sampler has no value), read as NaN.
	obsFrom, obsTo := -1, -1
	if format == FormatVersion2 {
		obsFrom = numFixed + 2 + len(p.spec.Meta.Couplings)
		obsTo = obsFrom + len(p.obs)
	}
	for i, col := range rec.Columns() {
		if col.Len() != n {
			return fmt.Errorf("column %s has %d rows, the record batch %d", rec.ColumnName(i), col.Len(), n)
		}
		if col.NullN() != 0 && i != cfgAt && (i < obsFrom || i >= obsTo) {
			return fmt.Errorf("column %s has %d nulls", rec.ColumnName(i), col.NullN())
		}
	}
	p.chain = append(p.chain, rec.Column(0).(*array.Int32).Int32Values()...)
	steps := rec.Column(1).(*array.Int64).Int64Values()
	p.steps = append(p.steps, steps...)
	acc := rec.Column(2).(*array.Boolean)
	for j := 0; j < n; j++ {
		p.accepted = append(p.accepted, acc.Value(j))
	}
	p.action = append(p.action, rec.Column(3).(*array.Float64).Float64Values()...)
	at := numFixed
	if format == FormatVersion2 {
		if err := p.checkEnsembleColumns(rec, steps); err != nil {
			return err
		}
		at += 2 + len(p.spec.Meta.Couplings)
	}
	for k := range p.obs {
		col := rec.Column(at).(*array.Float64)
		from := len(p.obs[k])
		p.obs[k] = append(p.obs[k], col.Float64Values()...)
		if col.NullN() != 0 {
			for j := 0; j < n; j++ {
				if col.IsNull(j) {
					p.obs[k][from+j] = math.NaN()
				}
			}
		}
		at++
	}
	for k := range p.labels {
		p.labels[k] = appendStrings(p.labels[k], rec.Column(at).(*array.String))
		at++
	}
	if cfgAt < 0 {
		return nil
	}
	cfg := rec.Column(cfgAt)
	p.info.Configs += n - cfg.NullN()
	if !configs {
		return nil
	}
	size := p.spec.ConfigSize
	var (
		values []float64 // float64 child values
		wide   []float32 // float32 child values
		offset func(j int) (int64, int64)
		isNull func(j int) bool
	)
	switch list := cfg.(type) {
	case *array.FixedSizeList:
		values = list.ListValues().(*array.Float64).Float64Values()
		offset, isNull = list.ValueOffsets, list.IsNull
	case *array.List:
		switch v := list.ListValues().(type) {
		case *array.Float64:
			values = v.Float64Values()
		case *array.Float32:
			wide = v.Float32Values()
		}
		offset, isNull = list.ValueOffsets, list.IsNull
	}
	nValues := int64(max(len(values), len(wide)))
	for j := 0; j < n; j++ {
		if isNull(j) {
			continue
		}
		start, end := offset(j)
		if start < 0 || end < start || end > nValues {
			return fmt.Errorf("configuration at step %d: values %d to %d of %d", steps[j], start, end, nValues)
		}
		if int(end-start) != size {
			return fmt.Errorf("configuration at step %d has %d values, want %d", steps[j], end-start, size)
		}
		p.configSteps = append(p.configSteps, steps[j])
		if wide == nil {
			p.configs = append(p.configs, values[start:end]...)
			continue
		}
		for _, v := range wide[start:end] {
			p.configs = append(p.configs, float64(v))
		}
	}
	return nil
}

// checkEnsembleColumns checks that the L, seed and coupling columns of a
// format 2 record batch hold the values of the metadata on every row.
func (p *part) checkEnsembleColumns(rec arrow.RecordBatch, steps []int64) error {
	m := p.spec.Meta
	for j, v := range rec.Column(numFixed).(*array.Int32).Int32Values() {
		if int(v) != m.L {
			return fmt.Errorf("column %s holds %d at step %d, %s is %d", ColL, v, steps[j], KeyL, m.L)
		}
	}
	for j, v := range rec.Column(numFixed + 1).(*array.Uint64).Uint64Values() {
		if v != m.Seed {
			return fmt.Errorf("column %s holds %d at step %d, %s is %d", ColSeed, v, steps[j], KeySeed, m.Seed)
		}
	}
	for k, name := range p.spec.couplingNames() {
		want := m.Couplings[name]
		for j, v := range rec.Column(numFixed + 2 + k).(*array.Float64).Float64Values() {
			if math.Float64bits(v) != math.Float64bits(want) {
				return fmt.Errorf("column %s holds %v at step %d, %s%s is %v", name, v, steps[j], KeyCouplingPrefix, name, want)
			}
		}
	}
	return nil
}

// appendStrings appends the values of a string column to dst, copied out of
// the Arrow buffers and shared between equal values.
func appendStrings(dst []string, a *array.String) []string {
	seen := map[string]string{}
	for j := 0; j < a.Len(); j++ {
		v := a.Value(j) // aliases the Arrow buffer
		s, ok := seen[v]
		if !ok {
			s = strings.Clone(v)
			seen[s] = s
		}
		dst = append(dst, s)
	}
	return dst
}

// checkPartKeys compares the per-part metadata of a format 2 part with what
// its rows hold.
func checkPartKeys(md arrow.Metadata, info PartInfo) error {
	got, err := partKeys(md)
	if err != nil {
		return err
	}
	if got.Rows != info.Rows || got.Rows > 0 && (got.FirstStep != info.FirstStep || got.LastStep != info.LastStep) ||
		got.Configs != info.Configs {
		return fmt.Errorf("metadata says %d rows, steps %d to %d, %d configurations; the part holds %d rows, steps %d to %d, %d configurations",
			got.Rows, got.FirstStep, got.LastStep, got.Configs, info.Rows, info.FirstStep, info.LastStep, info.Configs)
	}
	return nil
}

// chainBuilder gathers the parts of one chain.
type chainBuilder struct {
	Chain
	partOf  []int // index into Parts of each row
	configs []float64
}

func (c *chainBuilder) add(path string, p *part) {
	k := len(c.Parts)
	c.Parts = append(c.Parts, path)
	c.PartInfos = append(c.PartInfos, p.info)
	for i, name := range p.spec.Labels {
		c.Labels[name] = append(c.Labels[name], p.labels[i]...)
	}
	c.Steps = append(c.Steps, p.steps...)
	c.Accepted = append(c.Accepted, p.accepted...)
	c.Action = append(c.Action, p.action...)
	for i, name := range p.spec.Observables {
		c.Obs[name] = append(c.Obs[name], p.obs[i]...)
	}
	for range p.steps {
		c.partOf = append(c.partOf, k)
	}
	c.ConfigSteps = append(c.ConfigSteps, p.configSteps...)
	c.configs = append(c.configs, p.configs...)
}

// finish sorts the rows by step, refuses a repeated step and slices the
// configurations.
func (c *chainBuilder) finish(observables, labels []string, size int) error {
	perm := sortedPerm(c.Steps)
	at := func(j int) int { // row at sorted position j
		if perm == nil {
			return j
		}
		return perm[j]
	}
	for j := 1; j < len(c.Steps); j++ {
		if a, b := at(j-1), at(j); c.Steps[a] == c.Steps[b] {
			return fmt.Errorf("dataset: chain %d: step %d appears twice, in %s and %s",
				c.ID, c.Steps[a], c.Parts[c.partOf[a]], c.Parts[c.partOf[b]])
		}
	}
	c.Steps = permute(c.Steps, perm)
	c.Accepted = permute(c.Accepted, perm)
	c.Action = permute(c.Action, perm)
	for _, name := range observables {
		c.Obs[name] = permute(c.Obs[name], perm)
	}
	for _, name := range labels {
		c.Labels[name] = permute(c.Labels[name], perm)
	}

	cperm := sortedPerm(c.ConfigSteps)
	c.ConfigSteps = permute(c.ConfigSteps, cperm)
	flat := c.configs
	if cperm != nil {
		flat = make([]float64, len(c.configs))
		for j, src := range cperm {
			copy(flat[j*size:(j+1)*size], c.configs[src*size:(src+1)*size])
		}
	}
	for j := range c.ConfigSteps {
		c.Configs = append(c.Configs, flat[j*size:(j+1)*size:(j+1)*size])
	}
	c.configs, c.partOf = nil, nil
	return nil
}

// sortedPerm returns the permutation that sorts steps stably, or nil if they
// are sorted already.
func sortedPerm(steps []int64) []int {
	if slices.IsSorted(steps) {
		return nil
	}
	perm := make([]int, len(steps))
	for j := range perm {
		perm[j] = j
	}
	slices.SortStableFunc(perm, func(a, b int) int { return cmp.Compare(steps[a], steps[b]) })
	return perm
}

// permute returns x reordered by perm; it returns x itself for a nil perm.
func permute[T any](x []T, perm []int) []T {
	if perm == nil {
		return x
	}
	y := make([]T, len(x))
	for j, src := range perm {
		y[j] = x[src]
	}
	return y
}

// oneLine flattens a multi-line error message.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// ReadChain reads parts 0 to parts-1 of chain in dir, the parts that a
// resumed writer continues after (its checkpoint counts them), without the
// configurations unless opt.Configs. Every one of them must exist, verify
// against its checksum (unless opt.SkipChecksums) and belong to the chain,
// and their steps must run contiguously; an error names the first part that
// does not. Parts with index parts or above are not read. Unlike OpenWith,
// it reads no other chain and no other part of the directory.
func ReadChain(dir string, chain, parts int, opt OpenOptions) (*Chain, error) {
	if chain < 0 || parts < 0 {
		return nil, fmt.Errorf("dataset: ReadChain: chain %d, parts %d, want >= 0", chain, parts)
	}
	mem := opt.Allocator
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	c := &chainBuilder{Chain: Chain{ID: chain, Dir: dir, Obs: map[string][]float64{}, Labels: map[string][]string{}}}
	manifests := manifestCache{}
	var first Spec
	for k := range parts {
		name := PartName(chain, k)
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("dataset: chain %d of %s: part %d of %d is missing: %w", chain, dir, k, parts, err)
		}
		var sums map[string]checksum
		if !opt.SkipChecksums {
			var err error
			if sums, err = manifests.forPart(dir, name); err != nil {
				return nil, err
			}
		}
		p, err := readPartFile(path, sums, opt, mem)
		if err != nil {
			return nil, err
		}
		if p.spec.Meta.Chain != chain {
			return nil, fmt.Errorf("dataset: %s holds chain %d, its name says %d", path, p.spec.Meta.Chain, chain)
		}
		if k == 0 {
			first, c.Meta = p.spec, p.spec.Meta
		} else if va, vb := layoutDiff(first, p.spec); va != "" {
			return nil, fmt.Errorf("dataset: parts with different columns: %s in %s, %s in %s", va, c.Parts[0], vb, path)
		}
		c.add(path, p)
	}
	if err := c.finish(first.Observables, first.Labels, first.ConfigSize); err != nil {
		return nil, err
	}
	if err := c.checkSeeds(); err != nil {
		return nil, err
	}
	if err := c.checkSteps(); err != nil {
		return nil, err
	}
	return &c.Chain, nil
}

// Layout returns the columns and metadata (Spec) and the format of the
// first part of dir in name order, for a writer that adds to dir and must
// match its columns; ok is false if dir does not exist or has no part.
func Layout(dir string) (s Spec, format int, ok bool, err error) {
	names, err := listParts(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return Spec{}, 0, false, nil
	}
	if err != nil {
		return Spec{}, 0, false, fmt.Errorf("dataset: %w", err)
	}
	if len(names) == 0 {
		return Spec{}, 0, false, nil
	}
	s, format, err = readSpec(filepath.Join(dir, names[0]), memory.DefaultAllocator)
	return s, format, err == nil, err
}
