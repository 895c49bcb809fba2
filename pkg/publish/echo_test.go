package publish

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
)

// TestEchoedCredentialsNeverShow: a registry that answers 401, 403 or 500
// with the request's headers and credentials in the body (ggcr's error
// carries the body) must not get them printed: neither the push error nor
// the progress log holds the password, user:password, the Basic token,
// the Authorization header or the bearer token.
func TestEchoedCredentialsNeverShow(t *testing.T) {
	for _, bearer := range []bool{false, true} {
		for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusInternalServerError} {
			auth := "basic"
			if bearer {
				auth = "bearer"
			}
			t.Run(fmt.Sprintf("%s %d", auth, status), func(t *testing.T) {
				user, pass := basicUser, basicPass
				opt := registrytest.WithBasicAuth(user, pass)
				if bearer {
					user, pass = bearerUser, bearerPass
					opt = registrytest.WithBearerAuth(user, pass)
				}
				reg := registrytest.Start(t, opt, registrytest.WithEcho(status, func(r *http.Request) bool {
					return r.Method != http.MethodHead // a HEAD answer has no body to echo in
				}))
				dockerConfig(t, map[string][2]string{reg.Host: {user, pass}})
				st, entries := registrytest.NewStore(t, registrytest.Runtimes([]string{"python3.12"}, "x86_64")...)
				plan, err := Plan(entries, []string{reg.Host + "/ns"}, WithClock(fixedClock))
				if err != nil {
					t.Fatal(err)
				}
				r, _, log := newTestRemote(t, st)
				var refs bytes.Buffer
				_, err = Recorder(r, &refs).Publish(context.Background(), plan)
				if err == nil {
					t.Fatal("Publish succeeded against a registry that fails every request")
				}
				if !strings.Contains(err.Error(), "[REDACTED]") {
					t.Errorf("the echo did not reach the error (nothing was redacted): %v", err)
				}
				t.Logf("err: %v", err)
				basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
				secrets := []string{pass, user + ":" + pass, basic, "Basic " + basic}
				if tok := reg.LastToken(); tok != "" {
					secrets = append(secrets, tok, "Bearer "+tok)
				} else if bearer {
					t.Error("no token was issued")
				}
				captured := fmt.Sprintf("%v\n%s\n%s", err, log, refs.String())
				for _, s := range secrets {
					if strings.Contains(captured, s) {
						t.Errorf("a credential (%.8s...) shows in the output:\n%s", s, captured)
					}
				}
			})
		}
	}
}
