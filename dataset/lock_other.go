//go:build !unix

package dataset

import "os"

// tryLock reports that this platform has no flock.
func tryLock(f *os.File) (held bool, err error) { return false, errLockUnsupported }

// oNoFollow is 0 where O_NOFOLLOW does not exist; notSymlink checks before
// opening.
const oNoFollow = 0
