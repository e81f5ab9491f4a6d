package dataset

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A checksum manifest (ChecksumName(chain), one per chain and directory)
// holds one line per part in the format of sha256sum(1),
//
//	<64 hex digits of the SHA-256 of the whole part file>  part-cCCCC-NNNNN.arrow
//
// so that `sha256sum -c _checksums-c0003.sha256` checks chain 3 from inside
// the directory. A writer appends the line of a part and fsyncs the manifest
// before it renames the part into place, so every part that exists has its
// line. A later line for the same part replaces an earlier one (a part
// rewritten after a crash), and a last line cut short by a crash is
// ignored. A line of a part that does not exist is a missing part (see
// listedMissing), and a failed rename takes its line back.

type checksum = [sha256.Size]byte

// readChecksums returns the checksums of the manifest of chain in dir by
// part name; a missing manifest gives an empty map.
func readChecksums(dir string, chain int) (map[string]checksum, error) {
	b, err := os.ReadFile(filepath.Join(dir, ChecksumName(chain)))
	if errors.Is(err, os.ErrNotExist) {
		return map[string]checksum{}, nil
	}
	if err != nil {
		return nil, err
	}
	return parseChecksums(b), nil
}

// parseChecksums decodes the complete, well-formed lines of a manifest.
func parseChecksums(b []byte) map[string]checksum {
	sums := map[string]checksum{}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break // cut short by a crash
		}
		line := string(b[:i])
		b = b[i+1:]
		h, name, ok := strings.Cut(line, "  ")
		var sum checksum
		if !ok || len(h) != 2*len(sum) || !isPart(name) {
			continue
		}
		if _, err := hex.Decode(sum[:], []byte(h)); err != nil {
			continue
		}
		sums[name] = sum
	}
	return sums
}

// checksumLine formats the manifest line of a part.
func checksumLine(name string, sum checksum) string {
	return hex.EncodeToString(sum[:]) + "  " + name + "\n"
}

