package publish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

const (
	basicUser, basicPass   = "ci-bot", "basic-PASSWORD-s3cr3t"
	bearerUser, bearerPass = "ci-robot", "bearer-PASSWORD-t0ps3cr3t"
)

// testImages: three runtimes of two languages, a non-default variant and
// an x86_64-only runtime, all sharing the base and common layers.
func testImages() []registrytest.StoreImage {
	imgs := registrytest.Runtimes([]string{"python3.12", "nodejs22.x"}, "x86_64", "arm64")
	for _, a := range []string{"x86_64", "arm64"} {
		imgs = append(imgs, registrytest.StoreImage{Runtime: "python3.12", Variant: "alpine", Arch: a, Image: "python", Tags: []string{"3.12"}})
	}
	return append(imgs, registrytest.StoreImage{Runtime: "python3.7", Variant: "aws", Arch: "x86_64", Image: "python", Tags: []string{"3.7"}, Default: true})
}

var faults = registrytest.Faults{Error500: 0.04, Error503: 0.04, TooMany: 0.04, Drop: 0.04, Slow: 0.04, RetryAfter: "1"}

func TestPublishToTwoRegistries(t *testing.T) {
	f1, f2 := faults, faults
	f1.Seed, f2.Seed = 1, 2
	regA := registrytest.Start(t, registrytest.WithBasicAuth(basicUser, basicPass), registrytest.WithFaults(f1))
	regB := registrytest.Start(t, registrytest.WithBearerAuth(bearerUser, bearerPass), registrytest.WithFaults(f2))
	dockerConfig(t, map[string][2]string{regA.Host: {basicUser, basicPass}, regB.Host: {bearerUser, bearerPass}})
	st, entries := registrytest.NewStore(t, testImages()...)
	plan, err := Plan(entries, []string{regA.Host + "/alias", regB.Host + "/user"}, WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	r, sleeps, log := newTestRemote(t, st)
	res, err := r.Publish(context.Background(), plan)
	if err != nil {
		t.Fatalf("Publish: %v\nlog:\n%s", err, log)
	}
	regA.StopFaults()
	regB.StopFaults()
	t.Logf("stats: %+v; faults: %+v %+v; waits: %d", res.Stats, regA.Faults(), regB.Faults(), len(sleeps.got()))

	// Every tag of the plan was written, in both registries.
	var want, got []string
	for _, a := range plan {
		for _, tag := range a.Tags {
			want = append(want, a.Repository+":"+tag.Name(1)+" pushed")
		}
	}
	for _, ref := range res.Refs {
		got = append(got, ref.Repository+":"+ref.Tag+" "+string(ref.Status))
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}

	// The faults happened and were retried, honouring Retry-After.
	for _, reg := range []*registrytest.Server{regA, regB} {
		if fc := reg.Faults(); fc.Error500+fc.Error503+fc.TooMany+fc.Drop == 0 {
			t.Errorf("%s: no fault was injected: %+v", reg.Host, fc)
		}
	}
	retryAfterWaits := 0
	for _, w := range sleeps.got() {
		if w == time.Second {
			retryAfterWaits++
		}
	}
	if retryAfterWaits == 0 {
		t.Errorf("no wait of Retry-After's 1s among %v", sleeps.got())
	}

	// Each blob went up once per registry; shared ones were mounted.
	blobs := storeBlobs(t, st, entries)
	for _, reg := range []*registrytest.Server{regA, regB} {
		uploads := reg.Log().BlobUploads()
		wantUploads := map[v1.Hash]int{}
		for h := range blobs {
			wantUploads[h] = 1
		}
		if diff := cmp.Diff(wantUploads, uploads); diff != "" {
			t.Errorf("%s: uploads per blob (-want +got):\n%s", reg.Host, diff)
		}
		if len(reg.Log().Mounts()) == 0 {
			t.Errorf("%s: no blob was mounted across repositories", reg.Host)
		}
	}

	// Every tag resolves to a complete image; per-arch tags are plain
	// manifests, plain tags of two-arch runtimes list both platforms.
	auths := map[string]authn.Authenticator{
		regA.Host: &authn.Basic{Username: basicUser, Password: basicPass},
		regB.Host: &authn.Basic{Username: bearerUser, Password: bearerPass},
	}
	for _, ref := range res.Refs {
		srv := regA
		if strings.HasPrefix(ref.Repository, regB.Host) {
			srv = regB
		}
		mt, plats := checkComplete(t, srv, ref.String(), auths[srv.Host])
		switch {
		case strings.HasSuffix(ref.Tag, "-x86_64") || strings.HasSuffix(ref.Tag, "-arm64") || ref.Tag == "3.7" || strings.HasPrefix(ref.Tag, "3.7."):
			if mt != "application/vnd.oci.image.manifest.v1+json" {
				t.Errorf("%s is a %s, want an image manifest", ref, mt)
			}
		default:
			if diff := cmp.Diff([]string{"linux/amd64", "linux/arm64"}, plats); diff != "" {
				t.Errorf("%s (%s) platforms (-want +got):\n%s", ref, mt, diff)
			}
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", log)
	}

	// A second run finds everything in place and uploads nothing.
	regA.Log().Reset()
	regB.Log().Reset()
	res, err = r.Publish(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range res.Refs {
		if ref.Status != Unchanged {
			t.Errorf("rerun: %s is %s, want unchanged", ref, ref.Status)
		}
	}
	for _, reg := range []*registrytest.Server{regA, regB} {
		if n := len(reg.Log().BlobUploads()) + len(reg.Log().ManifestPuts()); n != 0 {
			t.Errorf("rerun: %s got %d uploads and manifest puts, want none", reg.Host, n)
		}
	}
}

func TestPublishResumesAfterInterruption(t *testing.T) {
	imgs := testImages()
	// How many requests a whole run takes.
	total := func() int64 {
		reg := registrytest.Start(t)
		st, entries := registrytest.NewStore(t, imgs...)
		plan, err := Plan(entries, []string{reg.Host + "/ns"}, WithClock(fixedClock))
		if err != nil {
			t.Fatal(err)
		}
		r, _, _ := newTestRemote(t, st)
		if _, err := r.Publish(context.Background(), plan); err != nil {
			t.Fatal(err)
		}
		return reg.Requests()
	}()
	for _, frac := range []int64{1, 3, 5, 7, 9} {
		n := total * frac / 10
		t.Run(fmt.Sprintf("cancelled at request %d of %d", n, total), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			reg := registrytest.Start(t, registrytest.WithHook(func(i int64, _ *http.Request) {
				if i == n {
					cancel()
				}
			}))
			st, entries := registrytest.NewStore(t, imgs...)
			plan, err := Plan(entries, []string{reg.Host + "/ns"}, WithClock(fixedClock))
			if err != nil {
				t.Fatal(err)
			}
			r, _, _ := newTestRemote(t, st)
			if _, err := r.Publish(ctx, plan); !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run: err = %v, want context.Canceled", err)
			}
			// The registry finishes (and may commit) what it was sent.
			reg.WaitIdle()
			var repos []string
			for _, a := range plan {
				repos = append(repos, a.Repository)
			}
			// Whatever tags exist point at complete images.
			for _, ref := range registryTags(t, repos, authn.Anonymous) {
				checkComplete(t, reg, ref, authn.Anonymous)
			}
			// A rerun finishes the job.
			res, err := r.Publish(context.Background(), plan)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, a := range plan {
				for _, tag := range a.Tags {
					want = append(want, a.Repository+":"+tag.Name(1))
				}
			}
			sort.Strings(want)
			if diff := cmp.Diff(want, registryTags(t, repos, authn.Anonymous)); diff != "" {
				t.Errorf("tags after the rerun (-want +got):\n%s", diff)
			}
			for _, ref := range res.Refs {
				mt, plats := checkComplete(t, reg, ref.String(), authn.Anonymous)
				if strings.HasSuffix(ref.Tag, "-arm64") && mt != "application/vnd.oci.image.manifest.v1+json" {
					t.Errorf("%s is a %s, want an image manifest", ref, mt)
				}
				if ref.Tag == "22" && !cmp.Equal(plats, []string{"linux/amd64", "linux/arm64"}) {
					t.Errorf("%s lists %v, want both platforms", ref, plats)
				}
			}
			for h, c := range reg.Log().BlobUploads() {
				if c != 1 {
					t.Errorf("blob %s uploaded %d times over both runs", h, c)
				}
			}
		})
	}
}

func TestDatedTagsAreImmutable(t *testing.T) {
	reg := registrytest.Start(t)
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	build := func(size int) []store.Entry {
		imgs := registrytest.Runtimes([]string{"python3.12"}, "x86_64", "arm64")
		for i := range imgs {
			imgs[i].Spec.Size = size
		}
		entries, err := registrytest.Fill(st, imgs...)
		if err != nil {
			t.Fatal(err)
		}
		return entries
	}
	push := func(entries []store.Entry, now time.Time) map[string]Ref {
		t.Helper()
		plan, err := Plan(entries, []string{reg.Host + "/ns"}, WithClock(func() time.Time { return now }))
		if err != nil {
			t.Fatal(err)
		}
		r, _, _ := newTestRemote(t, st)
		res, err := r.Publish(context.Background(), plan)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]Ref{}
		for _, ref := range res.Refs {
			out[ref.Tag] = ref
		}
		return out
	}
	statuses := func(refs map[string]Ref) []string {
		var out []string
		for tag, ref := range refs {
			out = append(out, tag+" "+string(ref.Status))
		}
		sort.Strings(out)
		return out
	}
	d1 := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

	first := push(build(10), d1)
	second := push(build(20), d1.Add(3*time.Hour)) // a new build the same day
	if diff := cmp.Diff([]string{
		"3.12 pushed", "3.12-arm64 pushed", "3.12-x86_64 pushed",
		"3.12.2026.11.24.2 pushed", "3.12.2026.11.24.2-arm64 pushed", "3.12.2026.11.24.2-x86_64 pushed",
	}, statuses(second)); diff != "" {
		t.Errorf("second build (-want +got):\n%s", diff)
	}
	if second["3.12"].Previous != first["3.12"].Digest.String() {
		t.Errorf("3.12 moved from %s, want from %s", second["3.12"].Previous, first["3.12"].Digest)
	}
	// The first build's dated tags still point where they did.
	for _, tag := range []string{"3.12.2026.11.24", "3.12.2026.11.24-arm64", "3.12.2026.11.24-x86_64"} {
		ref := first[tag]
		mt, _ := checkComplete(t, reg, ref.String(), authn.Anonymous)
		if mt == "" {
			t.Errorf("%s no longer resolves", ref)
		}
	}
	third := push(build(20), d1.Add(5*time.Hour)) // the same build again
	if diff := cmp.Diff([]string{
		"3.12 unchanged", "3.12-arm64 unchanged", "3.12-x86_64 unchanged",
		"3.12.2026.11.24.2 unchanged", "3.12.2026.11.24.2-arm64 unchanged", "3.12.2026.11.24.2-x86_64 unchanged",
	}, statuses(third)); diff != "" {
		t.Errorf("same build again (-want +got):\n%s", diff)
	}
	// The next day, the same digests are not new: no dated tag is added.
	next := push(build(20), d1.Add(24*time.Hour))
	if diff := cmp.Diff([]string{"3.12 unchanged", "3.12-arm64 unchanged", "3.12-x86_64 unchanged"}, statuses(next)); diff != "" {
		t.Errorf("same build the next day (-want +got):\n%s", diff)
	}
	// A new build the next day gets its dated tags.
	later := push(build(30), d1.Add(24*time.Hour))
	if later["3.12.2026.11.25"].Status != Pushed || later["3.12.2026.11.25-arm64"].Status != Pushed || later["3.12"].Status != Pushed {
		t.Errorf("new build the next day: %v", statuses(later))
	}
}

