package buildkit

import (
	"context"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	apitypes "github.com/moby/buildkit/api/types"
	"github.com/moby/buildkit/solver/pb"
	"google.golang.org/grpc"
)

// fakeModeEnv says how the fake buildkitd behaves: "serve" (answers
// ListWorkers and Info), "silent" (listens, never answers) or "exit" (exits
// at once with status 1).
const fakeModeEnv = "LAMBDAIMG_FAKE_BUILDKITD"

// TestMain turns the test binary into a fake buildkitd when it runs under
// that name (tests put a symlink called buildkitd first in PATH).
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "buildkitd" {
		os.Exit(fakeBuildkitd(os.Args[1:]))
	}
	os.Exit(m.Run())
}

type fakeControl struct {
	controlapi.UnimplementedControlServer
}

func (fakeControl) ListWorkers(context.Context, *controlapi.ListWorkersRequest) (*controlapi.ListWorkersResponse, error) {
	return &controlapi.ListWorkersResponse{Record: []*apitypes.WorkerRecord{{
		ID: "fake", Platforms: []*pb.Platform{{OS: "linux", Architecture: "amd64"}},
	}}}, nil
}

func (fakeControl) Info(context.Context, *controlapi.InfoRequest) (*controlapi.InfoResponse, error) {
	return &controlapi.InfoResponse{BuildkitVersion: &apitypes.BuildkitVersion{Version: "fake"}}, nil
}

func fakeBuildkitd(args []string) int {
	var addr string
	for i, a := range args {
		if a == "--addr" && i+1 < len(args) {
			addr = args[i+1]
		}
	}
	mode := os.Getenv(fakeModeEnv)
	if mode == "exit" || addr == "" {
		return 1
	}
	l, err := net.Listen("unix", strings.TrimPrefix(addr, "unix://"))
	if err != nil {
		return 2
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	if mode == "silent" {
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		<-sig
		return 0
	}
	s := grpc.NewServer()
	controlapi.RegisterControlServer(s, fakeControl{})
	go s.Serve(l)
	<-sig
	s.Stop()
	return 0
}

// fakeEnv puts a fake buildkitd (and runc) first in PATH and returns a
// private state directory; whatever daemon runs from it is killed at the
// end of the test.
func fakeEnv(t *testing.T, mode string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	for _, n := range []string{"buildkitd", "runc"} {
		if err := os.Symlink(exe, filepath.Join(bin, n)); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv(fakeModeEnv, mode)
	t.Setenv("BUILDKIT_HOST", "")
	// A short path: a unix socket's path is limited to 108 bytes.
	dir, err := os.MkdirTemp("", "lbk")
	if err != nil {
		t.Fatal(err)
	}
	oldTimeout, oldAddr := startTimeout, defaultAddr
	startTimeout = 2 * time.Second
	defaultAddr = "unix://" + filepath.Join(dir, "no-default.sock")
	t.Cleanup(func() {
		startTimeout, defaultAddr = oldTimeout, oldAddr
		killAll(dir)
		os.RemoveAll(dir)
	})
	return dir
}

// killAll ends every daemon of dir, waiting until it is gone.
func killAll(dir string) {
	for i := 0; i < 50; i++ {
		d, ok := FindEmbedded(dir)
		if !ok {
			return
		}
		syscall.Kill(d.PID, syscall.SIGKILL)
		time.Sleep(20 * time.Millisecond)
	}
}

// daemons counts the buildkitd processes of dir.
func daemons(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && isOurs(pid, dir) {
			n++
		}
	}
	return n
}
