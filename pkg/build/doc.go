// Package build builds rendered build contexts into images with BuildKit's
// Go client, one solve per target and platform, through one client or a
// pool of them (the scheduler places each job: native first, balanced,
// same target together; a job whose builder dies runs once more on
// another), with one progress display; each image passes the gates it is
// given (Gate: verify, the smoke test) before it is stored as a
// single-platform image manifest in the local OCI store. A target whose
// inputs and options are unchanged since it was stored is not sent to
// BuildKit again.
package build
