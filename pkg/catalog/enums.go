package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Language is a Lambda runtime language family; it selects the template
// directory (templates/<language>/).
type Language string

// The languages lambdaimg knows.
const (
	Python   Language = "python"
	NodeJS   Language = "nodejs"
	Java     Language = "java"
	DotNet   Language = "dotnet"
	Ruby     Language = "ruby"
	Go       Language = "go"
	Provided Language = "provided"
)

// Languages lists every valid Language in a stable order.
var Languages = []Language{Python, NodeJS, Java, DotNet, Ruby, Go, Provided}

// Valid reports whether l is a known language.
func (l Language) Valid() bool { return contains(Languages, l) }

// OS names an operating system: either the one AWS builds a runtime on, or
// the family a variant is built from (which selects the Dockerfile template).
type OS string

// The operating systems lambdaimg knows. AWS means "derived FROM AWS's
// published base image" and is only valid as a variant OS.
const (
	AWS      OS = "aws"
	AL201803 OS = "al2018.03"
	AL2      OS = "al2"
	AL2023   OS = "al2023"
	Alpine   OS = "alpine"
	Debian   OS = "debian"
	Ubuntu   OS = "ubuntu"
	CentOS   OS = "centos"
)

// AWSOSes are the operating systems AWS builds Lambda runtimes on.
var AWSOSes = []OS{AL201803, AL2, AL2023}

// VariantOSes are the families a variant can be built as.
var VariantOSes = []OS{AWS, AL2, AL2023, Alpine, Debian, Ubuntu, CentOS}

// RICOSes are the families a Runtime Interface Client can be built on.
var RICOSes = []OS{AL2, AL2023, Alpine, Debian, Ubuntu, CentOS}

// ValidAWS reports whether o is an OS AWS builds runtimes on.
func (o OS) ValidAWS() bool { return contains(AWSOSes, o) }

// ValidVariant reports whether o can be a variant's OS.
func (o OS) ValidVariant() bool { return contains(VariantOSes, o) }

// Arch is a Lambda architecture, spelled as Lambda spells it.
type Arch string

// The two architectures Lambda runs.
const (
	X86_64 Arch = "x86_64"
	ARM64  Arch = "arm64"
)

// Arches lists every valid Arch.
var Arches = []Arch{X86_64, ARM64}

// Valid reports whether a is x86_64 or arm64.
func (a Arch) Valid() bool { return contains(Arches, a) }

// Platform returns the OCI platform string for a, e.g. "linux/amd64".
func (a Arch) Platform() string {
	if a == X86_64 {
		return "linux/amd64"
	}
	return "linux/" + string(a)
}

// GoArch returns the GOARCH / TARGETARCH spelling of a.
func (a Arch) GoArch() string {
	if a == X86_64 {
		return "amd64"
	}
	return string(a)
}

// ParsePlatform maps "linux/amd64", "amd64", "x86_64", "linux/arm64",
// "arm64" or "aarch64" to an Arch.
func ParsePlatform(s string) (Arch, error) {
	p := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "linux/")
	switch p {
	case "amd64", "x86_64":
		return X86_64, nil
	case "arm64", "aarch64", "arm64/v8":
		return ARM64, nil
	}
	return "", fmt.Errorf("platform %q is not one of [linux/amd64 linux/arm64]", s)
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func quoteList[T ~string](list []T) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = string(v)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
