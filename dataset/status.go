package dataset

import (
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// PartInfo describes one part file.
type PartInfo struct {
	Path          string
	Index         int // part index from the file name (-1 if not named by PartName)
	Format        int // format version
	Meta          Meta
	Rows          int
	FirstStep     int64 // smallest step (0 without rows)
	LastStep      int64 // largest step (0 without rows)
	Configs       int   // non-null configurations
	ConfigFloat32 bool  // configurations stored as float32
	Checksum      bool  // Open verified the part against its checksum
	// Seconds is the wall time of the part's steps (KeyPartSeconds), 0 if
	// they were not timed.
	Seconds float64
}

// ChainInfo summarizes one chain of a dataset directory, as a `status`
// command shows it.
type ChainInfo struct {
	ID    int
	Dir   string
	Meta  Meta       // metadata of the first readable part
	Parts []PartInfo // readable parts, sorted by file name
	// Corrupt has one message, naming the file, per part whose footer or
	// framing is inconsistent (see Inspect); the part is not in Parts.
	Corrupt []string
	// Missing are the parts that the chain's checksum manifest lists and the
	// directory lacks (deleted or lost after they were written); Gaps the
	// part indices below the last part that neither exist nor are listed.
	Missing   []string
	Gaps      []int
	Rows      int64 // rows written
	Configs   int64 // configurations saved
	FirstStep int64 // smallest step
	LastStep  int64 // largest step; a resumed chain continues at LastStep+1
	NextPart  int   // FirstPart of a writer that resumes the chain (NextPart(dir, ID))
}

// Inspect summarizes the chains of the dataset directory dir, ordered by
// chain id, cheaply: for a part of format 2 it reads the file footer, the
// schema message at the start of the file and the header of each record
// batch message (a few kilobytes), never the rows; a part of format 1 is
// read whole, as its footer does not hold its steps. It does not verify
// checksums (Open does), but it checks what it cheaply can: that the footer
// repeats the schema at the start of the file, that the record batches fit
// between them and hold the rows the metadata says, that the steps of a
// part are contiguous and continue those of the part before, and that the
// part has a checksum line. A part that fails is listed in
// ChainInfo.Corrupt (by the chain of its file name), and a part listed in
// the manifest but missing in ChainInfo.Missing. Only a directory that
// cannot be read, or a corrupt part whose name is not that of a part of a
// chain, is an error.
func Inspect(dir string) ([]ChainInfo, error) {
	names, err := listParts(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	manifests := manifestCache{}
	byID := map[int]*ChainInfo{}
	chain := func(id int) (*ChainInfo, error) {
		if c := byID[id]; c != nil {
			return c, nil
		}
		c := &ChainInfo{ID: id, Dir: dir}
		var err error
		if c.NextPart, err = NextPart(dir, id); err != nil {
			return nil, err
		}
		byID[id] = c
		return c, nil
	}
	for _, name := range names {
		path := filepath.Join(dir, name)
		info, err := inspectPart(path)
		if err == nil && info.Format == FormatVersion2 {
			err = checkListedPart(dir, name, manifests)
		}
		id := info.Meta.Chain
		if err != nil {
			c, _, ok := parsePartName(name)
			if !ok {
				return nil, err
			}
			ci, cerr := chain(c)
			if cerr != nil {
				return nil, cerr
			}
			ci.Corrupt = append(ci.Corrupt, oneLine(err))
			continue
		}
		c, err := chain(id)
		if err != nil {
			return nil, err
		}
		if len(c.Parts) == 0 {
			c.Meta, c.FirstStep, c.LastStep = info.Meta, info.FirstStep, info.LastStep
		}
		c.Parts = append(c.Parts, info)
		c.Rows += int64(info.Rows)
		c.Configs += int64(info.Configs)
		if info.Rows > 0 {
			c.FirstStep, c.LastStep = min(c.FirstStep, info.FirstStep), max(c.LastStep, info.LastStep)
		}
	}
	missing, err := listedMissing(dir, names, manifests)
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	for _, name := range missing {
		c, _, _ := parsePartName(name)
		ci, err := chain(c)
		if err != nil {
			return nil, err
		}
		ci.Missing = append(ci.Missing, name)
		listed[name] = true
	}
	var chains []ChainInfo
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		c := byID[id]
		c.checkContiguous(listed)
		chains = append(chains, *c)
	}
	return chains, nil
}

// checkListedPart refuses a part of format 2 without a line in its chain's
// checksum manifest.
func checkListedPart(dir, name string, m manifestCache) error {
	sums, err := m.forPart(dir, name)
	if err != nil {
		return err
	}
	if _, ok := sums[name]; !ok && sums != nil {
		c, _, _ := parsePartName(name)
		return fmt.Errorf("dataset: %s: no checksum in %s (format 2 parts are written with one)",
			filepath.Join(dir, name), ChecksumName(c))
	}
	return nil
}

// checkContiguous records the part indices missing below the chain's last
// part (not listed in its manifest, else they are in Missing) as Gaps, and
// a part whose steps do not continue those of the part before as Corrupt.
func (c *ChainInfo) checkContiguous(listed map[string]bool) {
	have := map[int]bool{}
	last := -1
	for _, p := range c.Parts {
		have[p.Index] = true
		last = max(last, p.Index)
	}
	for k := 0; k < last; k++ {
		if !have[k] && !listed[PartName(c.ID, k)] && !c.corruptPart(k) {
			c.Gaps = append(c.Gaps, k)
		}
	}
	var prev *PartInfo
	for i := range c.Parts {
		p := &c.Parts[i]
		if p.Rows == 0 || p.Format != FormatVersion2 {
			continue
		}
		if prev != nil && p.Index == prev.Index+1 && p.FirstStep != prev.LastStep+1 {
			c.Corrupt = append(c.Corrupt, fmt.Sprintf("dataset: %s: steps %d to %d do not continue %s (steps %d to %d)",
				p.Path, p.FirstStep, p.LastStep, filepath.Base(prev.Path), prev.FirstStep, prev.LastStep))
		}
		prev = p
	}
}

// corruptPart reports whether part k of the chain is among its corrupt
// parts.
func (c *ChainInfo) corruptPart(k int) bool {
	name := PartName(c.ID, k)
	for _, msg := range c.Corrupt {
		if strings.Contains(msg, name) {
			return true
		}
	}
	return false
}

// inspectPart describes the part at path from its footer (format 2) or its
// rows (format 1), and checks its framing (format 2; see Inspect).
func inspectPart(path string) (info PartInfo, err error) {
	f, err := os.Open(path)
	if err != nil {
		return PartInfo{}, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	defer recoverAsError(path, &err)
	size, err := checkFileFooter(f)
	if err != nil {
		return PartInfo{}, fmt.Errorf("dataset: %s: %s", path, oneLine(err))
	}
	r, err := ipc.NewFileReader(f, ipc.WithAllocator(boundedAllocator{memory.DefaultAllocator, readLimit(size)}))
	if err != nil {
		return PartInfo{}, fmt.Errorf("dataset: %s: not an Arrow IPC file: %s", path, oneLine(err))
	}
	defer r.Close()
	spec, format, err := specFrom(r.Schema())
	if err != nil {
		return PartInfo{}, fmt.Errorf("dataset: %s: %s", path, oneLine(err))
	}
	if format == FormatVersion1 {
		data, err := os.ReadFile(path)
		if err != nil {
			return PartInfo{}, fmt.Errorf("dataset: %w", err)
		}
		p, err := decodePart(path, data, false, memory.DefaultAllocator)
		if err != nil {
			return PartInfo{}, err
		}
		return p.info, nil
	}
	info, err = partKeys(r.Schema().Metadata())
	if err != nil {
		return PartInfo{}, fmt.Errorf("dataset: %s: %w", path, err)
	}
	info.Path, info.Index, info.Format, info.Meta, info.ConfigFloat32 = path, -1, format, spec.Meta, spec.ConfigFloat32
	if c, k, ok := parsePartName(filepath.Base(path)); ok {
		info.Index = k
		if c != spec.Meta.Chain {
			return PartInfo{}, fmt.Errorf("dataset: %s: holds chain %d, its name says %d", path, spec.Meta.Chain, c)
		}
	}
	if err := checkFraming(f, size, r.Schema(), info); err != nil {
		return PartInfo{}, fmt.Errorf("dataset: %s: corrupt: %s", path, oneLine(err))
	}
	return info, nil
}

// checkFraming checks a part of format 2 against its footer's schema and
// per-part metadata, cheaply (see Inspect).
func checkFraming(f *os.File, size int64, footer *arrow.Schema, info PartInfo) error {
	head, endianness, err := headerSchema(f, size, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("schema at the start of the file: %v", err)
	}
	l, err := readLayout(f, size)
	if err != nil {
		return err
	}
	if !head.Equal(footer) || !head.Metadata().Equal(footer.Metadata()) || endianness != l.endianness {
		return fmt.Errorf("the footer's schema differs from the schema at the start of the file")
	}
	rows, err := checkLayout(f, l)
	if err != nil {
		return err
	}
	switch {
	case rows != int64(info.Rows):
		return fmt.Errorf("%s says %d rows, the record batches hold %d", KeyPartRows, info.Rows, rows)
	case info.Rows > 0 && info.LastStep-info.FirstStep+1 != int64(info.Rows):
		return fmt.Errorf("%d rows but steps %d to %d (%s, %s)", info.Rows, info.FirstStep, info.LastStep, KeyPartFirstStep, KeyPartLastStep)
	case info.Configs > info.Rows:
		return fmt.Errorf("%d configurations in %d rows", info.Configs, info.Rows)
	}
	return nil
}

// partKeys decodes the per-part metadata of a format 2 part into the Rows,
// FirstStep, LastStep and Configs of a PartInfo.
func partKeys(md arrow.Metadata) (PartInfo, error) {
	var info PartInfo
	for _, k := range []struct {
		key string
		dst *int64
	}{
		{KeyPartFirstStep, &info.FirstStep}, {KeyPartLastStep, &info.LastStep},
	} {
		v, _ := md.GetValue(k.key)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return PartInfo{}, fmt.Errorf("bad %s %q", k.key, v)
		}
		*k.dst = n
	}
	for _, k := range []struct {
		key string
		dst *int
	}{
		{KeyPartRows, &info.Rows}, {KeyPartConfigs, &info.Configs},
	} {
		v, _ := md.GetValue(k.key)
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return PartInfo{}, fmt.Errorf("bad %s %q", k.key, v)
		}
		*k.dst = n
	}
	var err error
	if info.Seconds, err = partSeconds(md); err != nil {
		return PartInfo{}, err
	}
	return info, nil
}

// partSeconds decodes the optional KeyPartSeconds.
func partSeconds(md arrow.Metadata) (float64, error) {
	v, ok := md.GetValue(KeyPartSeconds)
	if !ok {
		return 0, nil
	}
	s, err := strconv.ParseFloat(v, 64)
	if err != nil || !(s >= 0) || math.IsInf(s, 1) {
		return 0, fmt.Errorf("bad %s %q", KeyPartSeconds, v)
	}
	return s, nil
}
