//go:build !linux

package dataset

// renameNoReplace renames oldpath to newpath unless newpath exists, in which
// case it returns an error satisfying errors.Is(err, os.ErrExist).
func renameNoReplace(oldpath, newpath string) error { return linkRename(oldpath, newpath) }