// openChecksums opens the manifest of chain in dir for appending, creating
// it (durably) if needed and cutting off a last line left incomplete by a
// crash. The caller holds the chain's lock.
func openChecksums(dir string, chain int) (*os.File, error) {
	path := filepath.Join(dir, ChecksumName(chain))
	if err := notSymlink(dir, ChecksumName(chain)); err != nil {
		return nil, err
	}
	_, statErr := os.Lstat(path)
	// O_NOFOLLOW: a link made after the check is refused too.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|oNoFollow, 0o644)
	if err != nil {
		return nil, err
	}
	if errors.Is(statErr, os.ErrNotExist) {
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, err
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if keep := int64(bytes.LastIndexByte(b, '\n') + 1); keep != int64(len(b)) {
		if err := f.Truncate(keep); err != nil {
			f.Close()
			return nil, err
		}
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// appendChecksum appends the line of a part to an open manifest and makes it
// durable.
func appendChecksum(f *os.File, name string, sum checksum) error {
	if _, err := f.WriteString(checksumLine(name, sum)); err != nil {
		return err
	}
	return f.Sync()
}

// pruneChecksums drops the lines of the parts of chain with index first or
// above from the chain's manifest in dir (parts that RemovePartsFrom
// removed), rewriting it atomically (temporary file, fsync, rename,
// directory fsync) with one line per part in part order. The lines of
// lower parts stay, also those of missing parts, so that a damaged chain
// stays visible. A manifest without such lines is left untouched. The
// caller holds the chain's lock.
func pruneChecksums(dir string, chain, first int) error {
	if err := notSymlink(dir, ChecksumName(chain)); err != nil {
		return err
	}
	sums, err := readChecksums(dir, chain)
	if err != nil {
		return err
	}
	type line struct {
		part int
		name string
	}
	var keep []line
	dropped := false
	for name := range sums {
		_, p, _ := parsePartName(name)
		if c, _, ok := parsePartName(name); !ok || c != chain || p >= first {
			dropped = true
			continue
		}
		keep = append(keep, line{p, name})
	}
	if !dropped {
		return nil
	}
	slices.SortFunc(keep, func(a, b line) int { return a.part - b.part })
	var buf strings.Builder
	for _, l := range keep {
		buf.WriteString(checksumLine(l.name, sums[l.name]))
	}
	return writeFileAtomic(dir, ChecksumName(chain), []byte(buf.String()))
}

// notSymlink refuses a symbolic link at dir/name: a writer never writes
// through a link inside a dataset, which could point anywhere.
func notSymlink(dir, name string) error {
	st, err := os.Lstat(filepath.Join(dir, name))
	if err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link; latflow does not write through links inside a dataset "+
			"(replace it by the file it points to, or remove it)", filepath.Join(dir, name))
	}
	return nil
}

// writeFileAtomic replaces dir/name by data: temporary file, fsync, rename,
// directory fsync.
func writeFileAtomic(dir, name string, data []byte) (err error) {
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
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// verifyChecksum compares the SHA-256 of the bytes of a part with its
// manifest line, if any, and reports whether there was one.
func verifyChecksum(path string, data []byte, sums map[string]checksum) (found bool, err error) {
	want, ok := sums[filepath.Base(path)]
	if !ok {
		return false, nil
	}
	if got := sha256.Sum256(data); got != want {
		return true, fmt.Errorf("dataset: %s: checksum mismatch: SHA-256 %x, %s says %x (the file is corrupt)",
			path, got, ChecksumName(chainOfPath(path)), want)
	}
	return true, nil
}

// chainOfPath returns the chain of a part path from its name, or -1.
func chainOfPath(path string) int {
	if c, _, ok := parsePartName(filepath.Base(path)); ok {
		return c
	}
	return -1
}

// manifestCache holds the checksum manifests read by OpenWith, by
// directory and chain.
type manifestCache map[manifestKey]map[string]checksum

type manifestKey struct {
	dir   string
	chain int
}

// get returns the manifest of chain in dir.
func (m manifestCache) get(dir string, chain int) (map[string]checksum, error) {
	k := manifestKey{dir, chain}
	if sums, ok := m[k]; ok {
		return sums, nil
	}
	sums, err := readChecksums(dir, chain)
	if err != nil {
		return nil, fmt.Errorf("dataset: chain %d: %w", chain, err)
	}
	m[k] = sums
	return sums, nil
}

// forPart returns the checksums to verify the part dir/name against: the
// manifest of its chain in dir or, for a symbolic link that this manifest
// has no line for, the line of the file it points to in the manifest
// beside that file (under name). It returns nil for a name that PartName
// did not make.
func (m manifestCache) forPart(dir, name string) (map[string]checksum, error) {
	c, _, ok := parsePartName(name)
	if !ok {
		return nil, nil
	}
	sums, err := m.get(dir, c)
	if err != nil {
		return nil, err
	}
	if _, ok := sums[name]; ok {
		return sums, nil
	}
	path := filepath.Join(dir, name)
	if st, err := os.Lstat(path); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		return sums, nil
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return sums, nil // reading the part reports it
	}
	tc, _, ok := parsePartName(filepath.Base(target))
	if !ok {
		return sums, nil
	}
	there, err := m.get(filepath.Dir(target), tc)
	if err != nil {
		return nil, err
	}
	if sum, ok := there[filepath.Base(target)]; ok {
		return map[string]checksum{name: sum}, nil
	}
	return sums, nil
}

// checkListed refuses a directory whose checksum manifests list a part
// that it does not hold (names are its parts): the part was written, and
// has since been deleted or lost. A part that a writer was putting in place
// when it crashed (its line written, its temporary file not yet renamed) is
// not missing; the resumed writer drops its line.
func checkListed(dir string, names []string, m manifestCache) error {
	missing, err := listedMissing(dir, names, m)
	if err != nil || len(missing) == 0 {
		return err
	}
	c, _, _ := parsePartName(missing[0])
	return fmt.Errorf("dataset: %s is missing: %s lists it, so it was written and has since been deleted or lost "+
		"(chain %d lacks its rows): restore the file, or run the chain again",
		filepath.Join(dir, missing[0]), ChecksumName(c), c)
}

// listedMissing returns the parts that the checksum manifests in dir list
// and dir does not hold (names are its parts), sorted, except the parts of
// writers that crashed while putting them in place: a part above every
// part of its chain in dir whose temporary file is still there.
func listedMissing(dir string, names []string, m manifestCache) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	have := map[string]bool{}
	last := map[int]int{} // highest part index of each chain in dir
	for _, name := range names {
		have[name] = true
		if c, p, ok := parsePartName(name); ok {
			if q, seen := last[c]; !seen || p > q {
				last[c] = p
			}
		}
	}
	temps := map[string]bool{} // parts with a temporary file
	for _, e := range entries {
		if name, ok := tempPart(e.Name()); ok {
			temps[name] = true
		}
	}
	var missing []string
	for _, e := range entries {
		c, ok := parseChecksumName(e.Name())
		if !ok {
			continue
		}
		sums, err := m.get(dir, c)
		if err != nil {
			return nil, err
		}
		for name := range sums {
			if have[name] {
				continue
			}
			lc, p, ok := parsePartName(name)
			if !ok || lc != c {
				continue
			}
			if q, seen := last[c]; (!seen || p > q) && temps[name] {
				continue // being put in place when its writer crashed
			}
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	return missing, nil
}
