package publish

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// sched is a store and a registry for the scheduled-publish rules.
type sched struct {
	t   *testing.T
	reg *registrytest.Server
	st  *store.Store
}

func newSched(t *testing.T) *sched {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &sched{t: t, reg: registrytest.Start(t), st: st}
}

// build stores python3.12 for each arch with the given runtime-layer size
// (a new size is a new digest).
func (s *sched) build(sizes map[string]int) []store.Entry {
	s.t.Helper()
	var imgs []registrytest.StoreImage
	for _, si := range registrytest.Runtimes([]string{"python3.12"}, "x86_64", "arm64") {
		if n, ok := sizes[si.Arch]; ok {
			si.Spec.Size = n
			imgs = append(imgs, si)
		}
	}
	entries, err := registrytest.Fill(s.st, imgs...)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []store.Entry
	for _, e := range entries {
		if _, ok := sizes[e.Arch]; ok {
			out = append(out, e)
		}
	}
	return out
}

// push publishes entries on day and returns "tag status" lines, the
// manifest PUTs it made and the result's notes.
func (s *sched) push(p Publisher, entries []store.Entry, day time.Time, opts ...PlanOption) (tags, puts, notes []string) {
	s.t.Helper()
	opts = append([]PlanOption{WithClock(func() time.Time { return day })}, opts...)
	plan, err := Plan(entries, []string{s.reg.Host + "/ns"}, opts...)
	if err != nil {
		s.t.Fatal(err)
	}
	if p == nil {
		p, _, _ = newTestRemote(s.t, s.st)
	}
	s.reg.Log().Reset()
	res, err := p.Publish(context.Background(), plan)
	if err != nil && !strings.Contains(err.Error(), "refusing to publish") {
		s.t.Fatal(err)
	}
	for _, r := range res.Refs {
		tags = append(tags, r.Tag+" "+string(r.Status))
	}
	for _, e := range s.reg.Log().ManifestPuts() {
		if strings.HasPrefix(e.Ref, "sha256:") {
			e.Ref = "digest"
		}
		puts = append(puts, e.Ref)
	}
	sort.Strings(tags)
	sort.Strings(puts)
	return tags, puts, res.Notes
}

var d1 = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

func TestPublishOnlyWhatIsNew(t *testing.T) {
	s := newSched(t)
	s.push(nil, s.build(map[string]int{"x86_64": 10, "arm64": 10}), d1)

	// Nothing changed, the next day: no manifest, no tag, no dated tag.
	tags, puts, _ := s.push(nil, s.build(map[string]int{"x86_64": 10, "arm64": 10}), d1.Add(24*time.Hour))
	if diff := cmp.Diff([]string{"3.12 unchanged", "3.12-arm64 unchanged", "3.12-x86_64 unchanged"}, tags); diff != "" {
		t.Errorf("unchanged rerun tags (-want +got):\n%s", diff)
	}
	if len(puts) != 0 {
		t.Errorf("unchanged rerun put manifests %v, want none", puts)
	}

	// Only arm64 changed: its manifest and the index are put, with dated
	// tags for those two new digests and none for x86_64's old one. A new
	// manifest is put by its dated tag, which creates both at once.
	tags, puts, _ = s.push(nil, s.build(map[string]int{"x86_64": 10, "arm64": 20}), d1.Add(48*time.Hour))
	want := []string{
		"3.12 pushed", "3.12-arm64 pushed", "3.12-x86_64 unchanged",
		"3.12.2026.11.26 pushed", "3.12.2026.11.26-arm64 pushed",
	}
	if diff := cmp.Diff(want, tags); diff != "" {
		t.Errorf("arm64-only change tags (-want +got):\n%s", diff)
	}
	wantPuts := []string{"3.12", "3.12-arm64", "3.12.2026.11.26", "3.12.2026.11.26-arm64"}
	if diff := cmp.Diff(wantPuts, puts); diff != "" {
		t.Errorf("arm64-only change manifest PUTs (-want +got):\n%s", diff)
	}
}

