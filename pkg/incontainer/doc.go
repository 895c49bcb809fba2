// Package incontainer is what runs inside lambdaimg's test containers, in
// the static Linux program cmd/lambdaimg-helper: the client that posts
// events to the Runtime Interface Emulator (Invoke) and the sample custom
// runtime (Runtime). It uses only the standard library, so the helper stays
// small; the host side of the protocol (Request, Result) is pkg/smoke.
package incontainer
