package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
	"github.com/lambdaimg/lambdaimg/pkg/store"
	"github.com/lambdaimg/lambdaimg/pkg/verify"
)

// dpkgImages stores python3.12 x86_64 whose dpkg status lists pkgs.
func dpkgImages(t *testing.T, st *store.Store, pkgs ...string) []store.Entry {
	t.Helper()
	var status strings.Builder
	for _, p := range pkgs {
		n, v, _ := strings.Cut(p, "=")
		fmt.Fprintf(&status, "Package: %s\nStatus: install ok installed\nArchitecture: amd64\nVersion: %s\n\n", n, v)
	}
	layer, err := registrytest.Layer(types.OCILayer,
		registrytest.File{Path: "etc/os-release", Data: []byte("ID=debian\n")},
		registrytest.File{Path: "var/lib/dpkg/status", Data: []byte(status.String())})
	if err != nil {
		t.Fatal(err)
	}
	imgs := registrytest.Runtimes([]string{"python3.12"}, "x86_64")
	imgs[0].Spec.ExtraLayers = append(imgs[0].Spec.ExtraLayers, layer)
	entries, err := registrytest.Fill(st, imgs...)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func TestAttach(t *testing.T) {
	tests := []struct {
		name      string
		referrers bool // the registry serves the referrers API
	}{
		{name: "registry with the referrers API", referrers: true},
		{name: "registry without it: the sha256-<digest> tag", referrers: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)), ggcrregistry.WithReferrersSupport(tc.referrers)))
			t.Cleanup(srv.Close)
			host := strings.TrimPrefix(srv.URL, "http://")
			st, err := store.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			l, err := inventory.NewLoader(false)
			if err != nil {
				t.Fatal(err)
			}
			push := func(entries []store.Entry, day time.Time) Result {
				t.Helper()
				plan, err := Plan(entries, []string{host + "/ns"}, WithClock(func() time.Time { return day }))
				if err != nil {
					t.Fatal(err)
				}
				r, _, _ := newTestRemote(t, st)
				res, err := Attach(r, l).Publish(context.Background(), plan)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			push(dpkgImages(t, st, "curl=7.88.1-10", "gone=1"), d1)
			res := push(dpkgImages(t, st, "curl=7.88.1-10+deb12u5", "new=2"), d1.Add(24*time.Hour))
			if len(res.Referrers) != 2 {
				t.Fatalf("referrers = %+v, want an SBOM and a changelog", res.Referrers)
			}
			subject := res.Referrers[0].Subject
			tag, err := name.ParseReference(host + "/ns/python:3.12-x86_64")
			if err != nil {
				t.Fatal(err)
			}
			// The deployable tag still names the image, which verify passes.
			d, err := remote.Head(tag)
			if err != nil || d.Digest != subject || !d.MediaType.IsImage() {
				t.Fatalf("3.12-x86_64 = %+v (%v), want the image %s", d, err, subject)
			}
			checkVerify(t, tag.String(), "PASS")

			idx, err := remote.Referrers(tag.Context().Digest(subject.String()))
			if err != nil {
				t.Fatal(err)
			}
			im, err := idx.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, m := range im.Manifests {
				kinds = append(kinds, m.ArtifactType)
			}
			if diff := cmp.Diff([]string{SBOMArtifactType, ChangelogArtifactType}, kinds, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("referrers' artifact types (-want +got):\n%s", diff)
			}
			_, err = remote.Head(tag.Context().Tag(strings.Replace(subject.String(), ":", "-", 1)))
			if hasFallback := err == nil; hasFallback == tc.referrers {
				t.Errorf("fallback tag present: %v, want %v", hasFallback, !tc.referrers)
			}
			c := readChangelog(t, tag.Context().Digest(res.Referrers[1].Digest.String()))
			want := []string{"curl 7.88.1-10 -> 7.88.1-10+deb12u5", "+new 2", "-gone 1"}
			if diff := cmp.Diff(want, c); diff != "" {
				t.Errorf("changelog (-want +got):\n%s", diff)
			}
			// An artifact is not deployable.
			checkVerify(t, tag.Context().Digest(res.Referrers[0].Digest.String()).String(), "FAIL")
		})
	}
}

// readChangelog returns the changed, added and removed packages of a
// changelog artifact.
func readChangelog(t *testing.T, ref name.Digest) []string {
	t.Helper()
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("changelog layers: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var c inventory.Changelog
	if err := json.NewDecoder(rc).Decode(&c); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range c.Changed {
		out = append(out, p.Name+" "+p.Old+" -> "+p.New)
	}
	for _, p := range c.Added {
		out = append(out, "+"+p.Name+" "+p.Version)
	}
	for _, p := range c.Removed {
		out = append(out, "-"+p.Name+" "+p.Version)
	}
	return out
}

// checkVerify runs verify's manifest check on ref and wants status.
func checkVerify(t *testing.T, ref, status string) {
	t.Helper()
	v, err := verify.New(verify.WithRegistries(false))
	if err != nil {
		t.Fatal(err)
	}
	reps, err := v.Reference(context.Background(), ref)
	if err != nil || len(reps) != 1 {
		t.Fatalf("verify %s: %v, %d reports", ref, err, len(reps))
	}
	for _, c := range reps[0].Checks {
		if c.Name == "manifest" {
			if string(c.Status) != status {
				t.Errorf("verify %s: manifest %s (%s), want %s", ref, c.Status, c.Reason, status)
			}
			return
		}
	}
	t.Errorf("verify %s: no manifest check in %+v", ref, reps[0].Checks)
}
