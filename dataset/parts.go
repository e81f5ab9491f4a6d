package dataset

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const (
	partPrefix     = "part-"
	partSuffix     = ".arrow"
	tmpSuffix      = ".tmp"
	checksumPrefix = "_checksums-"
	checksumSuffix = ".sha256"
	lockPrefix     = ".lock-"
)

// PartName returns the file name of part index part of chain chain, e.g.
// PartName(3, 12) = "part-c0003-00012.arrow".
func PartName(chain, part int) string {
	return fmt.Sprintf("%sc%04d-%05d%s", partPrefix, chain, part, partSuffix)
}

// ChecksumName returns the file name of the checksum manifest of chain
// chain, e.g. ChecksumName(3) = "_checksums-c0003.sha256".
func ChecksumName(chain int) string {
	return fmt.Sprintf("%sc%04d%s", checksumPrefix, chain, checksumSuffix)
}

// lockName returns the file name of the lock of chain chain.
func lockName(chain int) string {
	return fmt.Sprintf("%sc%04d", lockPrefix, chain)
}

// tempName returns a new unique temporary name for the file name in the
// same directory: a dot, name, the process id and a random number.
func tempName(name string) string {
	return fmt.Sprintf(".%s.%d-%016x%s", name, os.Getpid(), rand.Uint64(), tmpSuffix)
}

// parsePartName returns the chain and part index of a name made by PartName.
func parsePartName(name string) (chain, part int, ok bool) {
	rest, found := strings.CutPrefix(name, partPrefix+"c")
	if !found {
		return 0, 0, false
	}
	rest, found = strings.CutSuffix(rest, partSuffix)
	if !found {
		return 0, 0, false
	}
	c, p, found := strings.Cut(rest, "-")
	if !found || len(c) < 4 || len(p) < 5 {
		return 0, 0, false
	}
	chain, errC := strconv.Atoi(c)
	part, errP := strconv.Atoi(p)
	if errC != nil || errP != nil || chain < 0 || part < 0 {
		return 0, 0, false
	}
	return chain, part, true
}

// parseChecksumName returns the chain of a name made by ChecksumName.
func parseChecksumName(name string) (chain int, ok bool) {
	rest, found := strings.CutPrefix(name, checksumPrefix+"c")
	if !found {
		return 0, false
	}
	rest, found = strings.CutSuffix(rest, checksumSuffix)
	if !found || len(rest) < 4 {
		return 0, false
	}
	chain, err := strconv.Atoi(rest)
	return chain, err == nil && chain >= 0
}

// tempChain returns the chain of a temporary file name made by tempName
// for a part or a checksum manifest, or by writers of format 1
// (".part-cCCCC-NNNNN.arrow.tmp").
func tempChain(name string) (chain int, ok bool) {
	inner, found := strings.CutPrefix(name, ".")
	if !found {
		return 0, false
	}
	inner, found = strings.CutSuffix(inner, tmpSuffix)
	if !found {
		return 0, false
	}
	if i := strings.Index(inner, partSuffix); i >= 0 && strings.HasPrefix(inner, partPrefix) {
		c, _, ok := parsePartName(inner[:i+len(partSuffix)])
		return c, ok
	}
	if i := strings.Index(inner, checksumSuffix); i >= 0 {
		return parseChecksumName(inner[:i+len(checksumSuffix)])
	}
	return 0, false
}

// tempPart returns the part name of a temporary file name made by tempName
// for a part.
func tempPart(name string) (string, bool) {
	inner, found := strings.CutPrefix(name, ".")
	if !found || !strings.HasSuffix(inner, tmpSuffix) {
		return "", false
	}
	i := strings.Index(inner, partSuffix)
	if i < 0 {
		return "", false
	}
	part := inner[:i+len(partSuffix)]
	_, _, ok := parsePartName(part)
	return part, ok
}

// isPart reports whether a directory entry name is a part (part-*.arrow).
func isPart(name string) bool {
	return strings.HasPrefix(name, partPrefix) && strings.HasSuffix(name, partSuffix)
}

// listParts returns the names of the parts in dir, sorted: regular files
// and symbolic links that do not point to something else than a regular
// file (a directory of links to the parts of other directories reads as a
// dataset; a dangling link is listed, so that reading it fails naming it).
func listParts(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !isPart(e.Name()) {
			continue
		}
		if e.Type()&fs.ModeSymlink != 0 {
			if st, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && !st.Mode().IsRegular() {
				continue
			}
		} else if !e.Type().IsRegular() {
			continue
		}
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names, nil
}

// chainParts returns the part indices of chain in dir, sorted, from the
// file names.
func chainParts(dir string, chain int) ([]int, error) {
	names, err := listParts(dir)
	if err != nil {
		return nil, err
	}
	var parts []int
	for _, name := range names {
		if c, p, ok := parsePartName(name); ok && c == chain {
			parts = append(parts, p)
		}
	}
	slices.Sort(parts)
	return parts, nil
}

// NextPart returns the part index after the last part of chain in dir, the
// FirstPart with which a resumed writer appends to the chain; it is 0 when
// dir does not exist or holds no part of chain.
func NextPart(dir string, chain int) (int, error) {
	parts, err := chainParts(dir, chain)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("dataset: %w", err)
	}
	if len(parts) == 0 {
		return 0, nil
	}
	return parts[len(parts)-1] + 1, nil
}

// RemovePartsFrom removes the parts of chain in dir with index first or
// above, for a chain runner that resumes from a checkpoint older than the
// last part. It takes the chain's lock, so it fails while a Writer of the
// chain is open (call it before Create). It removes the parts from the last
// one down, so that a crash leaves a chain without a gap, makes the removals
// durable (directory fsync), and then drops their checksums from the
// chain's manifest. Removing nothing is not an error.
func RemovePartsFrom(dir string, chain, first int) error {
	if first < 0 {
		return fmt.Errorf("dataset: RemovePartsFrom: first = %d, want >= 0", first)
	}
	lock, err := lockChain(dir, chain)
	if err != nil {
		return err
	}
	defer lock.unlock()
	return removePartsFrom(dir, chain, first)
}

// removePartsFrom is RemovePartsFrom under the chain's lock.
func removePartsFrom(dir string, chain, first int) error {
	if first < 0 {
		return fmt.Errorf("dataset: RemovePartsFrom: first = %d, want >= 0", first)
	}
	parts, err := chainParts(dir, chain)
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	removed := false
	for _, p := range slices.Backward(parts) {
		if p < first {
			break
		}
		if err := os.Remove(filepath.Join(dir, PartName(chain, p))); err != nil {
			return fmt.Errorf("dataset: %w", err)
		}
		removed = true
	}
	if removed {
		if err := syncDir(dir); err != nil {
			return fmt.Errorf("dataset: %w", err)
		}
	}
	if err := pruneChecksums(dir, chain, first); err != nil {
		return fmt.Errorf("dataset: chain %d: %w", chain, err)
	}
	return nil
}

// syncDir fsyncs a directory so that renames and new entries in it are
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeStaleTemps removes the temporary files left in dir by writers of
// chain that crashed. The caller holds the chain's lock, so no live writer
// owns them.
func removeStaleTemps(dir string, chain int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if c, ok := tempChain(e.Name()); ok && c == chain {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}
