package dataset

import (
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

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
	ID        int
	Dir       string
	Meta      Meta       // metadata of the first part
	Parts     []PartInfo // sorted by file name
	Rows      int64      // rows written
	Configs   int64      // configurations saved
	FirstStep int64      // smallest step
	LastStep  int64      // largest step; a resumed chain continues at LastStep+1
	NextPart  int        // FirstPart of a writer that resumes the chain (NextPart(dir, ID))
}

// Inspect summarizes the chains of the dataset directory dir, ordered by
// chain id, cheaply: for a part of format 2 it reads the file footer alone
// (the schema and its metadata, a few kilobytes), never the rows; a part of
// format 1 is read whole, as its footer does not hold its steps. It does not
// verify checksums (Open does). A part that cannot be read is an error
// naming it.
func Inspect(dir string) ([]ChainInfo, error) {
	names, err := listParts(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	byID := map[int]*ChainInfo{}
	for _, name := range names {
		info, err := inspectPart(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		c := byID[info.Meta.Chain]
		if c == nil {
			c = &ChainInfo{ID: info.Meta.Chain, Dir: dir, Meta: info.Meta, FirstStep: info.FirstStep, LastStep: info.LastStep}
			if c.NextPart, err = NextPart(dir, c.ID); err != nil {
				return nil, err
			}
			byID[c.ID] = c
		}
		c.Parts = append(c.Parts, info)
		c.Rows += int64(info.Rows)
		c.Configs += int64(info.Configs)
		if info.Rows > 0 {
			c.FirstStep, c.LastStep = min(c.FirstStep, info.FirstStep), max(c.LastStep, info.LastStep)
		}
	}
	var chains []ChainInfo
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		chains = append(chains, *byID[id])
	}
	return chains, nil
}

// inspectPart describes the part at path from its footer (format 2) or its
// rows (format 1).
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
	if _, k, ok := parsePartName(filepath.Base(path)); ok {
		info.Index = k
	}
	return info, nil
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
