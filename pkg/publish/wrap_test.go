package publish

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
)

func TestCredentialsNeverShow(t *testing.T) {
	tests := []struct {
		name    string
		bearer  bool
		pass    string // what the client presents
		deny    bool   // the registry refuses writes to the repository
		wantErr bool
	}{
		{name: "basic auth, right password", pass: basicPass},
		{name: "basic auth, wrong password", pass: basicPass + "-wrong", wantErr: true},
		{name: "bearer token, right password", bearer: true, pass: bearerPass},
		{name: "bearer token, wrong password", bearer: true, pass: bearerPass + "-wrong", wantErr: true},
		{name: "bearer token, write denied", bearer: true, pass: bearerPass, deny: true, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			user, pass := basicUser, basicPass
			opt := registrytest.WithBasicAuth(user, pass)
			if tc.bearer {
				user, pass = bearerUser, bearerPass
				opt = registrytest.WithBearerAuth(user, pass)
			}
			opts := []registrytest.Option{opt, registrytest.WithFaults(registrytest.Faults{Seed: 3, TooMany: 0.1, Error503: 0.1})}
			if tc.deny {
				opts = append(opts, registrytest.WithDeniedRepos("ns/python"))
			}
			reg := registrytest.Start(t, opts...)
			dockerConfig(t, map[string][2]string{reg.Host: {user, tc.pass}})
			st, entries := registrytest.NewStore(t, registrytest.Runtimes([]string{"python3.12"}, "x86_64")...)
			plan, err := Plan(entries, []string{reg.Host + "/ns"}, WithClock(fixedClock))
			if err != nil {
				t.Fatal(err)
			}
			r, _, log := newTestRemote(t, st)
			var refs bytes.Buffer
			res, err := Recorder(r, &refs).Publish(context.Background(), plan)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tc.wantErr)
			}
			t.Logf("err: %v", err)
			captured := fmt.Sprintf("%v\n%s\n%s\n%+v", err, log, refs.String(), res)
			secrets := []string{
				pass, tc.pass,
				base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)),
				base64.StdEncoding.EncodeToString([]byte(user + ":" + tc.pass)),
			}
			if tok := reg.LastToken(); tok != "" {
				secrets = append(secrets, tok)
			} else if tc.bearer && !strings.Contains(tc.name, "wrong") {
				t.Error("no token was issued")
			}
			for _, s := range secrets {
				if strings.Contains(captured, s) {
					t.Errorf("a credential (%.6s...) shows in the output:\n%s", s, captured)
				}
			}
		})
	}
}

// checkerFunc adapts a function to Checker.
type checkerFunc func(ctx context.Context, img v1.Image) error

func (f checkerFunc) Check(ctx context.Context, img v1.Image) error { return f(ctx, img) }

func TestVerifiedLeavesOutFailingRuntimes(t *testing.T) {
	reg := registrytest.Start(t)
	st, entries := registrytest.NewStore(t, registrytest.Runtimes([]string{"python3.12", "nodejs22.x"}, "x86_64", "arm64")...)
	plan, err := Plan(entries, []string{reg.Host + "/ns"}, WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	bad := map[v1.Hash]bool{}
	for _, e := range entries {
		if e.Runtime == "nodejs22.x" && e.Arch == "arm64" {
			bad[e.Descriptor.Digest] = true
		}
	}
	checker := checkerFunc(func(_ context.Context, img v1.Image) error {
		if h, _ := img.Digest(); bad[h] {
			return errors.New("FAIL binary-arch: /var/runtime/bootstrap is an x86-64 ELF")
		}
		return nil
	})
	r, _, _ := newTestRemote(t, st)
	var refs bytes.Buffer
	res, err := Verified(Recorder(r, &refs), st, checker).Publish(context.Background(), plan)
	if err == nil || !strings.Contains(err.Error(), "nodejs22.x/aws/arm64 failed verification: FAIL binary-arch") {
		t.Fatalf("err = %v, want nodejs22.x/aws/arm64's verification failure", err)
	}
	var sources []string
	for _, ref := range res.Refs {
		if len(sources) == 0 || sources[len(sources)-1] != ref.Source {
			sources = append(sources, ref.Source)
		}
	}
	if diff := cmp.Diff([]string{"python3.12/aws"}, sources); diff != "" {
		t.Errorf("published runtimes (-want +got):\n%s", diff)
	}
	for _, e := range reg.Log().ManifestPuts() {
		if strings.Contains(e.Repo, "nodejs") {
			t.Errorf("a manifest was put to %s: %+v", e.Repo, e)
		}
	}
	var want []string
	for _, ref := range res.Refs {
		want = append(want, ref.String())
	}
	if diff := cmp.Diff(strings.Join(want, "\n")+"\n", refs.String()); diff != "" {
		t.Errorf("recorded refs (-want +got):\n%s", diff)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	reg := registrytest.Start(t)
	st, entries := registrytest.NewStore(t, registrytest.Runtimes([]string{"ruby3.3"}, "x86_64", "arm64")...)
	plan, err := Plan(entries, []string{reg.Host + "/ns"}, WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	r, _, _ := newTestRemote(t, st)
	statuses := func(res Result) map[Status]int {
		out := map[Status]int{}
		for _, ref := range res.Refs {
			out[ref.Status]++
		}
		return out
	}
	res, err := DryRun(r).Publish(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[Status]int{WouldPush: 6}, statuses(res)); diff != "" {
		t.Errorf("dry run before pushing (-want +got):\n%s", diff)
	}
	if n := len(reg.Log().BlobUploads()) + len(reg.Log().ManifestPuts()); n != 0 {
		t.Errorf("the dry run wrote %d things", n)
	}
	if _, err := r.Publish(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	res, err = DryRun(r).Publish(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[Status]int{Unchanged: 6}, statuses(res)); diff != "" {
		t.Errorf("dry run after pushing (-want +got):\n%s", diff)
	}
}
