package verify

import (
	"archive/tar"
	"fmt"
	"path"
	"strings"
)

func (c *imageChecks) entrypoint() {
	ep := c.cfg.Config.Entrypoint
	switch {
	case len(ep) == 0 || ep[0] == "":
		c.rep.add("entrypoint", Fail, "no ENTRYPOINT; set an absolute one (AWS's base images use %s)", EntrypointScript)
		return
	case !path.IsAbs(ep[0]):
		c.rep.add("entrypoint", Fail, "ENTRYPOINT %q is a relative path; Lambda needs an absolute one", ep[0])
		return
	case c.fs == nil:
		c.rep.add("entrypoint", Warn, "ENTRYPOINT %s is absolute; %v", ep[0], c.fsErr)
		return
	}
	f, at := c.fs.lookup(ep[0], false)
	switch {
	case f == nil:
		c.rep.add("entrypoint", Fail, "ENTRYPOINT %s does not exist in the image", ep[0])
	case f.typ == tar.TypeLink:
		// lookup resolves hard links whose target exists.
		c.rep.add("entrypoint", Fail, "ENTRYPOINT %s is a hard link to %s, which is not in the image", ep[0], cleanPath(f.link))
	case f.typ == tar.TypeSymlink:
		c.rep.add("entrypoint", Fail, "ENTRYPOINT %s is a symlink to %s; Lambda does not take a symlink as entry point: use the target's path", ep[0], f.link)
	case f.typ == tar.TypeDir:
		c.rep.add("entrypoint", Fail, "ENTRYPOINT %s is a directory", ep[0])
	case f.typ != tar.TypeReg && f.typ != tar.TypeLink:
		c.rep.add("entrypoint", Fail, "ENTRYPOINT %s is not a regular file (tar type %q)", ep[0], f.typ)
	case f.mode&0o111 == 0:
		c.rep.add("entrypoint", Fail, "ENTRYPOINT %s is not executable (mode %04o)", ep[0], f.mode&0o7777)
	default:
		if msg := c.missingInterpreter(f); msg != "" {
			c.rep.add("entrypoint", Fail, "ENTRYPOINT %s is a script whose %s", ep[0], msg)
			return
		}
		if at != ep[0] {
			c.rep.add("entrypoint", Pass, "%s (at %s) is an executable file", ep[0], at)
			return
		}
		c.rep.add("entrypoint", Pass, "%s is an executable file", ep[0])
	}
}

// base reports whether the image is a base image (lambdaimg's label) and
// whether it uses AWS's entry point script.
func (c *imageChecks) base() (labelled, awsEntrypoint bool) {
	_, labelled = c.cfg.Config.Labels[LabelRuntime]
	ep := c.cfg.Config.Entrypoint
	return labelled, len(ep) > 0 && ep[0] == EntrypointScript
}

// needsHandler reports whether the entry point takes the handler as its
// argument: AWS's script or a Runtime Interface Client.
func needsHandler(ep []string) bool {
	joined := strings.Join(ep, " ")
	for _, s := range []string{"lambda-entrypoint.sh", "awslambdaric", "aws-lambda-ric", "aws_lambda_ric", "runtime.api.client.AWSLambda"} {
		if strings.Contains(joined, s) {
			return true
		}
	}
	return false
}

func (c *imageChecks) cmd() {
	if cmd := c.cfg.Config.Cmd; len(cmd) > 0 {
		c.rep.add("cmd", Pass, "CMD %q", cmd)
		return
	}
	labelled, _ := c.base()
	switch {
	case c.v.cmdRule == CmdOptional:
		c.rep.add("cmd", Pass, "no CMD (not required)")
	case c.v.cmdRule == CmdRequire:
		c.rep.add("cmd", Fail, "no CMD; Lambda passes CMD (the handler) to the entry point")
	case labelled:
		c.rep.add("cmd", Warn, "no CMD: fine for a base image (label %s); an image built FROM it must set CMD to its handler", LabelRuntime)
	case needsHandler(c.cfg.Config.Entrypoint):
		c.rep.add("cmd", Fail, "no CMD; the entry point %s needs the handler as its argument: set CMD [\"<handler>\"]", c.cfg.Config.Entrypoint[0])
	default:
		c.rep.add("cmd", Warn, "no CMD: fine if the entry point needs no handler (a Go or custom-runtime binary)")
	}
}

