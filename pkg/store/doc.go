// Package store owns lambdaimg's local image store: an OCI image layout
// directory holding one single-platform image manifest per target and
// architecture, annotated with what it was built from. Build writes it;
// test, verify and push read it.
package store
