package buildkit_test

import (
	"context"
	"fmt"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdaimg/lambdaimg/internal/testenv"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
)

// TestSSHBuilder: a builder named ssh://USER@HOST:PORT/SOCKET is reached
// through BuildKit's ssh connection helper (ssh runs `buildctl dial-stdio`
// on the other side) with a real OpenSSH server, and a solve that sends a
// local context through the tunnel runs on it.
func TestSSHBuilder(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "bk.sock")
	d := testenv.StartDaemon(t, buildkit.Spec{}, "--addr", "unix://"+sock)
	s := testenv.StartSSHD(t)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("ssh://%s@127.0.0.1:%d%s", u.Username, s.Port, sock)
	spec, err := buildkit.ParseSpec(addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := buildkit.DialSpec(context.Background(), spec, buildkit.Options{})
	if err != nil {
		t.Fatalf("%s (the daemon also listens on %s): %v", addr, d.Addr, err)
	}
	defer c.Close()
	if c.Version == "" || !c.Supports("linux/amd64") {
		t.Errorf("connected over ssh, but version %q platforms %v", c.Version, c.Platforms)
	}
	out, err := testenv.Check(t, c, "FROM scratch\nCOPY hello /hello\n", map[string][]byte{"hello": []byte("hi\n")}, nil)
	if err != nil {
		t.Fatalf("a solve over ssh: %v\n%s", err, out)
	}
	if !strings.Contains(out, "COPY hello /hello") {
		t.Errorf("the solve's progress does not show the COPY step:\n%s", out)
	}
}
