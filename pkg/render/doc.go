// Package render turns a catalog target into a build context: a Dockerfile,
// the entry script, the runtime bootstrap and whatever else the build needs,
// rendered from text/template files. Rendering is pure and deterministic: the
// same target and templates give byte-identical files.
package render
