// Package cli builds lambdaimg's command tree. Each command binds its flags
// to an options struct, validates them, and calls one library function; no
// build, render or push logic lives here.
package cli
