// Package extension lays out Lambda extensions for an image: it turns
// directories, zip files (which Dockerfile ADD does not unpack) and single
// executables into one directory tree that is copied onto /opt, so every
// extension ends up executable under /opt/extensions, where Lambda and the
// Runtime Interface Emulator start them.
//
// It reads only what it is given, within Limits: regular files, directories
// and zips, no links below the paths given, no FIFOs, devices or sockets,
// no file laid out twice, and it stops when the context is cancelled.
package extension
