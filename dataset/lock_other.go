//go:build !unix

package dataset

import "os"

// tryLock reports that this platform has no flock.
func tryLock(f *os.File) (held bool, err error) { return false, errLockUnsupported }
