package dataset

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
// rewritten after a crash); lines of parts that do not exist are ignored,
// and so is a last line cut short by a crash.

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
	_, statErr := os.Lstat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
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

// pruneChecksums rewrites the manifest of chain in dir with one line per
// existing part of the chain, atomically (temporary file, fsync, rename,
// directory fsync). The caller holds the chain's lock.
func pruneChecksums(dir string, chain int) error {
	sums, err := readChecksums(dir, chain)
	if err != nil || len(sums) == 0 {
		return err
	}
	parts, err := chainParts(dir, chain)
	if err != nil {
		return err
	}
	var buf strings.Builder
	for _, p := range parts {
		name := PartName(chain, p)
		if sum, ok := sums[name]; ok {
			buf.WriteString(checksumLine(name, sum))
		}
	}
	return writeFileAtomic(dir, ChecksumName(chain), []byte(buf.String()))
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
