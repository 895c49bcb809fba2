package publish

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// pairs counts the blobs the plan's images need, once per repository.
func pairs(t *testing.T, st *store.Store, plan []Action) (perRepo, unique int) {
	t.Helper()
	seen := map[Hash]bool{}
	for _, a := range plan {
		inRepo := map[Hash]bool{}
		for _, m := range a.Manifests {
			if m.IsIndex() {
				continue
			}
			img, err := st.Image(*m.Entry)
			if err != nil {
				t.Fatal(err)
			}
			bs, err := imageBlobs(img)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range bs {
				inRepo[b.digest] = true
				seen[b.digest] = true
			}
		}
		perRepo += len(inRepo)
	}
	return perRepo, len(seen)
}

// TestRequests checks what a push asks the registry, by kind of request.
func TestRequests(t *testing.T) {
	reg := registrytest.Start(t)
	st, entries := registrytest.NewStore(t, testImages()...)
	plan, err := Plan(entries, []string{reg.Host + "/ns"}, WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	var tags int
	for _, a := range plan {
		tags += len(a.Tags)
	}
	perRepo, unique := pairs(t, st, plan)
	r, _, _ := newTestRemote(t, st)
	push := func() map[string]int {
		t.Helper()
		before := reg.RequestKinds()
		if _, err := r.Publish(context.Background(), plan); err != nil {
			t.Fatal(err)
		}
		got := reg.RequestKinds()
		for k, n := range before {
			if got[k] -= n; got[k] == 0 {
				delete(got, k)
			}
		}
		return got
	}

	// A new registry: one ping, one tag list per repository, no HEAD of a
	// manifest; each blob looked up and sent once (in one or two
	// requests), mounted in the other repositories without a HEAD; each
	// tag one PUT, which puts a new manifest too (by its dated tag).
	got := push()
	if got[registrytest.KindPing] != 1 || got[registrytest.KindTagsList] != len(plan) ||
		got[registrytest.KindHeadManifest]+got[registrytest.KindGetManifest]+got[registrytest.KindPatchUpload] != 0 {
		t.Errorf("first push: %v; want 1 ping, %d tag lists, no manifest HEAD or GET, no PATCH", got, len(plan))
	}
	if got[registrytest.KindHeadBlob] != unique || got[registrytest.KindMount] != perRepo-unique {
		t.Errorf("first push: %d blob HEADs and %d mounts, want %d and %d", got[registrytest.KindHeadBlob], got[registrytest.KindMount], unique, perRepo-unique)
	}
	if got[registrytest.KindPutManifest] != tags {
		t.Errorf("first push: %d manifest PUTs, want one per tag (%d)", got[registrytest.KindPutManifest], tags)
	}
	for h, n := range reg.Log().BlobUploads() {
		if n != 1 {
			t.Errorf("blob %s uploaded %d times", h, n)
		}
	}

	// The same again: the tag lists and a HEAD of each tag; no manifest
	// looked up by digest (the tags name them all), nothing sent.
	got = push()
	want := map[string]int{registrytest.KindPing: 1, registrytest.KindTagsList: len(plan), registrytest.KindHeadManifest: tags}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unchanged rerun requests (-want +got):\n%s", diff)
	}
}

// TestWithoutTagList: a registry that will not list tags gets a HEAD per
// tag and manifest, and dated tags stay immutable.
func TestWithoutTagList(t *testing.T) {
	reg, err := registrytest.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/tags/list") {
			http.Error(w, `{"errors":[{"code":"DENIED","message":"no listing"}]}`, http.StatusForbidden)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	push := func(size int, now time.Time) []string {
		t.Helper()
		imgs := registrytest.Runtimes([]string{"python3.12"}, "x86_64", "arm64")
		for i := range imgs {
			imgs[i].Spec.Size = size
		}
		entries, err := registrytest.Fill(st, imgs...)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := Plan(entries, []string{host + "/ns"}, WithClock(func() time.Time { return now }))
		if err != nil {
			t.Fatal(err)
		}
		r, _, _ := newTestRemote(t, st)
		res, err := r.Publish(context.Background(), plan)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ref := range res.Refs {
			out = append(out, ref.Tag+" "+string(ref.Status))
		}
		sort.Strings(out)
		return out
	}
	push(10, d1)
	before := reg.RequestKinds()[registrytest.KindHeadManifest]
	got := push(20, d1.Add(time.Hour))
	want := []string{"3.12 pushed", "3.12-arm64 pushed", "3.12-x86_64 pushed",
		"3.12.2026.11.24.2 pushed", "3.12.2026.11.24.2-arm64 pushed", "3.12.2026.11.24.2-x86_64 pushed"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("second build the same day (-want +got):\n%s", diff)
	}
	if n := reg.RequestKinds()[registrytest.KindHeadManifest] - before; n < 9 {
		t.Errorf("%d manifest HEADs without a tag list, want one per tag, dated counter and manifest (at least 9)", n)
	}
}