// TestUploadStartsOverWhenTheSessionIsLost: the registry (one without
// single-POST uploads) stores the PUT that commits an upload but the
// client sees a 502; the retried PUT is refused (BLOB_UPLOAD_UNKNOWN) and
// the upload must start over, finding the blob there.
func TestUploadStartsOverWhenTheSessionIsLost(t *testing.T) {
	reg, err := registrytest.New()
	if err != nil {
		t.Fatal(err)
	}
	var (
		lost atomic.Int32
		mu   sync.Mutex
		done = map[string]bool{} // committed upload sessions
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upload := strings.Contains(r.URL.Path, "/blobs/uploads/")
		if r.Method == http.MethodPost && upload {
			// No single POST: open a session whatever the client sent.
			q := r.URL.Query()
			q.Del("digest")
			r.URL.RawQuery = q.Encode()
		}
		if r.Method == http.MethodPut && upload {
			mu.Lock()
			gone := done[r.URL.Path]
			done[r.URL.Path] = true
			mu.Unlock()
			switch {
			case gone: // as distribution: a committed session is no more
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, `{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"blob upload unknown to registry"}]}`)
				return
			case lost.Add(1) == 1:
				reg.ServeHTTP(httptest.NewRecorder(), r) // stored, but the answer is lost
				http.Error(w, "proxy error", http.StatusBadGateway)
				return
			}
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	st, entries := registrytest.NewStore(t, registrytest.Runtimes([]string{"java21"}, "arm64")...)
	plan, err := Plan(entries, []string{host + "/ns"}, WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	r, _, log := newTestRemote(t, st)
	if _, err := r.Publish(context.Background(), plan); err != nil {
		t.Fatalf("Publish: %v\n%s", err, log)
	}
	if !strings.Contains(log.String(), "starting the upload of") {
		t.Errorf("no upload was started over:\n%s", log)
	}
	for _, e := range reg.Log().Entries() {
		if e.Kind == "manifests" && e.Method == http.MethodPut && e.Status != http.StatusCreated {
			t.Errorf("manifest PUT failed: %+v", e)
		}
	}
	for h, n := range reg.Log().BlobUploads() {
		if n != 1 {
			t.Errorf("blob %s committed %d times", h, n)
		}
	}
}
