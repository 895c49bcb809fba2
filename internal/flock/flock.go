package flock

import "os"

// Lock waits for a lock on f, exclusive or shared.
func Lock(f *os.File, exclusive bool) error { return lock(f, exclusive, false) }

// TryLock takes a lock on f without waiting: it reports false, with no
// error, when another holder has it.
func TryLock(f *os.File, exclusive bool) (bool, error) {
	err := lock(f, exclusive, true)
	if err != nil && wouldBlock(err) {
		return false, nil
	}
	return err == nil, err
}

// Unlock releases the lock on f (closing f releases it too).
func Unlock(f *os.File) error { return unlock(f) }
