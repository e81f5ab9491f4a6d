package flowtrain_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"latflow/flowtrain"
)

// TestLockOutput: a second lock of one output fails with a LockedError
// naming the holder; Unlock removes the lock file and lets the next run
// lock it.
func TestLockOutput(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.flow")
	a, err := flowtrain.LockOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	_, err = flowtrain.LockOutput(out)
	var le *flowtrain.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second lock: got %v, want a *LockedError", err)
	}
	if want := fmt.Sprintf("pid %d on ", os.Getpid()); !strings.HasPrefix(le.Holder, want) || le.Out != out || le.Lock != out+flowtrain.LockSuffix {
		t.Errorf("LockedError %+v, want holder %q..., out %s, lock %s", le, want, out, out+flowtrain.LockSuffix)
	}
	a.Unlock()
	a.Unlock() // a second Unlock does nothing
	if _, err := os.Stat(out + flowtrain.LockSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file after Unlock: got %v, want it removed", err)
	}
	b, err := flowtrain.LockOutput(out)
	if err != nil {
		t.Fatalf("lock after Unlock: %v", err)
	}
	b.Unlock()
}
