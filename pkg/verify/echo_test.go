package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/pkg/registry"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
)

// TestRemoteErrorsHideCredentials: verify reads a registry that echoes
// the request's credentials in its 401/403/500 bodies, once when reading
// the manifest (the error of Reference) and once when reading a layer (the
// reason of a check). Neither shows a secret.
func TestRemoteErrorsHideCredentials(t *testing.T) {
	const user, pass = "verify-bot", "verify-PASSWORD-9x7"
	old := transportOptions
	transportOptions = []registry.TransportOption{registry.WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() })}
	t.Cleanup(func() { transportOptions = old })
	kinds := map[string]string{"manifest": "/manifests/", "layer": "/blobs/"}
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusInternalServerError} {
		for kind, part := range kinds {
			t.Run(fmt.Sprintf("%s %d", kind, status), func(t *testing.T) {
				var armed atomic.Bool
				reg := registrytest.Start(t, registrytest.WithBasicAuth(user, pass),
					registrytest.WithEcho(status, func(r *http.Request) bool {
						return armed.Load() && r.Method == http.MethodGet && strings.Contains(r.URL.Path, part)
					}))
				img, err := registrytest.Image(registrytest.ImageSpec{Runtime: "python3.12", Arch: "x86_64"})
				if err != nil {
					t.Fatal(err)
				}
				ref := reg.Host + "/ns/python:1"
				r, _ := name.ParseReference(ref)
				if err := remote.Write(r, img, remote.WithAuth(authn.FromConfig(authn.AuthConfig{Username: user, Password: pass}))); err != nil {
					t.Fatal(err)
				}
				writeDockerConfig(t, reg.Host, user, pass)
				armed.Store(true)
				v, err := New(WithRegistries(false))
				if err != nil {
					t.Fatal(err)
				}
				reps, err := v.References(context.Background(), []string{ref})
				out, _ := json.Marshal(reps)
				captured := fmt.Sprintf("%v\n%s", err, out)
				if !strings.Contains(captured, "REDACTED") {
					t.Errorf("the echo did not reach the output (nothing was redacted):\n%s", captured)
				}
				basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
				for _, s := range []string{pass, user + ":" + pass, basic} {
					if strings.Contains(captured, s) {
						t.Errorf("a credential (%.8s...) shows:\n%s", s, captured)
					}
				}
			})
		}
	}
}

func writeDockerConfig(t *testing.T, host, user, pass string) {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
}
