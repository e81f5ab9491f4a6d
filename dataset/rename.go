package dataset

import (
	"errors"
	"os"
)

// linkRename is the portable renameNoReplace: link(2) fails if newpath
// exists, then oldpath is removed. On a filesystem without hard links it
// checks that newpath does not exist and renames, which cannot replace a
// part because only the holder of the chain's lock writes its parts.
func linkRename(oldpath, newpath string) error {
	err := os.Link(oldpath, newpath)
	if err == nil {
		return os.Remove(oldpath)
	}
	if errors.Is(err, os.ErrExist) {
		return err
	}
	if _, serr := os.Lstat(newpath); serr == nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: os.ErrExist}
	}
	return os.Rename(oldpath, newpath)
}
