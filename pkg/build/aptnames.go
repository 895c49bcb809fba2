package build

import (
	"bytes"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// AptInstalls returns the package names the RUN steps of a Dockerfile
// pass to `apt-get install` (or `apt install`), in order, without
// options; names made of shell variables are left out. It reads the
// shell text the way the templates write it, not as a shell would.
func AptInstalls(dockerfile []byte) ([]string, error) {
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return nil, err
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range stages {
		for _, c := range s.Commands {
			if run, ok := c.(*instructions.RunCommand); ok {
				out = append(out, installArgs(strings.Join(run.CmdLine, " "))...)
			}
		}
	}
	return out, nil
}

// installArgs are the package arguments of the apt install commands in
// one shell command line.
func installArgs(line string) []string {
	var out []string
	apt, installing := false, false
	for _, tok := range strings.Fields(line) {
		end := strings.TrimRight(tok, ";")
		switch {
		case end == "&&" || end == "||" || end == "|" || end == "":
			apt, installing = false, false
			continue
		case installing && !strings.HasPrefix(end, "-") && !strings.ContainsAny(end, "$`<>"):
			out = append(out, strings.Trim(end, `"'`))
		case path.Base(end) == "apt-get" || path.Base(end) == "apt":
			apt = true
		case apt && end == "install":
			installing = true
		}
		if end != tok { // a command ended with ;
			apt, installing = false, false
		}
	}
	return out
}
