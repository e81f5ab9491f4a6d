//go:build unix

package filelock

import (
	"os"
	"path/filepath"
	"testing"
)

// TestTryLock: a second open file of a locked file sees the lock as held,
// in the same process too, until the first is closed.
func TestTryLock(t *testing.T) {
	p := filepath.Join(t.TempDir(), "l")
	open := func() *os.File {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a, b := open(), open()
	defer b.Close()
	if held, err := TryLock(a); held || err != nil {
		t.Fatalf("first lock: held %v, err %v, want taken", held, err)
	}
	if held, err := TryLock(b); !held || err != nil {
		t.Fatalf("second lock while the first holds it: held %v, err %v, want held", held, err)
	}
	a.Close()
	if held, err := TryLock(b); held || err != nil {
		t.Errorf("lock after the holder closed: held %v, err %v, want taken", held, err)
	}
}
