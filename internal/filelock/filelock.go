// Package filelock takes exclusive advisory locks on open files without
// waiting: flock(2) on unix, which the kernel releases when the holder
// exits (also on SIGKILL); other platforms report ErrUnsupported.
package filelock

import "errors"

// ErrUnsupported is wrapped by the error of TryLock on a filesystem or
// platform without flock.
var ErrUnsupported = errors.New("the filesystem does not support file locks")
