package flowtrain

import (
	"fmt"
	"os"
	"strings"

	"latflow/internal/filelock"
)

// LockSuffix names the lock file of a training run's output: OUT.lock.
const LockSuffix = ".lock"

// LockedError is the error of LockOutput when another process trains into
// the same output.
type LockedError struct {
	Out    string // the output
	Holder string // "pid 123 on host", or "holder unknown"
	Lock   string // the lock file
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("flowtrain: %s is being written by another training run (%s; lock %s)", e.Out, e.Holder, e.Lock)
}

// OutputLock is the exclusive lock of a training run's output files (the
// model, its checkpoint and its log), held from before the run looks at
// them until it has written them: two runs with one output would
// otherwise both train and the last would silently replace the first.
type OutputLock struct {
	f    *os.File
	path string
}

// LockOutput takes the lock of the training output out without waiting:
// the file out+LockSuffix, locked with flock(2) and holding the holder's
// pid and host. The kernel releases the lock when the holder exits, also
// on SIGKILL; Unlock removes the file. If another process holds the lock
// the error is a *LockedError naming the holder.
func LockOutput(out string) (*OutputLock, error) {
	path := out + LockSuffix
	// A holder that unlocks removes the file: a lock taken on the removed
	// file is no lock, so check that the path still names the locked file,
	// and try again on the new one if not.
	for range 8 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("flowtrain: lock %s: %w", path, err)
		}
		held, err := filelock.TryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("flowtrain: lock %s: %w", path, err)
		}
		if held {
			holder := "holder unknown"
			if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
				holder = strings.TrimSpace(string(b))
			}
			f.Close()
			return nil, &LockedError{Out: out, Holder: holder, Lock: path}
		}
		fst, ferr := f.Stat()
		pst, perr := os.Stat(path)
		if ferr != nil || perr != nil || !os.SameFile(fst, pst) {
			f.Close()
			continue
		}
		host, _ := os.Hostname()
		if err := f.Truncate(0); err == nil {
			_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d on %s\n", os.Getpid(), host)), 0)
		}
		return &OutputLock{f: f, path: path}, nil
	}
	return nil, fmt.Errorf("flowtrain: lock %s: the file keeps being replaced by other processes", path)
}

// Unlock removes the lock file and releases the lock; it may be called on
// a nil lock and more than once.
func (l *OutputLock) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	// Removed while still held, so that no other process takes a lock on
	// a file about to disappear (LockOutput checks for that too).
	_ = os.Remove(l.path)
	_ = l.f.Close()
	l.f = nil
}