func TestArchitecturesMoveTogether(t *testing.T) {
	s := newSched(t)
	s.push(nil, s.build(map[string]int{"x86_64": 10, "arm64": 10}), d1)
	expected := WithExpected(map[string][]string{"python3.12/aws": {"x86_64", "arm64"}})

	t.Run("an architecture missing from the run", func(t *testing.T) {
		// x86_64 was rebuilt with a new digest, arm64 failed to build.
		tags, puts, notes := s.push(nil, s.build(map[string]int{"x86_64": 30}), d1.Add(time.Hour), expected)
		if len(tags) != 0 || len(puts) != 0 {
			t.Errorf("held-back runtime wrote tags %v and manifests %v, want none", tags, puts)
		}
		if len(notes) != 1 || !strings.Contains(notes[0], "python3.12/aws: held back") || !strings.Contains(notes[0], "arm64 missing") {
			t.Errorf("notes = %q, want one saying python3.12/aws is held back for arm64", notes)
		}
	})
	t.Run("an architecture failing verification", func(t *testing.T) {
		entries := s.build(map[string]int{"x86_64": 40, "arm64": 40})
		r, _, _ := newTestRemote(t, s.st)
		tags, puts, notes := s.push(Verified(r, s.st, failArch("arm64")), entries, d1.Add(2*time.Hour))
		if len(tags) != 0 || len(puts) != 0 {
			t.Errorf("held-back runtime wrote tags %v and manifests %v, want none", tags, puts)
		}
		if len(notes) != 1 || !strings.Contains(notes[0], "python3.12/aws: held back") {
			t.Errorf("notes = %q, want one saying python3.12/aws is held back", notes)
		}
	})
	// The floating tags still point at the first build.
	tags, _, _ := s.push(nil, s.build(map[string]int{"x86_64": 10, "arm64": 10}), d1.Add(3*time.Hour))
	if diff := cmp.Diff([]string{"3.12 unchanged", "3.12-arm64 unchanged", "3.12-x86_64 unchanged",
		"3.12.2026.11.24 unchanged", "3.12.2026.11.24-arm64 unchanged", "3.12.2026.11.24-x86_64 unchanged"}, tags); diff != "" {
		t.Errorf("after held-back runs (-want +got):\n%s", diff)
	}
}

// failArch fails the images of one architecture.
type failArch string

func (f failArch) Check(_ context.Context, img v1.Image) error {
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	if cf.Architecture == registrytest.GoArch(string(f)) {
		return errors.New("bad image")
	}
	return nil
}

// TestArchitecturesMoveTogetherWhenAnotherRuntimeFails: a runtime whose
// manifests are all in place moves all its floating tags even when
// another runtime's push fails while they are being written.
func TestArchitecturesMoveTogetherWhenAnotherRuntimeFails(t *testing.T) {
	reg, err := registrytest.New()
	if err != nil {
		t.Fatal(err)
	}
	moving := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/ns/python/manifests/3.12-x86_64") {
			once.Do(func() { close(moving) })
			time.Sleep(20 * time.Millisecond) // the failure below lands meanwhile
		}
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/ns/nodejs/manifests/") {
			select {
			case <-moving:
			case <-time.After(5 * time.Second):
			}
			http.Error(w, `{"errors":[{"code":"MANIFEST_INVALID","message":"refused"}]}`, http.StatusBadRequest)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	st, entries := registrytest.NewStore(t, registrytest.Runtimes([]string{"python3.12", "nodejs22.x"}, "x86_64", "arm64")...)
	plan, err := Plan(entries, []string{host + "/ns"}, WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	r, _, _ := newTestRemote(t, st)
	if _, err := r.Publish(context.Background(), plan); err == nil {
		t.Fatal("Publish succeeded, want nodejs's refused manifest")
	}
	got := registryTags(t, []string{host + "/ns/python"}, authn.Anonymous)
	want := []string{"3.12", "3.12-arm64", "3.12-x86_64", "3.12.2026.11.25", "3.12.2026.11.25-arm64", "3.12.2026.11.25-x86_64"}
	for i := range want {
		want[i] = host + "/ns/python:" + want[i]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("python's tags (-want +got):\n%s", diff)
	}
}