// TestAttachRequests: attaching costs a few requests per image and sends
// no blob twice.
func TestAttachRequests(t *testing.T) {
	imgs := registrytest.Runtimes([]string{"python3.12", "python3.13", "nodejs22.x"}, "x86_64", "arm64")
	l, err := inventory.NewLoader(false)
	if err != nil {
		t.Fatal(err)
	}
	count := func(attach bool) (int64, map[Hash]int) {
		reg := registrytest.Start(t)
		st, entries := registrytest.NewStore(t, imgs...)
		plan, err := Plan(entries, []string{reg.Host + "/ns"}, WithClock(fixedClock))
		if err != nil {
			t.Fatal(err)
		}
		r, _, _ := newTestRemote(t, st)
		var p Publisher = r
		if attach {
			p = Attach(r, l)
		}
		res, err := p.Publish(context.Background(), plan)
		if err != nil {
			t.Fatal(err)
		}
		if attach && len(res.Referrers) != 2*len(imgs) {
			t.Errorf("%d referrers, want an SBOM and a changelog for each of %d images", len(res.Referrers), len(imgs))
		}
		return reg.Requests(), reg.Log().BlobUploads()
	}
	without, _ := count(false)
	with, uploads := count(true)
	// Per image: a HEAD and an upload for each of its 2 small layers (the
	// HEAD keeps a rerun after an interruption from sending them again),
	// 2 manifests, the fallback tag's GET and PUT; per repository the {}
	// config and once the referrers API probe.
	if per := float64(with-without) / float64(len(imgs)); per > 10 {
		t.Errorf("attaching took %.1f requests per image (%d with, %d without), want at most 10", per, with, without)
	}
	for h, n := range uploads {
		if n != 1 {
			t.Errorf("blob %s uploaded %d times", h, n)
		}
	}
}

// TestRegistryWithoutMountsOrSinglePOST: a registry that opens an upload
// session for a mount request and for a POST carrying the blob (as one
// without either feature does) still gets complete images, each blob sent
// once per repository, looked up first.
func TestRegistryWithoutMountsOrSinglePOST(t *testing.T) {
	reg, err := registrytest.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/blobs/uploads/") {
			q := r.URL.Query()
			q.Del("digest")
			q.Del("mount")
			q.Del("from")
			r.URL.RawQuery = q.Encode()
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	st, entries := registrytest.NewStore(t, testImages()...)
	plan, err := Plan(entries, []string{host + "/ns"}, WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	perRepo, _ := pairs(t, st, plan)
	r, _, log := newTestRemote(t, st)
	res, err := r.Publish(context.Background(), plan)
	if err != nil {
		t.Fatalf("Publish: %v\n%s", err, log)
	}
	s := &registrytest.Server{Registry: reg, Host: host}
	for _, ref := range res.Refs {
		checkComplete(t, s, ref.String(), authn.Anonymous)
	}
	var uploads int
	for _, n := range reg.Log().BlobUploads() {
		uploads += n
	}
	if uploads != perRepo {
		t.Errorf("%d blob uploads, want one per blob and repository (%d)", uploads, perRepo)
	}
	if n := reg.RequestKinds()[registrytest.KindHeadBlob]; n != perRepo {
		t.Errorf("%d blob HEADs, want one per blob and repository (%d)", n, perRepo)
	}
}
