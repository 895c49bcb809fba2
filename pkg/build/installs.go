package build

import (
	"bytes"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// PackageInstalls returns the package names the RUN steps of a
// Dockerfile pass to `apt-get install` (or `apt install`) and `apk add`,
// in order, without options; names made of shell variables are left out.
// It reads the shell text the way the templates write it, not as a shell
// would.
func PackageInstalls(dockerfile []byte) ([]string, error) {
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

// installCommands are the package managers' install subcommands.
var installCommands = map[string]string{"apt-get": "install", "apt": "install", "apk": "add"}

// installArgs are the package arguments of the install commands in one
// shell command line.
func installArgs(line string) []string {
	var out []string
	sub, installing, skip := "", false, false
	for _, tok := range strings.Fields(line) {
		end := strings.TrimRight(tok, ";")
		switch {
		case end == "&&" || end == "||" || end == "|" || end == "":
			sub, installing = "", false
			continue
		case skip: // the value of apk's --virtual NAME
			skip = false
		case installing && (end == "--virtual" || end == "-t"):
			skip = true
		case installing && !strings.HasPrefix(end, "-") && !strings.ContainsAny(end, "$`"):
			out = append(out, strings.Trim(end, `"'`))
		case installCommands[path.Base(end)] != "":
			sub = installCommands[path.Base(end)]
		case sub != "" && end == sub:
			installing = true
		}
		if end != tok { // a command ended with ;
			sub, installing = "", false
		}
	}
	return out
}
