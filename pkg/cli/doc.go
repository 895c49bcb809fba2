// Package cli builds lambdaimg's command tree. Each command binds its flags
// to an options struct, checks them, turns them into one request for
// pkg/pipeline (or pkg/verify, pkg/catalog) and prints the one report it
// gets back: results on stdout, progress and failures on stderr. No build,
// render or push logic lives here.
package cli