// binaryArch compares the ELF machine of the binaries that run with the
// config's architecture.
func (c *imageChecks) binaryArch() {
	if c.fs == nil {
		c.rep.add("binary-arch", Warn, "%v", c.fsErr)
		return
	}
	arch := c.cfg.Architecture
	var starts []string
	if ep := c.cfg.Config.Entrypoint; len(ep) > 0 && path.IsAbs(ep[0]) {
		starts = append(starts, ep[0])
	}
	starts = append(starts, "/var/runtime/bootstrap", "/usr/local/bin/aws-lambda-rie")
	var checked, wrong []string
	seen := map[string]bool{}
	for _, p := range starts {
		bin, via := c.executable(p)
		if bin == nil || seen[via] {
			continue
		}
		seen[via] = true
		m, _ := elfMachine(bin.head)
		desc := via
		if via != p {
			desc = p + " (" + via + ")"
		}
		if goArch(m) != arch {
			wrong = append(wrong, fmt.Sprintf("%s is an ELF for %s (%s)", desc, goArch(m), m))
		} else {
			checked = append(checked, desc)
		}
	}
	if len(checked)+len(wrong) == 0 {
		for _, f := range c.fs.top {
			if m, ok := elfMachine(f.head); ok && f.mode&0o111 != 0 {
				if goArch(m) != arch {
					wrong = append(wrong, fmt.Sprintf("%s (top layer) is an ELF for %s (%s)", f.path, goArch(m), m))
				} else {
					checked = append(checked, f.path+" (top layer)")
				}
				break
			}
		}
	}
	switch {
	case len(wrong) > 0:
		c.rep.add("binary-arch", Fail, "the config says %s but %s", arch, strings.Join(wrong, "; "))
	case len(checked) == 0:
		c.rep.add("binary-arch", Warn, "found no ELF binary (entry point, its interpreter, /var/runtime/bootstrap, the emulator, the top layer) to compare with %s", arch)
	default:
		c.rep.add("binary-arch", Pass, "%s: ELF for %s", strings.Join(checked, ", "), arch)
	}
}

// executable returns the ELF that runs when p is executed: p itself, or
// the interpreter of its #! line, following symlinks; and where it is.
func (c *imageChecks) executable(p string) (*fileInfo, string) {
	for hops := 0; hops < 4; hops++ {
		f, at := c.fs.lookup(p, true)
		if f == nil {
			return nil, ""
		}
		if _, ok := elfMachine(f.head); ok {
			return f, at
		}
		prog, viaEnv := interpreter(f.head)
		if prog == "" {
			return nil, ""
		}
		if viaEnv && !path.IsAbs(prog) {
			prog = c.inPath(prog)
			if prog == "" {
				return nil, ""
			}
		}
		p = prog
	}
	return nil, ""
}

// inPath finds prog in the config's PATH.
func (c *imageChecks) inPath(prog string) string {
	for _, e := range c.cfg.Config.Env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			for _, dir := range strings.Split(v, ":") {
				if f, _ := c.fs.lookup(path.Join(dir, prog), true); f != nil {
					return path.Join(dir, prog)
				}
			}
		}
	}
	return ""
}

// missingInterpreter says what is wrong with the #! line of f when its
// interpreter is not in the image (the kernel would fail with ENOENT), or
// returns "".
func (c *imageChecks) missingInterpreter(f *fileInfo) string {
	prog, viaEnv := interpreter(f.head)
	switch {
	case prog == "":
		return ""
	case viaEnv && !path.IsAbs(prog):
		env := strings.Fields(strings.TrimPrefix(string(f.head), "#!"))[0]
		if e, _ := c.fs.lookup(env, true); e == nil {
			return fmt.Sprintf("#! line runs %s, which is not in the image", env)
		}
		if c.inPath(prog) == "" {
			return fmt.Sprintf("#! line runs %s through env, and no %s is in the image's PATH", prog, prog)
		}
		return ""
	}
	if p, _ := c.fs.lookup(prog, true); p == nil || p.typ == tar.TypeDir || p.typ == tar.TypeLink {
		return fmt.Sprintf("#! interpreter %s is not in the image", prog)
	}
	return ""
}
