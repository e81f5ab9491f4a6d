package dataset

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"latflow/internal/filelock"
)

// ChainLock is the exclusive lock of one chain of a dataset directory, held
// by its Writer from Create to Close or Discard and by RemovePartsFrom. A
// chain runner takes it with LockChain before it reads the chain's
// checkpoint, so that what it reads cannot change until it writes, and
// hands it to its Writer (WriterOptions.Lock).
type ChainLock struct {
	f     *os.File // nil for a writer without a lock (WriterOptions.NoLock)
	dir   string
	chain int
}

// LockChain takes the lock of chain in the existing directory dir without
// waiting. If another writer holds it, in this process or another, the
// error names the chain, the directory and the holder (its pid and host).
func LockChain(dir string, chain int) (*ChainLock, error) {
	if chain < 0 {
		return nil, fmt.Errorf("dataset: LockChain: chain %d, want >= 0", chain)
	}
	return lockChain(dir, chain)
}

// Unlock releases the lock; it may be called on a nil lock, and again.
func (l *ChainLock) Unlock() { l.unlock() }

// RemovePartsFrom is RemovePartsFrom(dir, chain, first) by the holder of
// the chain's lock.
func (l *ChainLock) RemovePartsFrom(first int) error {
	if l == nil || l.f == nil {
		return fmt.Errorf("dataset: RemovePartsFrom on a released lock")
	}
	return removePartsFrom(l.dir, l.chain, first)
}

// lockChain takes the lock of chain in dir without waiting: the file
// .lock-cCCCC, locked with flock(2) and holding the holder's pid and host.
// The kernel releases the lock when the holder exits, also on SIGKILL.
func lockChain(dir string, chain int) (*ChainLock, error) {
	path := filepath.Join(dir, lockName(chain))
	if err := notSymlink(dir, lockName(chain)); err != nil {
		return nil, fmt.Errorf("dataset: chain %d of %s: lock: %w", chain, dir, err)
	}
	// O_NOFOLLOW: the lock file is truncated and written, never through a
	// link made after the check.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|oNoFollow, 0o644)
	if err != nil {
		return nil, fmt.Errorf("dataset: chain %d of %s: lock: %w", chain, dir, err)
	}
	held, err := filelock.TryLock(f)
	if err != nil {
		f.Close()
		if errors.Is(err, filelock.ErrUnsupported) {
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
		who := "another process holds"
		if strings.HasPrefix(holder, fmt.Sprintf("pid %d ", os.Getpid())) {
			who = "another writer in this process holds"
		}
		return nil, fmt.Errorf("dataset: %s chain %d of %s (%s) and is writing it: one writer per chain; "+
			"wait until it ends (latflow status shows it running), or stop it", who, chain, dir, holder)
	}
	host, _ := os.Hostname()
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d on %s\n", os.Getpid(), host)), 0)
	}
	return &ChainLock{f: f, dir: dir, chain: chain}, nil
}

// unlock releases the lock; it may be called on a nil lock.
func (l *ChainLock) unlock() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = l.f.Close() // releases the flock
	l.f = nil
}

// Writing reports whether a writer holds the lock of chain in dir, and the
// holder its lock file names ("pid 123 on host"), for a status command. It
// never waits and never creates a file. A lock file left empty by a writer
// that closed is not probed; one that still names a holder (its writer
// was killed, or runs) is probed with a non-blocking flock, which holds the
// lock for an instant only when no writer holds it.
func Writing(dir string, chain int) (holder string, held bool, err error) {
	path := filepath.Join(dir, lockName(chain))
	// Read-write: on NFS an exclusive flock needs a file open for writing.
	f, err := os.OpenFile(path, os.O_RDWR|oNoFollow, 0)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("dataset: chain %d of %s: %w", chain, dir, err)
	}
	defer f.Close() // releases the probe's flock, if it took it
	b, err := io.ReadAll(f)
	if err != nil {
		return "", false, fmt.Errorf("dataset: chain %d of %s: %w", chain, dir, err)
	}
	holder = strings.TrimSpace(string(b))
	if holder == "" {
		return "", false, nil
	}
	held, err = filelock.TryLock(f)
	if err != nil {
		return "", false, fmt.Errorf("dataset: chain %d of %s: lock %s: %w", chain, dir, path, err)
	}
	return holder, held, nil
}
