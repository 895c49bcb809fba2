package publish

import (
	"fmt"
	"strings"
	"time"
)

// TagScheme says which kinds of tags Plan writes for each runtime's
// catalog tags (3.12 below; a non-default variant adds -<variant> after
// the version, e.g. 3.12-alpine-arm64).
type TagScheme struct {
	// Arch: per-architecture tags pointing at single-platform image
	// manifests, the ones Lambda deploys: 3.12-x86_64, 3.12-arm64.
	Arch bool
	// Index: the plain tag 3.12, for FROM lines: an image index of the
	// architectures present, or the image itself when the runtime has only
	// one architecture (so the plain tag of an x86_64-only runtime stays
	// deployable, as AWS's python:3.7 is).
	Index bool
	// Dated: immutable tags of the first catalog tag, dated with the
	// publishing day (UTC): 3.12.2026.11.24 (like Index) and
	// 3.12.2026.11.24-x86_64 (like Arch, when Arch is set). A dated tag is
	// never moved: if it points at another digest, the next free counter
	// (3.12.2026.11.24.2, .3, ...) is used for the whole build.
	Dated bool
	// DateLayout is the Go time layout of the date; default "2006.01.02".
	DateLayout string
}

// DefaultTagScheme follows AWS's conventions for public.ecr.aws/lambda.
func DefaultTagScheme() TagScheme {
	return TagScheme{Arch: true, Index: true, Dated: true, DateLayout: "2006.01.02"}
}

// TagKinds are the names ParseTagScheme accepts.
var TagKinds = []string{"arch", "index", "dated"}

// ParseTagScheme builds a scheme from kind names ("arch", "index",
// "dated"), as the CLI's --tags flag gives them.
func ParseTagScheme(kinds []string) (TagScheme, error) {
	s := TagScheme{DateLayout: DefaultTagScheme().DateLayout}
	for _, k := range kinds {
		switch strings.TrimSpace(k) {
		case "arch":
			s.Arch = true
		case "index":
			s.Index = true
		case "dated":
			s.Dated = true
		default:
			return s, fmt.Errorf("tag kind %q is not one of [%s]", k, strings.Join(TagKinds, " "))
		}
	}
	if !s.Arch && !s.Index {
		return s, fmt.Errorf("tag kinds %v write no tag: give arch or index", kinds)
	}
	return s, nil
}

func (s TagScheme) date(now time.Time) string {
	layout := s.DateLayout
	if layout == "" {
		layout = DefaultTagScheme().DateLayout
	}
	return now.UTC().Format(layout)
}

// Tag is a tag to point at one of an action's manifests.
type Tag struct {
	// Stem and Suffix make the tag's name. For a dated tag the counter goes
	// between them (Stem 3.12.2026.11.24, Suffix -arm64: the second build of
	// the day is 3.12.2026.11.24.2-arm64); otherwise Suffix is empty.
	Stem, Suffix string
	Dated        bool
	// Group is the runtime/variant the tag belongs to; the dated tags of a
	// group in one repository share a counter.
	Group  string
	Digest Hash
}

// Name returns the tag's name with counter n (n <= 1: no counter).
func (t Tag) Name(n int) string {
	if n <= 1 {
		return t.Stem + t.Suffix
	}
	return fmt.Sprintf("%s.%d%s", t.Stem, n, t.Suffix)
}

func (t Tag) String() string { return t.Name(1) }

// archOrder sorts x86_64 before arm64, then anything else by name.
func archLess(a, b string) bool {
	rank := func(s string) int {
		switch s {
		case "x86_64":
			return 0
		case "arm64":
			return 1
		}
		return 2
	}
	if rank(a) != rank(b) {
		return rank(a) < rank(b)
	}
	return a < b
}
