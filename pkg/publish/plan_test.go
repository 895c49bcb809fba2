package publish

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

var day = time.Date(2026, 11, 24, 23, 30, 0, 0, time.FixedZone("UTC-1", -3600)) // 2026-11-25 in UTC

func fixedClock() time.Time { return day }

func entry(runtime, variant, arch, image string, def bool, tags ...string) store.Entry {
	h, _, _ := v1.SHA256(strings.NewReader(runtime + "/" + variant + "/" + arch))
	return store.Entry{
		Ref:        store.Ref{Runtime: runtime, Variant: variant, Arch: arch},
		Descriptor: v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: 500, Digest: h},
		Image:      image, Tags: tags, Default: def,
	}
}

// tagLine renders a planned tag as name -> what it points at.
func tagLines(a Action, entries []store.Entry) []string {
	what := map[v1.Hash]string{}
	for _, e := range entries {
		what[e.Descriptor.Digest] = e.Arch
	}
	for _, m := range a.Manifests {
		if m.IsIndex() {
			what[m.Descriptor.Digest] = "index"
		}
	}
	var out []string
	for _, t := range a.Tags {
		s := t.Name(1) + " -> " + what[t.Digest]
		if t.Dated {
			s += " (dated)"
		}
		out = append(out, s)
	}
	return out
}

func TestPlanTags(t *testing.T) {
	py38 := []store.Entry{
		entry("python3.8", "aws", "x86_64", "python", true, "3.8", "3"),
		entry("python3.8", "aws", "arm64", "python", true, "3.8", "3"),
	}
	alpine := []store.Entry{
		entry("python3.12", "alpine", "arm64", "python", false, "3.12"),
		entry("python3.12", "alpine", "x86_64", "python", false, "3.12"),
	}
	py37 := []store.Entry{entry("python3.7", "aws", "x86_64", "python", true, "3.7")}
	tests := []struct {
		name    string
		entries []store.Entry
		opts    []PlanOption
		want    []string
		notes   int
	}{
		{
			name:    "two architectures, two catalog tags",
			entries: py38,
			want: []string{
				"3.8-x86_64 -> x86_64", "3.8-arm64 -> arm64", "3-x86_64 -> x86_64", "3-arm64 -> arm64",
				"3.8.2026.11.25-x86_64 -> x86_64 (dated)", "3.8.2026.11.25-arm64 -> arm64 (dated)",
				"3.8 -> index", "3 -> index", "3.8.2026.11.25 -> index (dated)",
			},
		},
		{
			name:    "a non-default variant carries its name",
			entries: alpine,
			want: []string{
				"3.12-alpine-x86_64 -> x86_64", "3.12-alpine-arm64 -> arm64",
				"3.12.2026.11.25-alpine-x86_64 -> x86_64 (dated)", "3.12.2026.11.25-alpine-arm64 -> arm64 (dated)",
				"3.12-alpine -> index", "3.12.2026.11.25-alpine -> index (dated)",
			},
		},
		{
			name:    "a single-architecture runtime's plain tag is the image itself",
			entries: py37,
			want:    []string{"3.7-x86_64 -> x86_64", "3.7.2026.11.25-x86_64 -> x86_64 (dated)", "3.7 -> x86_64", "3.7.2026.11.25 -> x86_64 (dated)"},
		},
		{
			name:    "selecting one of two architectures holds the runtime back",
			entries: py38,
			opts:    []PlanOption{WithArches("arm64")},
			notes:   1,
		},
		{
			name:    "an expected architecture missing from the run holds the runtime back",
			entries: py38[:1],
			opts:    []PlanOption{WithExpected(map[string][]string{"python3.8/aws": {"x86_64", "arm64"}})},
			notes:   1,
		},
		{
			name:    "no dated tags",
			entries: py37,
			opts:    []PlanOption{WithTagScheme(TagScheme{Arch: true, Index: true})},
			want:    []string{"3.7-x86_64 -> x86_64", "3.7 -> x86_64"},
		},
		{
			name:    "index tags only, custom date layout",
			entries: py38[:1],
			opts:    []PlanOption{WithTagScheme(TagScheme{Index: true, Dated: true, DateLayout: "20060102"})},
			want:    []string{"3.8 -> x86_64", "3 -> x86_64", "3.8.20261125 -> x86_64 (dated)"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]PlanOption{WithClock(fixedClock)}, tc.opts...)
			plan, err := Plan(tc.entries, []string{"public.ecr.aws/alias"}, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if len(plan) != 1 || plan[0].Repository != "public.ecr.aws/alias/python" {
				t.Fatalf("plan has %d actions, want one for public.ecr.aws/alias/python: %+v", len(plan), plan)
			}
			if diff := cmp.Diff(tc.want, tagLines(plan[0], tc.entries)); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			if len(plan[0].Notes) != tc.notes {
				t.Errorf("notes = %q, want %d", plan[0].Notes, tc.notes)
			}
		})
	}
}

