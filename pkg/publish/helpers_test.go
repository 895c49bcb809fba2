package publish

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/lambdaimg/lambdaimg/pkg/registry"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fastPolicy retries often enough to outlast registrytest's faults.
var fastPolicy = registry.RetryPolicy{Attempts: 6, Base: time.Second, Max: 8 * time.Second, MaxRetryAfter: time.Minute}

// newTestRemote returns a Remote whose transport never really sleeps.
func newTestRemote(t *testing.T, src Source, opts ...Option) (*Remote, *fakeSleep, *syncBuffer) {
	t.Helper()
	fs := &fakeSleep{}
	log := &syncBuffer{}
	rt, err := registry.NewRetryTransport(nil, registry.WithRetryPolicy(fastPolicy), registry.WithSleep(fs.sleep), registry.WithRetryLog(func(f string, a ...any) {
		// the same writer as the progress lines
		_, _ = log.Write([]byte(fmt.Sprintf(f, a...) + "\n"))
	}))
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(src, append([]Option{WithTransport(rt), WithProgress(log), WithJobs(4)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r, fs, log
}

// dockerConfig points authn.DefaultKeychain at a config.json holding auths.
func dockerConfig(t *testing.T, auths map[string][2]string) {
	t.Helper()
	cfg := map[string]map[string]map[string]string{"auths": {}}
	for host, up := range auths {
		cfg["auths"][host] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(up[0] + ":" + up[1]))}
	}
	dir := t.TempDir()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
}

// storeBlobs returns every blob of the store's images.
func storeBlobs(t *testing.T, st *store.Store, entries []store.Entry) map[v1.Hash]bool {
	t.Helper()
	out := map[v1.Hash]bool{}
	for _, e := range entries {
		img, err := st.Image(e)
		if err != nil {
			t.Fatal(err)
		}
		bs, err := imageBlobs(img)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			out[b.digest] = true
		}
	}
	return out
}

// checkComplete fails unless ref resolves to manifests whose every blob is
// in the repository. It returns the media type ref resolves to and, for an
// index, the platforms it lists.
func checkComplete(t *testing.T, srv *registrytest.Server, ref string, auth authn.Authenticator) (string, []string) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(r, remote.WithAuth(auth))
	if err != nil {
		t.Errorf("%s: %v", ref, err)
		return "", nil
	}
	checkImage := func(img v1.Image) {
		cl, err := partial.ConfigLayer(img)
		if err != nil {
			t.Errorf("%s: %v", ref, err)
			return
		}
		ls, err := img.Layers()
		if err != nil {
			t.Errorf("%s: %v", ref, err)
			return
		}
		for _, l := range append(ls, cl) {
			d, _ := l.Digest()
			if !srv.Blobs().Has(r.Context().RepositoryStr(), d) {
				t.Errorf("%s: blob %s is missing from %s", ref, d, r.Context().RepositoryStr())
			}
		}
	}
	if !desc.MediaType.IsIndex() {
		img, err := desc.Image()
		if err != nil {
			t.Errorf("%s: %v", ref, err)
			return "", nil
		}
		checkImage(img)
		return string(desc.MediaType), nil
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		t.Errorf("%s: %v", ref, err)
		return "", nil
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var plats []string
	for _, d := range im.Manifests {
		img, err := remote.Image(r.Context().Digest(d.Digest.String()), remote.WithAuth(auth))
		if err != nil {
			t.Errorf("%s: child %s: %v", ref, d.Digest, err)
			continue
		}
		checkImage(img)
		plats = append(plats, d.Platform.String())
	}
	sort.Strings(plats)
	return string(desc.MediaType), plats
}

// registryTags lists every repository:tag in the repositories.
func registryTags(t *testing.T, repos []string, auth authn.Authenticator) []string {
	t.Helper()
	var out []string
	for _, repo := range repos {
		r, err := name.NewRepository(repo)
		if err != nil {
			t.Fatal(err)
		}
		tags, err := remote.List(r, remote.WithAuth(auth))
		if err != nil {
			continue // no such repository yet
		}
		for _, tag := range tags {
			out = append(out, repo+":"+tag)
		}
	}
	sort.Strings(out)
	return out
}

// fakeSleep records the waits instead of sleeping.
type fakeSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (f *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.waits = append(f.waits, d)
	f.mu.Unlock()
	return ctx.Err()
}

func (f *fakeSleep) got() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}
