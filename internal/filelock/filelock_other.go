//go:build !unix

package filelock

import "os"

// TryLock reports that this platform has no flock.
func TryLock(f *os.File) (held bool, err error) { return false, ErrUnsupported }