func TestPlanIndex(t *testing.T) {
	entries := []store.Entry{
		entry("nodejs22.x", "aws", "arm64", "nodejs", true, "22"),
		entry("nodejs22.x", "aws", "x86_64", "nodejs", true, "22"),
	}
	plan, err := Plan(entries, []string{"docker.io/me", "public.ecr.aws/alias"}, WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	var repos []string
	for _, a := range plan {
		repos = append(repos, a.Repository)
	}
	if diff := cmp.Diff([]string{"docker.io/me/nodejs", "public.ecr.aws/alias/nodejs"}, repos); diff != "" {
		t.Errorf("repositories (-want +got):\n%s", diff)
	}
	a := plan[0]
	if len(a.Manifests) != 3 || !a.Manifests[2].IsIndex() || a.Manifests[0].IsIndex() {
		t.Fatalf("manifests = %+v, want two images then an index", a.Manifests)
	}
	var im v1.IndexManifest
	if err := json.Unmarshal(a.Manifests[2].Raw, &im); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range im.Manifests {
		got = append(got, d.Platform.String()+" "+d.Digest.String())
	}
	want := []string{"linux/amd64 " + entries[1].Descriptor.Digest.String(), "linux/arm64 " + entries[0].Descriptor.Digest.String()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("index manifests (-want +got):\n%s", diff)
	}
	if im.MediaType != types.OCIImageIndex {
		t.Errorf("index media type = %s, want %s", im.MediaType, types.OCIImageIndex)
	}
	h, _, _ := v1.SHA256(strings.NewReader(string(a.Manifests[2].Raw)))
	if h != a.Manifests[2].Descriptor.Digest {
		t.Errorf("index digest %s does not match its bytes (%s)", a.Manifests[2].Descriptor.Digest, h)
	}
}

func TestPlanDockerManifestList(t *testing.T) {
	entries := []store.Entry{
		entry("ruby3.3", "aws", "x86_64", "ruby", true, "3.3"),
		entry("ruby3.3", "aws", "arm64", "ruby", true, "3.3"),
	}
	for i := range entries {
		entries[i].Descriptor.MediaType = types.DockerManifestSchema2
	}
	plan, err := Plan(entries, []string{"localhost:5000"}, WithNamespace("lambdaimg"), WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	if got := plan[0].Repository; got != "localhost:5000/lambdaimg/ruby" {
		t.Errorf("repository = %s, want localhost:5000/lambdaimg/ruby", got)
	}
	if mt := plan[0].Manifests[2].Descriptor.MediaType; mt != types.DockerManifestList {
		t.Errorf("index media type = %s, want %s", mt, types.DockerManifestList)
	}
}

func TestPlanErrors(t *testing.T) {
	noTags := entry("go1.x", "aws", "x86_64", "go", true)
	tests := []struct {
		name       string
		entries    []store.Entry
		registries []string
		opts       []PlanOption
		want       []string // substrings of the error
	}{
		{"no registry", []store.Entry{entry("python3.12", "aws", "x86_64", "python", true, "3.12")}, nil, nil,
			[]string{"no registry"}},
		{"bad registry", []store.Entry{entry("python3.12", "aws", "x86_64", "python", true, "3.12")}, []string{"UPPER CASE/x"}, nil,
			[]string{`registry "UPPER CASE/x"`}},
		{"missing annotations", []store.Entry{noTags}, []string{"r.example/x"}, nil,
			[]string{"go1.x/aws/x86_64", "io.lambdaimg.tags"}},
		{"two runtimes claim one tag", []store.Entry{
			entry("python3.8", "aws", "x86_64", "python", true, "3.8", "3"),
			entry("python3.9", "aws", "x86_64", "python", true, "3.9", "3"),
		}, []string{"r.example/x"}, nil,
			[]string{"r.example/x/python:3-x86_64 is claimed by both python3.8/aws and python3.9/aws", "r.example/x/python:3 is claimed"}},
		{"architectures disagree", []store.Entry{
			entry("java21", "aws", "x86_64", "java", true, "21"),
			entry("java21", "aws", "arm64", "java", true, "22"),
		}, []string{"r.example/x"}, nil,
			[]string{"java21/aws/arm64: image \"java\", tags [22]"}},
		{"bad arch filter", nil, []string{"r.example/x"}, []PlanOption{WithArches("amd64")},
			[]string{`architecture "amd64"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Plan(tc.entries, tc.registries, tc.opts...)
			if err == nil {
				t.Fatal("Plan succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestTagName(t *testing.T) {
	tag := Tag{Stem: "3.12.2026.11.24", Suffix: "-alpine-arm64", Dated: true}
	got := []string{tag.Name(0), tag.Name(1), tag.Name(2), tag.Name(13)}
	want := []string{"3.12.2026.11.24-alpine-arm64", "3.12.2026.11.24-alpine-arm64", "3.12.2026.11.24.2-alpine-arm64", "3.12.2026.11.24.13-alpine-arm64"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

func TestParseTagScheme(t *testing.T) {
	tests := []struct {
		kinds   []string
		want    TagScheme
		wantErr bool
	}{
		{[]string{"arch", "index", "dated"}, DefaultTagScheme(), false},
		{[]string{"arch"}, TagScheme{Arch: true, DateLayout: "2006.01.02"}, false},
		{[]string{"dated"}, TagScheme{}, true},
		{[]string{"latest"}, TagScheme{}, true},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.kinds, ","), func(t *testing.T) {
			got, err := ParseTagScheme(tc.kinds)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err == nil {
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("scheme (-want +got):\n%s", diff)
				}
			}
		})
	}
}
