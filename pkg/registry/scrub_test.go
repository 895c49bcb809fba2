package registry

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
)

func TestScrub(t *testing.T) {
	RememberCredentials(authn.AuthConfig{Username: "scrub-user", Password: "pa55-w0rd!"})
	tests := []struct {
		name, in, want string
	}{
		{"password", `bad password pa55-w0rd! given`, `bad password [REDACTED] given`},
		{"user:password", `scrub-user:pa55-w0rd!@host`, `[REDACTED]@host`},
		{"basic token of remembered credentials", `Basic c2NydWItdXNlcjpwYTU1LXcwcmQh`, `Basic [REDACTED]`},
		{"authorization header, any value", "Authorization: Basic Zm9vOmJhcg==\nX: y", "Authorization: [REDACTED]\nX: y"},
		{"authorization in JSON", `{"Authorization":["Bearer abc.def.ghi"]}`, `{"Authorization":["[REDACTED]"]}`},
		{"bearer token alone", `got bearer eyJhbGciOiJIUzI1NiJ9.e30.x then`, `got bearer [REDACTED] then`},
		{"token field", `{"token":"t0k3n-value","expires_in":300}`, `{"token":"[REDACTED]","expires_in":300}`},
		{"password in a URL", `https://bob:hunter22@example.com/v2/`, `https://bob:[REDACTED]@example.com/v2/`},
		{"ordinary text kept", `unexpected status code 404 Not Found: MANIFEST_UNKNOWN; Bearer realm="x"`, `unexpected status code 404 Not Found: MANIFEST_UNKNOWN; Bearer realm="x"`},
		{"user name alone kept", `user scrub-user is not allowed`, `user scrub-user is not allowed`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Scrub(tc.in)); diff != "" {
				t.Errorf("Scrub(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestScrubErrorKeepsTheChain(t *testing.T) {
	base := errors.New("denied: Authorization: Basic Zm9vOmJhcg==")
	err := ScrubError(base)
	if strings.Contains(err.Error(), "Zm9vOmJhcg") || !errors.Is(err, base) {
		t.Errorf("ScrubError = %q (is base: %v)", err, errors.Is(err, base))
	}
	if ScrubError(nil) != nil {
		t.Error("ScrubError(nil) != nil")
	}
}

// TestRecordSecrets: a bearer token sent in a request is scrubbed later
// wherever it shows, even without its scheme.
func TestRecordSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Authorization", "Bearer opaque-token-1234")
	resp, err := RecordSecrets(nil).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := Scrub(`{"detail":"opaque-token-1234"}`); strings.Contains(got, "opaque-token-1234") {
		t.Errorf("Scrub = %s", got)
	}
}
