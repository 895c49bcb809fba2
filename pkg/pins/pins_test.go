package pins_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/pins"
)

// languages is the languages block the Collect cases share.
const languages = `
languages:
  nodejs:
    image: nodejs
    ric: "3.2.0"
    variants:
      al2: {base: "al2"}
      debian: {base: "node:{version}"}
  python:
    image: python
    ric: "3.1.1"
    variants:
      al2: {base: "al2", args: {PYTHON_SOURCE: "{version}.9"}}
      debian: {base: "python:{version}"}
  java:
    image: java
    ric: "2.10.1"
    variants:
      debian: {base: "debian"}
  ruby:
    image: ruby
    ric: "3.1.3"
    variants:
      al2023: {base: "al2023"}
  dotnet:
    image: dotnet
    ric: "1.13.0"
    variants:
      al2: {base: "al2", args: {DOTNET_IMAGE: "runtime:{version}"}}
  provided:
    image: provided
    variants:
      debian: {base: "debian"}
`

const rie = `
defaults:
  rie:
    version: "1.35"
    url: https://github.com/aws/aws-lambda-runtime-interface-emulator/releases/download/v{version}/aws-lambda-rie-{arch}
    sha256: {x86_64: "aa", arm64: "bb"}
`

const rieURL = "https://github.com/aws/aws-lambda-runtime-interface-emulator/releases/download/v1.35/aws-lambda-rie-"

func TestCollect(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []pins.Pin
	}{
		{
			name: "variants on AWS's images pin nothing",
			yaml: rie + languages + `
runtimes:
  - {id: nodejs22.x, language: nodejs, version: "22", os: al2023, architectures: [x86_64], variants: {aws: {}}, ric: "4.0.0"}
  - {id: python3.12, language: python, version: "3.12", os: al2023, architectures: [x86_64], variants: {aws: {}}}
`,
			want: []pins.Pin{},
		},
		{
			name: "runtime and variant overrides, shared pins merged in catalog order",
			yaml: languages + `
runtimes:
  - {id: nodejs20.x, language: nodejs, version: "20", os: al2023, architectures: [x86_64], variants: {aws: {}, debian: {}}}
  - {id: nodejs22.x, language: nodejs, version: "22", os: al2023, architectures: [x86_64], ric: "4.0.0", variants: {debian: {}, al2: {ric: "3.2.0", args: {NODE_SOURCE: "22.1.0"}}}}
  - {id: nodejs18.x, language: nodejs, version: "18", os: al2, architectures: [x86_64], variants: {debian: {}}}
`,
			want: []pins.Pin{
				{Registry: pins.NodeJSDist, Package: "node", Version: "22.1.0", UsedBy: []string{"nodejs22.x/al2"}},
				{Registry: pins.NPM, Package: "aws-lambda-ric", Version: "3.2.0", UsedBy: []string{"nodejs20.x/debian", "nodejs22.x/al2", "nodejs18.x/debian"}},
				{Registry: pins.NPM, Package: "aws-lambda-ric", Version: "4.0.0", UsedBy: []string{"nodejs22.x/debian"}},
			},
		},
		{
			name: "every language's client and source builds, versions in numeric order",
			yaml: languages + `
runtimes:
  - {id: python3.9, language: python, version: "3.9", os: al2, architectures: [x86_64], variants: {al2: {}}}
  - {id: python3.10, language: python, version: "3.10", os: al2, architectures: [x86_64], ric: "3.1.0", variants: {al2: {}, debian: {}}}
  - {id: java21, language: java, version: "21", os: al2023, architectures: [x86_64], variants: {debian: {}}}
  - {id: ruby3.4, language: ruby, version: "3.4", os: al2023, architectures: [x86_64], variants: {al2023: {args: {RUBY_SOURCE: "3.4.7"}}}}
  - {id: dotnet8, language: dotnet, version: "8.0", os: al2, architectures: [x86_64], variants: {al2: {}}}
  - {id: provided.al2023, language: provided, version: al2023, os: al2023, architectures: [x86_64], variants: {debian: {}}}
`,
			want: []pins.Pin{
				{Registry: pins.MavenCentral, Package: "com.amazonaws:aws-lambda-java-runtime-interface-client", Version: "2.10.1", UsedBy: []string{"java21/debian"}},
				{Registry: pins.NuGet, Package: "Amazon.Lambda.RuntimeSupport", Version: "1.13.0", UsedBy: []string{"dotnet8/al2"}},
				{Registry: pins.PyPI, Package: "awslambdaric", Version: "3.1.0", UsedBy: []string{"python3.10/al2", "python3.10/debian"}},
				{Registry: pins.PyPI, Package: "awslambdaric", Version: "3.1.1", UsedBy: []string{"python3.9/al2"}},
				{Registry: pins.PythonOrg, Package: "Python", Version: "3.9.9", UsedBy: []string{"python3.9/al2"}},
				{Registry: pins.PythonOrg, Package: "Python", Version: "3.10.9", UsedBy: []string{"python3.10/al2"}},
				{Registry: pins.RubyLang, Package: "ruby", Version: "3.4.7", UsedBy: []string{"ruby3.4/al2023"}},
				{Registry: pins.RubyGems, Package: "aws_lambda_ric", Version: "3.1.3", UsedBy: []string{"ruby3.4/al2023"}},
			},
		},
		{
			name: "the emulator per architecture a target builds, not where it is left out",
			yaml: rie + languages + `
runtimes:
  - {id: provided.al2, language: provided, version: al2, os: al2, architectures: [x86_64, arm64], variants: {debian: {}}}
  - {id: provided.al2023, language: provided, version: al2023, os: al2023, architectures: [x86_64, arm64], variants: {debian: {architectures: [x86_64]}}}
  - {id: provided.prod, language: provided, version: al2023, os: al2023, architectures: [x86_64], variants: {debian: {rie: false}}}
`,
			want: []pins.Pin{
				{Registry: pins.GitHubReleases, Package: rieURL + "arm64", Version: "1.35", SHA256: "bb", UsedBy: []string{"provided.al2/debian"}},
				{Registry: pins.GitHubReleases, Package: rieURL + "x86_64", Version: "1.35", SHA256: "aa", UsedBy: []string{"provided.al2/debian", "provided.al2023/debian"}},
			},
		},
		{
			name: "an emulator moved off GitHub is a plain download",
			yaml: `
defaults:
  rie:
    version: "1.35"
    url: https://mirror.example/rie/{version}/{arch}
    sha256: {x86_64: "aa"}
` + languages + `
runtimes:
  - {id: provided.al2023, language: provided, version: al2023, os: al2023, architectures: [x86_64], variants: {debian: {}}}
`,
			want: []pins.Pin{
				{Registry: pins.Download, Package: "https://mirror.example/rie/1.35/x86_64", Version: "1.35", SHA256: "aa", UsedBy: []string{"provided.al2023/debian"}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := catalog.Parse("test.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			got, err := pins.Collect(c)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Collect (-want +got):\n%s", diff)
			}
		})
	}
}
