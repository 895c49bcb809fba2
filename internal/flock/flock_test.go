package flock

import (
	"os"
	"path/filepath"
	"testing"
)

// Two descriptors of one file conflict as two processes would (flock(2)
// and LockFileEx both lock per open file, not per process).
func TestTryLock(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	open := func() *os.File {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	a, b := open(), open()
	if err := Lock(a, true); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if ok, err := TryLock(b, false); ok || err != nil {
		t.Fatalf("TryLock(shared) while held exclusively = %v, %v; want false, nil", ok, err)
	}
	if err := Unlock(a); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	if ok, err := TryLock(b, false); !ok || err != nil {
		t.Fatalf("TryLock(shared) after Unlock = %v, %v; want true, nil", ok, err)
	}
	if ok, err := TryLock(a, false); !ok || err != nil {
		t.Fatalf("second shared TryLock = %v, %v; want true, nil", ok, err)
	}
	if ok, err := TryLock(open(), true); ok || err != nil {
		t.Fatalf("TryLock(exclusive) while shared = %v, %v; want false, nil", ok, err)
	}
}
