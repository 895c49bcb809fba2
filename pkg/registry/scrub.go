package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Redacted replaces every secret Scrub removes.
const Redacted = "[REDACTED]"

// secrets are the credentials this process has sent to registries: what
// the keychains returned by Keychain and RecordingKeychain handed out, and
// every Authorization header value that went through a transport wrapped
// by RecordSecrets (bearer tokens included).
var secrets = &secretSet{set: map[string]bool{}}

type secretSet struct {
	mu  sync.RWMutex
	set map[string]bool
}

// add records s and the forms it takes in a response body: URL-escaped
// and JSON-escaped.
func (s *secretSet) add(vals ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vals {
		if v == "" {
			continue
		}
		s.set[v] = true
		s.set[url.QueryEscape(v)] = true
		if b, err := json.Marshal(v); err == nil {
			s.set[strings.Trim(string(b), `"`)] = true
		}
	}
}

// sorted returns the secrets longest first, so that a secret containing
// another is replaced whole.
func (s *secretSet) sorted() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.set))
	for v := range s.set {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// RememberCredentials records the secrets of cfg so that Scrub removes
// them: the password, user:password and its base64 (the Basic token), the
// auth field, and identity and registry tokens. The user name alone is not
// a secret.
func RememberCredentials(cfg authn.AuthConfig) {
	var vals []string
	if cfg.Password != "" {
		up := cfg.Username + ":" + cfg.Password
		vals = append(vals, cfg.Password, up,
			base64.StdEncoding.EncodeToString([]byte(up)),
			base64.RawStdEncoding.EncodeToString([]byte(up)),
			base64.URLEncoding.EncodeToString([]byte(up)))
	}
	if cfg.Auth != "" {
		vals = append(vals, cfg.Auth)
		if raw, err := base64.StdEncoding.DecodeString(cfg.Auth); err == nil {
			vals = append(vals, string(raw))
			if _, pass, ok := strings.Cut(string(raw), ":"); ok {
				vals = append(vals, pass)
			}
		}
	}
	secrets.add(append(vals, cfg.IdentityToken, cfg.RegistryToken)...)
}

// Patterns of credentials whatever their value: header values, Basic and
// Bearer tokens, secret fields of JSON bodies and passwords in URLs.
var (
	reHeader = regexp.MustCompile(`(?i)((?:proxy-)?authorization|x-registry-auth|cookie)("?\s*[:=]\s*\[?\s*"?)([^"\r\n\]]+)`)
	reScheme = regexp.MustCompile(`(?i)\b(basic|bearer)(\s+)[A-Za-z0-9._~+/\-]{8,}=*`)
	reField  = regexp.MustCompile(`(?i)("(?:password|passwd|secret|token|access_token|refresh_token|id_token|identitytoken|registrytoken|auth|identity_token|registry_token)"\s*:\s*")((?:[^"\\]|\\.)*)(")`)
	reURL    = regexp.MustCompile(`(?i)(://[^/@\s:]+:)([^/@\s]+)(@)`)
)

// Scrub removes credentials from s: every secret this process has sent
// to a registry (see RememberCredentials and RecordSecrets), the extra
// strings given, and whatever looks like a credential (Authorization
// header values, Basic and Bearer tokens, token and password fields,
// user:password in URLs).
func Scrub(s string, extra ...string) string {
	for _, v := range extra {
		if v != "" {
			s = strings.ReplaceAll(s, v, Redacted)
		}
	}
	for _, v := range secrets.sorted() {
		s = strings.ReplaceAll(s, v, Redacted)
	}
	s = reHeader.ReplaceAllStringFunc(s, func(m string) string {
		sub := reHeader.FindStringSubmatch(m)
		if strings.Contains(sub[3], Redacted) || strings.HasPrefix(sub[3], "REDACTED") {
			return m
		}
		return sub[1] + sub[2] + Redacted
	})
	s = reScheme.ReplaceAllString(s, "${1}${2}"+Redacted)
	s = reField.ReplaceAllString(s, "${1}"+Redacted+"${3}")
	s = reURL.ReplaceAllString(s, "${1}"+Redacted+"${3}")
	return s
}

// ScrubError returns err with its message scrubbed (see Scrub). The
// original stays reachable through errors.Is and errors.As for callers
// that branch on it; print only the returned error's message.
func ScrubError(err error, extra ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := Scrub(msg, extra...)
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// RecordingKeychain wraps kc so that every credential it hands out is
// remembered for Scrub.
func RecordingKeychain(kc authn.Keychain) authn.Keychain {
	if _, ok := kc.(recordingKeychain); ok {
		return kc
	}
	return recordingKeychain{kc: kc}
}

type recordingKeychain struct{ kc authn.Keychain }

func (r recordingKeychain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	return r.ResolveContext(context.Background(), res)
}

func (r recordingKeychain) ResolveContext(ctx context.Context, res authn.Resource) (authn.Authenticator, error) {
	a, err := authn.Resolve(ctx, r.kc, res)
	if err != nil || a == authn.Anonymous {
		return a, err
	}
	return recordingAuth{a: a}, nil
}

type recordingAuth struct{ a authn.Authenticator }

func (r recordingAuth) Authorization() (*authn.AuthConfig, error) {
	return r.AuthorizationContext(context.Background())
}

func (r recordingAuth) AuthorizationContext(ctx context.Context) (*authn.AuthConfig, error) {
	cfg, err := authn.Authorization(ctx, r.a)
	if cfg != nil {
		RememberCredentials(*cfg)
	}
	return cfg, err
}

// RecordSecrets wraps next so that the Authorization header of every
// request (Basic credentials, bearer tokens) is remembered for Scrub.
func RecordSecrets(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if _, ok := next.(recordingTransport); ok {
		return next
	}
	return recordingTransport{next: next}
}

type recordingTransport struct{ next http.RoundTripper }

func (t recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for _, h := range []string{"Authorization", "Proxy-Authorization"} {
		for _, v := range req.Header.Values(h) {
			vals := []string{v}
			if _, cred, ok := strings.Cut(v, " "); ok {
				vals = append(vals, cred)
				if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
					vals = append(vals, string(raw))
					if _, pass, ok := strings.Cut(string(raw), ":"); ok {
						vals = append(vals, pass)
					}
				}
			}
			secrets.add(vals...)
		}
	}
	return t.next.RoundTrip(req)
}
