// Package atomicfile writes files so that a reader sees either the old
// content or the complete new one, never a partial file: the data goes to a
// temporary file in the same directory (named with a leading dot), which is
// synced, closed, renamed over the target, and the directory synced.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// tempPrefix is the start of the names of the temporary files of path;
// os.CreateTemp appends decimal digits.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp" }

// RemoveTemps removes the temporary files of path that a writer killed
// before its rename left behind (.NAME.tmpDIGITS in path's directory) and
// returns their names. The caller must know that no writer of path runs,
// e.g. by holding a lock.
func RemoveTemps(path string) ([]string, error) {
	dir, prefix := filepath.Dir(path), tempPrefix(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("remove temporary files of %s: %w", path, err)
	}
	var removed []string
	for _, e := range entries {
		digits, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil {
			return removed, fmt.Errorf("remove temporary file %s: %w", p, err)
		}
		removed = append(removed, p)
	}
	return removed, nil
}

// Write writes path through write with permissions perm. On error no
// temporary file is left and path is untouched; the error names path.
func Write(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
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

// WriteFile writes data to path atomically with permissions perm.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
