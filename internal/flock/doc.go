// Package flock locks whole files between processes: flock(2) on Unix,
// LockFileEx on Windows. The locks are advisory on Unix and mandatory on
// Windows; lambdaimg locks only files that exist to be locked (lock files),
// so the difference does not show.
package flock
