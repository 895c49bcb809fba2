package registrytest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// WithEcho makes the registry answer status to every request that carries
// an Authorization header and matches when (nil: every such request),
// repeating in the body what a careless registry would: every request
// header, the Basic credentials decoded, user:password, and the bearer
// token. 401 and 403 come as registry JSON errors, any other status as
// plain text, so a test can check that none of it reaches the user.
// Default: no echo.
func WithEcho(status int, when func(*http.Request) bool) Option {
	return func(o *options) error {
		if status < 400 || status > 599 {
			return fmt.Errorf("registrytest: echo status %d is not an error", status)
		}
		o.echoStatus, o.echoWhen = status, when
		return nil
	}
}

func (r *Registry) echo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Authorization") == "" || (r.o.echoWhen != nil && !r.o.echoWhen(req)) {
			next.ServeHTTP(w, req)
			return
		}
		var lines []string
		for k, vs := range req.Header {
			for _, v := range vs {
				lines = append(lines, k+": "+v)
			}
		}
		sort.Strings(lines)
		if u, p, ok := req.BasicAuth(); ok {
			lines = append(lines, "user="+u, "password="+p, "pair="+u+":"+p,
				"token="+base64.StdEncoding.EncodeToString([]byte(u+":"+p)))
		}
		if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
			lines = append(lines, "bearer="+tok)
		}
		dump := strings.Join(lines, "\n")
		switch r.o.echoStatus {
		case http.StatusUnauthorized, http.StatusForbidden:
			code := map[int]string{http.StatusUnauthorized: "UNAUTHORIZED", http.StatusForbidden: "DENIED"}[r.o.echoStatus]
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(r.o.echoStatus)
			_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
				"code": code, "message": "request was: " + dump,
				"detail": map[string]any{"headers": req.Header, "echo": lines},
			}}})
		default:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(r.o.echoStatus)
			fmt.Fprintln(w, "internal error; the request was:\n"+dump)
		}
	})
}
