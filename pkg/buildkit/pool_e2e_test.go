package buildkit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/internal/testenv"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
)

// TestMutualTLS: a buildkitd that wants client certificates is reached
// with the right one, and refused without one with a message that says
// what to add.
func TestMutualTLS(t *testing.T) {
	f := testenv.MakeTLS(t)
	good := buildkit.Spec{CACert: f.CA, Cert: f.ClientCert, Key: f.ClientKey}
	d := testenv.StartDaemon(t, good, "--tlscacert", f.CA, "--tlscert", f.ServerCert, "--tlskey", f.ServerKey)
	ctx := context.Background()

	spec, err := buildkit.ParseSpec(fmt.Sprintf("%s,cacert=%s,cert=%s,key=%s,servername=buildkitd", d.Addr, f.CA, f.ClientCert, f.ClientKey))
	if err != nil {
		t.Fatal(err)
	}
	c, err := buildkit.DialSpec(ctx, spec, buildkit.Options{})
	if err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
	defer c.Close()
	if !c.Supports("linux/amd64") || c.Version == "" {
		t.Errorf("connected, but platforms %v version %q", c.Platforms, c.Version)
	}

	_, err = buildkit.DialSpec(ctx, buildkit.Spec{Addr: d.Addr, CACert: f.CA}, buildkit.Options{Timeout: 3 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "add cert=FILE,key=FILE") {
		t.Errorf("without a client certificate: %v; want a refusal that says to add cert and key", err)
	}
	_, err = buildkit.DialSpec(ctx, buildkit.Spec{Addr: d.Addr}, buildkit.Options{Timeout: 3 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "add cacert=FILE") {
		t.Errorf("without TLS: %v; want a refusal that says to add cacert", err)
	}
}

// TestPoolUnreachable: a builder that does not answer is skipped with a
// warning while another serves its platforms, and is an error naming the
// platform when none does.
func TestPoolUnreachable(t *testing.T) {
	d := testenv.StartDaemon(t, buildkit.Spec{}, "--oci-worker-platform", "linux/amd64")
	down := "tcp://127.0.0.1:1" // nothing listens on port 1
	var mu sync.Mutex
	var warnings []string
	o := buildkit.Options{Timeout: 3 * time.Second, Logf: func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, fmt.Sprintf(f, a...))
	}}
	ctx := context.Background()
	p, err := buildkit.ConnectPool(ctx, []buildkit.Spec{{Addr: d.Addr}, {Addr: down}}, o)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var got []string
	for _, c := range p.Conns() {
		got = append(got, c.Addr)
	}
	if diff := cmp.Diff([]string{d.Addr}, got); diff != "" {
		t.Errorf("reachable builders (-want +got):\n%s", diff)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "skipping builder "+down) {
		t.Errorf("warnings %q: want one about %s", warnings, down)
	}

	// The daemon emulates arm64 (binfmt_misc is registered on the host
	// whatever --oci-worker-platform says): name it for amd64 only.
	_, err = buildkit.ConnectPool(ctx, []buildkit.Spec{{Addr: d.Addr, Platforms: []string{"linux/amd64"}}, {Addr: down, Platforms: []string{"linux/arm64"}}}, o)
	if err == nil || !strings.Contains(err.Error(), "no reachable builder builds linux/arm64") || !strings.Contains(err.Error(), down) {
		t.Errorf("arm64 builder down: %v; want an error naming linux/arm64 and %s", err, down)
	}
}
