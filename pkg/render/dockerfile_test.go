package render_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// checkFiles checks that the Dockerfile installs the context's scripts.
func checkFiles(t *testing.T, ctx *render.Context, df []byte, os catalog.OS) {
	t.Helper()
	if os != catalog.AWS {
		for _, f := range []string{"lambda-entrypoint.sh", "bootstrap"} {
			if fileData(t, ctx, f); !strings.Contains(string(df), "COPY --chmod=0755 "+f) {
				t.Errorf("Dockerfile does not install %s", f)
			}
		}
	}
}

// maxLine is the longest line a generated Dockerfile may have.
const maxLine = 160

// checkOptions checks line lengths and what each option adds: without CA
// one short line about it and no secret; with CA, the secret mounted by
// every step that downloads and declared in every stage that has one; the
// extensions context copied into the final stage with Extensions only.
func checkOptions(t *testing.T, df []byte, o render.Options) {
	t.Helper()
	text := string(df)
	for i, l := range strings.Split(text, "\n") {
		if len(l) > maxLine {
			t.Errorf("line %d is %d characters long, over %d: %s", i+1, len(l), maxLine, l)
		}
	}
	if got := strings.Count(text, "ca-bundle"); !o.CA && got != 1 {
		t.Errorf("without CA, %d lines mention the CA bundle, want 1", got)
	}
	mounts := strings.Count(text, "--mount=type=secret,id=ca,mode=0444")
	if !o.CA && (mounts > 0 || strings.Contains(text, "/run/secrets")) {
		t.Errorf("without CA, the Dockerfile uses the secret")
	}
	if o.CA {
		runs := strings.Count(text, "\nRUN ")
		if mounts != runs {
			t.Errorf("with CA, %d of %d RUN steps mount the secret", mounts, runs)
		}
		for _, stage := range strings.Split(text, "\nFROM ")[1:] {
			if strings.Contains(stage, "\nRUN ") != strings.Contains(stage, "\nARG SSL_CERT_FILE=/run/secrets/ca") {
				t.Errorf("stage %q: steps that download and the CA declaration do not go together", strings.SplitN(stage, "\n", 2)[0])
			}
		}
	}
	if got := strings.Count(text, "COPY --from=extensions / /opt/"); o.Extensions != (got == 1) || got > 1 {
		t.Errorf("Extensions %v: the extensions context is copied %d times", o.Extensions, got)
	}
}

func fileData(t *testing.T, ctx *render.Context, name string) []byte {
	t.Helper()
	for _, f := range ctx.Files {
		if f.Path == name {
			return f.Data
		}
	}
	t.Fatalf("context has no %s", name)
	return nil
}

func checkDockerfile(t *testing.T, df []byte, withRIE bool) {
	t.Helper()
	res, err := parser.Parse(bytes.NewReader(df))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	for _, w := range res.Warnings {
		t.Errorf("parser warning: %s", w.Short)
	}
	var lints []string
	lint := linter.New(&linter.Config{Warn: func(rule, desc, url, msg string, loc []parser.Range) {
		lints = append(lints, fmt.Sprintf("%s: %s (line %d)", rule, msg, loc[0].Start.Line))
	}})
	stages, metaArgs, err := instructions.Parse(res.AST, lint)
	if err != nil {
		t.Fatalf("instructions: %v", err)
	}
	for _, l := range lints {
		t.Errorf("lint: %s", l)
	}
	if len(stages) == 0 || stages[len(stages)-1].Name != "image" {
		t.Fatalf("the last stage must be named image")
	}
	names := map[string]bool{}
	for _, s := range stages {
		// Every pulled image goes through a global *_IMAGE argument, so
		// registry mirrors can redirect it.
		if b := s.BaseName; b != "scratch" && !names[b] && !strings.HasPrefix(b, "rie-${") &&
			!(strings.HasPrefix(b, "${") && strings.HasSuffix(b, "_IMAGE}")) {
			t.Errorf("stage %q is FROM %q: use a global ARG ending in _IMAGE", s.Name, b)
		}
		names[s.Name] = true
	}
	var args []string
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			args = append(args, kv.Key)
		}
	}
	if !contains(args, "BASE_IMAGE") {
		t.Errorf("no global BASE_IMAGE argument: %v", args)
	}
	final := stages[len(stages)-1]
	var entry, workdir string
	env := map[string]string{}
	for _, cmd := range final.Commands {
		switch c := cmd.(type) {
		case *instructions.EntrypointCommand:
			entry = strings.Join(c.CmdLine, " ")
		case *instructions.WorkdirCommand:
			workdir = c.Path
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env[kv.Key] = kv.Value
			}
		}
	}
	if names["build"] || withRIE { // custom images keep AWS's contract themselves
		if entry != "/lambda-entrypoint.sh" || workdir != "/var/task" || env["LAMBDA_TASK_ROOT"] != "/var/task" ||
			env["LAMBDA_RUNTIME_DIR"] != "/var/runtime" || env["LANG"] == "" || env["TZ"] == "" || env["PATH"] == "" {
			t.Errorf("final stage breaks the base-image contract: entrypoint %q workdir %q env %v", entry, workdir, env)
		}
	}
	if withRIE != names["rie"] {
		t.Errorf("RIE layered in: %v, rie stage present: %v", withRIE, names["rie"])
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
