package catalog

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSelectionErrors checks the sentinels a command line branches on to
// name its own flags.
func TestSelectionErrors(t *testing.T) {
	c := mustParse(t, validCatalog)
	if _, err := c.Targets(Selector{}); !errors.Is(err, ErrNoSelection) || strings.Contains(err.Error(), "--") {
		t.Errorf("empty selector: %v, want ErrNoSelection without flag names", err)
	}
	if _, err := c.Targets(Selector{Runtimes: []string{"python9"}}); !errors.Is(err, ErrNoRuntime) || strings.Contains(err.Error(), "--") {
		t.Errorf("unknown runtime: %v, want ErrNoRuntime without flag names", err)
	}
}

// TestOSNeeds checks that a variant takes its template's packages from its
// OS family, whatever its name, and its template from the family unless it
// names one.
func TestOSNeeds(t *testing.T) {
	c := mustParse(t, strings.Replace(validCatalog, "al2023: {}, alpine: {}}",
		`al2023: {}, alpine: {}, alpine3.19: {base: "docker.io/library/python:3.12-alpine3.19", template: musl}}`, 1))
	ts, err := c.Targets(Selector{Runtimes: []string{"python3.12"}, Variants: []string{"alpine", "al2023"}})
	if err != nil {
		t.Fatal(err)
	}
	type needs struct {
		Template              string
		BuildDepends, Depends []string
	}
	got := map[string]needs{}
	for _, tg := range ts {
		got[tg.Variant] = needs{tg.Spec.Template, tg.BuildDepends, tg.Depends}
	}
	want := map[string]needs{
		"al2023":     {},
		"alpine":     {"", []string{"build-base", "python3.12-dev"}, []string{"libstdc++"}},
		"alpine3.19": {"musl", []string{"build-base", "python3.12-dev"}, []string{"libstdc++"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("needs (-want +got):\n%s", diff)
	}
}

func TestTargets(t *testing.T) {
	c := mustParse(t, validCatalog)
	cases := []struct {
		name    string
		sel     Selector
		want    []string
		wantErr string
	}{
		{"default variant", Selector{Runtimes: []string{"python3.12"}}, []string{"python3.12/al2023 x86_64 arm64"}, ""},
		{"2018.03 defaults to aws", Selector{Runtimes: []string{"python3.7"}}, []string{"python3.7/aws x86_64"}, ""},
		{"by variant", Selector{Runtimes: []string{"python3.12"}, Variants: []string{"alpine"}}, []string{"python3.12/alpine x86_64 arm64"}, ""},
		{"by platform", Selector{Runtimes: []string{"python3.12"}, Arches: []Arch{ARM64}}, []string{"python3.12/al2023 arm64"}, ""},
		{"all", Selector{All: true}, []string{"python3.12/al2023 x86_64 arm64", "python3.12/alpine x86_64 arm64", "python3.12/aws x86_64 arm64", "python3.7/aws x86_64"}, ""},
		{"all arm64 skips x86-only", Selector{All: true, Arches: []Arch{ARM64}, Variants: []string{"aws"}}, []string{"python3.12/aws arm64"}, ""},
		{"unknown runtime", Selector{Runtimes: []string{"python9"}}, nil, `no such runtime "python9" in test.yaml`},
		{"missing variant", Selector{Runtimes: []string{"python3.7"}, Variants: []string{"alpine"}}, nil, "runtime python3.7 has no variant alpine: it has [aws]"},
		{"missing platform", Selector{Runtimes: []string{"python3.7"}, Arches: []Arch{ARM64}}, nil, "python3.7/aws is built for [x86_64] only, not [arm64]"},
		{"nothing", Selector{}, nil, "no runtime selected"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Targets(tc.sel)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, names(got)); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
		})
	}
}
