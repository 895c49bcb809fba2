package publish

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestRollback(t *testing.T) {
	s := newSched(t)
	old := s.build(map[string]int{"x86_64": 10, "arm64": 10})
	s.push(nil, old, d1)
	s.push(nil, s.build(map[string]int{"x86_64": 20, "arm64": 20}), d1.Add(24*time.Hour))
	repo := s.reg.Host + "/ns/python"
	req := RollbackRequest{Repository: repo, Group: "python3.12/aws", Tags: []string{"3.12"},
		Arches: []string{"x86_64", "arm64"}, Scheme: DefaultTagScheme()}

	// What each floating tag points at, by the digest of the store entry
	// (or "index").
	pointsAt := func() []string {
		t.Helper()
		names := map[string]string{}
		for _, e := range old {
			names[e.Descriptor.Digest.String()] = "old-" + e.Arch
		}
		var out []string
		for _, tag := range []string{"3.12", "3.12-x86_64", "3.12-arm64"} {
			ref, err := name.ParseReference(repo + ":" + tag)
			if err != nil {
				t.Fatal(err)
			}
			d, err := remote.Head(ref)
			if err != nil {
				t.Fatal(err)
			}
			what := names[d.Digest.String()]
			if what == "" {
				what = "new"
			}
			if d.MediaType.IsIndex() {
				idx, err := remote.Index(ref)
				if err != nil {
					t.Fatal(err)
				}
				im, _ := idx.IndexManifest()
				var kids []string
				for _, m := range im.Manifests {
					kid := names[m.Digest.String()]
					if kid == "" {
						kid = "new"
					}
					kids = append(kids, kid)
				}
				sort.Strings(kids)
				what = "index of " + strings.Join(kids, "+")
			}
			out = append(out, tag+" -> "+what)
		}
		return out
	}

	tests := []struct {
		name    string
		date    string
		wantErr string
		want    []string
	}{
		{name: "a day nothing was published", date: "2026.11.20", wantErr: "nothing was published that day",
			want: []string{"3.12 -> index of new+new", "3.12-x86_64 -> new", "3.12-arm64 -> new"}},
		{name: "a counter that does not exist", date: "2026.11.24.3", wantErr: "missing: no tag moved",
			want: []string{"3.12 -> index of new+new", "3.12-x86_64 -> new", "3.12-arm64 -> new"}},
		{name: "back to the first day", date: "2026.11.24",
			want: []string{"3.12 -> index of old-arm64+old-x86_64", "3.12-x86_64 -> old-x86_64", "3.12-arm64 -> old-arm64"}},
		{name: "again: nothing moves", date: "2026.11.24.1",
			want: []string{"3.12 -> index of old-arm64+old-x86_64", "3.12-x86_64 -> old-x86_64", "3.12-arm64 -> old-arm64"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _, _ := newTestRemote(t, s.st)
			req := req
			req.Date = tc.date
			refs, err := r.Rollback(context.Background(), req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if len(refs) != 3 {
				t.Errorf("refs = %v, want 3", refs)
			}
			if diff := cmp.Diff(tc.want, pointsAt()); diff != "" {
				t.Errorf("floating tags (-want +got):\n%s", diff)
			}
		})
	}
}
