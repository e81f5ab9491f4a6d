package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// chainLock is the exclusive lock of one chain of a dataset directory, held
// by its Writer from Create to Close or Discard and by RemovePartsFrom.
type chainLock struct {
	f *os.File // nil for a writer without a lock (WriterOptions.NoLock)
}

// errLockUnsupported marks a filesystem without flock.
var errLockUnsupported = errors.New("the filesystem does not support file locks")

// lockChain takes the lock of chain in dir without waiting: the file
// .lock-cCCCC, locked with flock(2) and holding the holder's pid and host.
// The kernel releases the lock when the holder exits, also on SIGKILL.
func lockChain(dir string, chain int) (*chainLock, error) {
	path := filepath.Join(dir, lockName(chain))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("dataset: chain %d of %s: lock: %w", chain, dir, err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		if errors.Is(err, errLockUnsupported) {
			return nil, fmt.Errorf("dataset: chain %d of %s: cannot lock %s: %w (WriterOptions.NoLock skips the lock "+
				"where one writer per chain is guaranteed otherwise)", chain, dir, path, err)
		}
		return nil, fmt.Errorf("dataset: chain %d of %s: lock %s: %w", chain, dir, path, err)
	}
	if held {
		holder := "holder unknown"
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			holder = strings.TrimSpace(string(b))
		}
		f.Close()
		return nil, fmt.Errorf("dataset: chain %d of %s is being written by another writer (%s); one writer per chain",
			chain, dir, holder)
	}
	host, _ := os.Hostname()
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d on %s\n", os.Getpid(), host)), 0)
	}
	return &chainLock{f: f}, nil
}

// unlock releases the lock; it may be called on a nil lock.
func (l *chainLock) unlock() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = l.f.Close() // releases the flock
	l.f = nil
}
