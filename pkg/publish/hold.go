package publish

import (
	"fmt"
	"sort"
	"strings"
)

// WithExpected names, per runtime/variant ("python3.12/aws"), the
// architectures that must be published together. A runtime variant that
// lacks one of them in this run (its build or its gates failed, or it was
// not selected) is held back whole: none of its tags move, neither the
// per-architecture ones nor the index, and the plan says so in a note.
// Default: the architectures the store holds for it.
func WithExpected(arches map[string][]string) PlanOption {
	return func(o *planOptions) error {
		for key, list := range arches {
			if strings.Count(key, "/") != 1 {
				return fmt.Errorf("expected architectures: %q is not runtime/variant", key)
			}
			for _, a := range list {
				if a != "x86_64" && a != "arm64" {
					return fmt.Errorf("expected architectures of %s: %q is not one of [x86_64 arm64]", key, a)
				}
			}
		}
		o.expected = arches
		return nil
	}
}

// held returns why g must not move in this run ("" when it may): an
// architecture it should publish is not among images.
func (g *group) held(o planOptions, images []Manifest) string {
	have := map[string]bool{}
	for _, m := range images {
		have[m.Entry.Arch] = true
	}
	want := map[string]bool{}
	for _, e := range g.entries {
		want[e.Arch] = true
	}
	for _, a := range o.expected[g.key] {
		want[a] = true
	}
	var missing []string
	for a := range want {
		if !have[a] {
			missing = append(missing, a)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	sort.Slice(missing, func(i, j int) bool { return archLess(missing[i], missing[j]) })
	return fmt.Sprintf("%s: held back, no tag moved: %s missing from this run (every architecture of a runtime variant moves together)",
		g.key, strings.Join(missing, ", "))
}

// Prefixes validates registries (REGISTRY[/PATH]) as Plan does and
// returns the repository prefixes they stand for, a bare registry host
// taking namespace.
func Prefixes(registries []string, namespace string) ([]string, error) {
	return prefixes(registries, namespace)
}
