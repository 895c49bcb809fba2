package buildkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/appdefaults"
)

// Where the address came from.
const (
	SourceFlag     = "--addr"
	SourceEnv      = "BUILDKIT_HOST"
	SourceDefault  = "default socket"
	SourceEmbedded = "lambdaimg's own buildkitd"
)

// pooled reports whether source names a builder of a pool rather than the
// one daemon of --addr, BUILDKIT_HOST, the default socket or lambdaimg's.
func pooled(source string) bool {
	switch source {
	case SourceFlag, SourceEnv, SourceDefault, SourceEmbedded:
		return false
	}
	return true
}

// ErrUnavailable is returned (wrapped) when no BuildKit daemon can be used.
var ErrUnavailable = errors.New("BuildKit is not available")

// Options say how to find a daemon.
type Options struct {
	// Addr is the --addr flag; empty means BUILDKIT_HOST, the default
	// socket, then the embedded daemon.
	Addr string
	// StateDir holds the embedded daemon's socket, state and log
	// (default: <user cache dir>/lambdaimg/buildkitd).
	StateDir string
	// NoStart stops lambdaimg from starting its own daemon.
	NoStart bool
	// Timeout bounds each reachability check (default 5s).
	Timeout time.Duration
	// Logf reports what is being done (e.g. starting the daemon).
	Logf func(format string, args ...any)
}

// Conn is a connected client and what it is connected to.
type Conn struct {
	*client.Client
	Addr      string
	Source    string
	Version   string
	Platforms []string // what the workers can build, e.g. linux/amd64
	// Native are the platforms built without emulation: the first of each
	// worker's list, which buildkitd fills with the host's platform before
	// the ones binfmt_misc emulates (or those a builder Spec names).
	Native []string
}

// IsNative reports whether platform is built without emulation: its OS
// and architecture are those of a native platform (linux/amd64/v3 runs
// natively where linux/amd64 does).
func (c *Conn) IsNative(platform string) bool {
	p, err := platforms.Parse(platform)
	if err != nil {
		return false
	}
	for _, n := range c.Native {
		if np, err := platforms.Parse(n); err == nil && np.OS == p.OS && np.Architecture == p.Architecture {
			return true
		}
	}
	return false
}

// Supports reports whether a worker can build for platform (linux/arm64).
func (c *Conn) Supports(platform string) bool {
	return matchAny(platform, c.Platforms)
}

// matchAny reports whether platform is one of list (arm64 matches
// arm64/v8; amd64 does not match arm64).
func matchAny(platform string, list []string) bool {
	want, err := platforms.Parse(platform)
	if err != nil {
		return false
	}
	m := platforms.OnlyStrict(want)
	for _, p := range list {
		if pp, err := platforms.Parse(p); err == nil && m.Match(pp) {
			return true
		}
	}
	return false
}

func (o *Options) defaults() {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir()
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// DefaultStateDir is where the embedded daemon lives.
func DefaultStateDir() string {
	if d := os.Getenv("LAMBDAIMG_BUILDKITD_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "lambdaimg", "buildkitd")
	}
	return filepath.Join(os.TempDir(), "lambdaimg-buildkitd")
}

// EmbeddedAddr is the socket of the embedded daemon in stateDir.
func EmbeddedAddr(stateDir string) string {
	return "unix://" + filepath.Join(stateDir, "buildkitd.sock")
}

// defaultAddr is BuildKit's default socket (a variable for tests).
var defaultAddr = appdefaults.Address

// Connect returns a client for the first daemon that answers. An explicit
// address (--addr or BUILDKIT_HOST) that does not answer is an error within
// Timeout; otherwise the default socket is tried, then the embedded daemon,
// which is started when buildkitd is installed.
func Connect(ctx context.Context, o Options) (*Conn, error) {
	o.defaults()
	if o.Addr != "" {
		return dial(ctx, o, o.Addr, SourceFlag)
	}
	if env := os.Getenv("BUILDKIT_HOST"); env != "" {
		return dial(ctx, o, env, SourceEnv)
	}
	if c, err := dial(ctx, o, defaultAddr, SourceDefault); err == nil {
		return c, nil
	}
	// A probe that failed only because ctx ended says nothing about
	// whether a daemon answers: stop before touching the embedded one.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("connecting to BuildKit: %w", err)
	}
	addr := EmbeddedAddr(o.StateDir)
	if c, err := dial(ctx, o, addr, SourceEmbedded); err == nil {
		return c, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("connecting to BuildKit: %w", err)
	}
	if o.NoStart {
		if d, ok := FindEmbedded(o.StateDir); ok {
			return nil, fmt.Errorf("%w: lambdaimg's buildkitd (pid %d%s) runs from %s but does not answer at %s; stop it with `lambdaimg builder stop`",
				ErrUnavailable, d.PID, orphanNote(d), o.StateDir, addr)
		}
		return nil, fmt.Errorf("%w: nothing answers at %s or %s; start buildkitd or pass --addr", ErrUnavailable, defaultAddr, addr)
	}
	if err := Start(ctx, o); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("starting BuildKit: %w", err)
		}
		return nil, err
	}
	return dial(ctx, o, addr, SourceEmbedded)
}

// dial connects and checks, within o.Timeout, that the daemon answers.
func dial(ctx context.Context, o Options, addr, source string, copts ...client.ClientOpt) (*Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	c, err := client.New(cctx, addr, copts...)
	if err != nil {
		return nil, fmt.Errorf("%w at %s (%s): %v", ErrUnavailable, addr, source, err)
	}
	ws, err := c.ListWorkers(cctx)
	if err != nil {
		c.Close()
		hint := "start buildkitd there, point --addr or BUILDKIT_HOST at a running one, or unset them to let lambdaimg start its own"
		if pooled(source) {
			hint = "check that buildkitd runs there and listens on that address"
		}
		return nil, fmt.Errorf("%w: nothing answers at %s (%s) within %s: %v\n%s",
			ErrUnavailable, addr, source, o.Timeout, err, hint)
	}
	conn := &Conn{Client: c, Addr: addr, Source: source}
	seen := map[string]bool{}
	for _, w := range ws {
		if len(w.Platforms) > 0 {
			conn.Native = append(conn.Native, platforms.Format(platforms.Normalize(w.Platforms[0])))
		}
		for _, p := range w.Platforms {
			s := platforms.Format(p)
			if !seen[s] {
				seen[s] = true
				conn.Platforms = append(conn.Platforms, s)
			}
		}
	}
	sort.Strings(conn.Platforms)
	if info, err := c.Info(cctx); err == nil {
		conn.Version = info.BuildkitVersion.Version
	}
	return conn, nil
}

func orphanNote(d Daemon) string {
	if d.Orphan {
		return ", not the one in the pid file"
	}
	return ""
}

// installHint says how to get BuildKit.
const installHint = "install it with `make buildkit` (scripts/install-buildkit.sh: runc from the OS packages, buildkitd with `go install`), or point --addr / BUILDKIT_HOST at a running buildkitd (e.g. tcp://builder:1234)"

// lookBuildkitd finds the buildkitd binary.
func lookBuildkitd() (string, error) {
	p, err := exec.LookPath("buildkitd")
	if err != nil {
		return "", fmt.Errorf("%w: no daemon answers and buildkitd is not installed; %s", ErrUnavailable, installHint)
	}
	return p, nil
}
