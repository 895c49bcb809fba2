//go:build windows

package flock

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// The whole file, as flock(2) locks it: from offset 0, the largest length.
const allLow, allHigh = ^uint32(0), ^uint32(0)

func lock(f *os.File, exclusive, nonblocking bool) error {
	var flags uint32
	if exclusive {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	if nonblocking {
		flags |= windows.LOCKFILE_FAIL_IMMEDIATELY
	}
	return windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, allLow, allHigh, new(windows.Overlapped))
}

func unlock(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, allLow, allHigh, new(windows.Overlapped))
}

func wouldBlock(err error) bool { return errors.Is(err, windows.ERROR_LOCK_VIOLATION) }
