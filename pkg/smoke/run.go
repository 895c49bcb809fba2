package smoke

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	contentlocal "github.com/containerd/containerd/v2/plugins/content/local"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
)

// LambdaUser is the uid:gid functions run as; Lambda runs them as a
// least-privileged user (uid 993 is the one reported for sbx_user1051).
const LambdaUser = "993:993"

// Options say what to run and check.
type Options struct {
	// Helper is a statically linked lambdaimg binary to mount into the
	// container (default: this executable).
	Helper string
	// FunctionDir is copied into /var/task; empty means no function code
	// (the image must already hold it).
	FunctionDir string
	// Handler is the entry point's one argument (the image's CMD).
	Handler string
	// Events are sent one after another.
	Events []Event
	// Timeout is AWS_LAMBDA_FUNCTION_TIMEOUT in seconds (0: the emulator's default).
	Timeout int
	// Env is added to the image's environment.
	Env []string
	// User runs the function (default LambdaUser); "0" runs as root.
	User string
	// Contract checks that the entry point without a handler exits 142
	// with AWS's message.
	Contract bool
	// Status receives BuildKit's progress (nil: none).
	Status chan *client.SolveStatus
}

// Check is one verdict.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Response is what the emulator answered to one event.
type Response struct {
	Event   string          `json:"event"`
	Status  int             `json:"status"`
	Body    json.RawMessage `json:"body"`
	Seconds float64         `json:"seconds"`
}

// Report is the outcome of a run.
type Report struct {
	Checks    []Check    `json:"checks"`
	Responses []Response `json:"responses"`
	// Log is what the emulator, the runtime and the function printed.
	Log string `json:"log"`
}

// Failed reports whether any check failed.
func (r *Report) Failed() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return true
		}
	}
	return false
}

// Err summarises the failed checks, or returns nil. The last line the
// function or its runtime printed is added, since it usually names the
// cause (a missing bootstrap, a module that cannot be imported).
func (r *Report) Err() error {
	var msgs []string
	for _, c := range r.Checks {
		if !c.OK {
			msgs = append(msgs, c.Name+": "+c.Detail)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	msg := strings.Join(msgs, "; ")
	if l := lastFunctionLine(r.Log); l != "" {
		msg += " (the function's last words: " + truncate(l, 300) + ")"
	}
	return errors.New(msg)
}

// lastFunctionLine returns the last line of the log that is not the
// emulator's own bookkeeping.
func lastFunctionLine(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.Contains(l, "(rapid)") || strings.HasPrefix(l, "START RequestId") ||
			strings.HasPrefix(l, "END RequestId") || strings.HasPrefix(l, "REPORT RequestId") {
			continue
		}
		return l
	}
	return ""
}

const (
	storeID   = "lambdaimg-image"
	helperDir = "/.lambdaimg"
)

// Run starts the image desc of the OCI layout at layoutDir in a gateway
// container and runs the checks. The error is for failures to run at all;
// failed checks are in the report.
func Run(ctx context.Context, conn *buildkit.Conn, layoutDir string, desc v1.Descriptor, cfg v1.Config, o Options) (*Report, error) {
	if len(cfg.Entrypoint) == 0 {
		return nil, errors.New("the image has no ENTRYPOINT")
	}
	if desc.Platform == nil {
		return nil, errors.New("the image descriptor has no platform")
	}
	if o.User == "" {
		o.User = LambdaUser
	}
	helper, cleanup, err := stageHelper(o.Helper)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	store, err := contentlocal.NewStore(layoutDir)
	if err != nil {
		return nil, err
	}
	helperFS, err := fsutil.NewFS(filepath.Dir(helper))
	if err != nil {
		return nil, err
	}
	mounts := map[string]fsutil.FS{"lambdaimg-helper": helperFS}
	if o.FunctionDir != "" {
		fnFS, err := fsutil.NewFS(o.FunctionDir)
		if err != nil {
			return nil, fmt.Errorf("the function: %w", err)
		}
		mounts["function"] = fnFS
	}
	rep := &Report{}
	var log syncBuffer
	_, err = conn.Build(ctx, client.SolveOpt{
		LocalMounts: mounts,
		OCIStores:   map[string]content.Store{storeID: store},
	}, "lambdaimg-smoke", func(ctx context.Context, gc gateway.Client) (*gateway.Result, error) {
		return nil, run(ctx, gc, desc, cfg, o, rep, &log)
	}, o.Status)
	rep.Log = log.String()
	if err != nil {
		return rep, err
	}
	return rep, nil
}

func run(ctx context.Context, gc gateway.Client, desc v1.Descriptor, cfg v1.Config, o Options, rep *Report, log *syncBuffer) error {
	sid := gc.BuildOpts().SessionID
	plat := ocispecs.Platform{OS: desc.Platform.OS, Architecture: desc.Platform.Architecture, Variant: desc.Platform.Variant}
	// The name only labels the image in logs; the store id finds it.
	st := llb.OCILayout("docker.io/lambdaimg/image-under-test@"+desc.Digest.String(), llb.OCIStore(sid, storeID),
		llb.Platform(plat), llb.WithCustomName("[smoke] loading the image from the OCI layout"))
	if o.FunctionDir != "" {
		st = st.File(llb.Copy(llb.Local("function", llb.SessionID(sid)), "/", "/var/task/",
			&llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true}), llb.WithCustomName("[smoke] adding the function to /var/task"))
	}
	root, err := solve(ctx, gc, st, plat)
	if err != nil {
		return fmt.Errorf("loading the image: %w", err)
	}
	helperRef, err := solve(ctx, gc, llb.Local("lambdaimg-helper", llb.SessionID(sid), llb.IncludePatterns([]string{"lambdaimg"})), plat)
	if err != nil {
		return fmt.Errorf("loading lambdaimg into the container: %w", err)
	}
	ctr, err := gc.NewContainer(ctx, gateway.NewContainerRequest{
		Mounts: []gateway.Mount{
			{Dest: "/", Ref: root, Readonly: true, MountType: pb.MountType_BIND},
			{Dest: "/tmp", MountType: pb.MountType_TMPFS},
			{Dest: helperDir, Ref: helperRef, Readonly: true, MountType: pb.MountType_BIND},
		},
		NetMode:  pb.NetMode_NONE,
		Hostname: "lambdaimg-smoke",
		Platform: &pb.Platform{OS: plat.OS, Architecture: plat.Architecture, Variant: plat.Variant},
	})
	if err != nil {
		return fmt.Errorf("starting the container: %w", err)
	}
	defer ctr.Release(context.WithoutCancel(ctx))

	cwd := cfg.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	env := append(append([]string{}, cfg.Env...), "AWS_LAMBDA_FUNCTION_NAME="+FunctionName)
	if o.Timeout > 0 {
		env = append(env, "AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(o.Timeout))
	}
	env = append(env, o.Env...)

	server, err := ctr.Start(ctx, gateway.StartRequest{
		Args: append(append([]string{}, cfg.Entrypoint...), o.Handler), Env: env, Cwd: cwd, User: o.User,
		Stdout: nopCloser{log}, Stderr: nopCloser{log},
	})
	if err != nil {
		return fmt.Errorf("starting the entry point: %w", err)
	}
	serverDone := make(chan error, 1)
	go func() { serverDone <- server.Wait() }()

	payloads := make([]json.RawMessage, len(o.Events))
	for i, e := range o.Events {
		payloads[i] = e.Payload
	}
	req, _ := json.Marshal(invokeRequest{Events: payloads})
	var out, errOut bytes.Buffer
	client, err := ctr.Start(ctx, gateway.StartRequest{
		Args: []string{helperDir + "/lambdaimg", "internal", "invoke"}, Env: []string{"PATH=/usr/bin:/bin"}, Cwd: "/", User: o.User,
		Stdin: io.NopCloser(bytes.NewReader(req)), Stdout: nopCloser{&out}, Stderr: nopCloser{&errOut},
	})
	if err != nil {
		return fmt.Errorf("starting the invoker: %w", err)
	}
	clientErr := client.Wait()
	// The first process (the emulator) is the container's init: the
	// others run beside it, so the contract check runs before it stops.
	if o.Contract {
		rep.Checks = append(rep.Checks, contract(ctx, ctr, cfg.Entrypoint, env, cwd, o.User))
	}

	// Stop the emulator; it exits on SIGTERM.
	_ = server.Signal(ctx, syscall.SIGTERM)
	select {
	case <-serverDone:
	case <-time.After(10 * time.Second):
		_ = server.Signal(ctx, syscall.SIGKILL)
	}
	if clientErr != nil {
		early := ""
		select {
		case err := <-serverDone:
			early = fmt.Sprintf(" (the entry point exited: %v)", err)
		default:
		}
		rep.Checks = append(rep.Checks, Check{Name: "invocation", Detail: fmt.Sprintf("no answer from the emulator%s: %s", early, strings.TrimSpace(out.String()+" "+errOut.String()+" "+exitText(clientErr)))})
		return nil
	}
	var results []invokeResult
	if err := json.Unmarshal(out.Bytes(), &results); err != nil || len(results) != len(o.Events) {
		rep.Checks = append(rep.Checks, Check{Name: "invocation", Detail: fmt.Sprintf("unreadable answer from the invoker: %q", truncate(out.String(), 300))})
		return nil
	}
	for i, r := range results {
		e := o.Events[i]
		body := json.RawMessage(r.Body)
		if !json.Valid(body) {
			body, _ = json.Marshal(r.Body)
		}
		rep.Responses = append(rep.Responses, Response{Event: e.Name, Status: r.Status, Body: body, Seconds: r.Seconds})
		c := Check{Name: e.Name, OK: true}
		switch {
		case r.Error != "":
			c.OK, c.Detail = false, "no response: "+r.Error
		case r.Status != 200:
			c.OK, c.Detail = false, fmt.Sprintf("HTTP %d: %s", r.Status, truncate(r.Body, 300))
		case e.Expect != nil:
			if diffs := Match(e.Expect, []byte(r.Body)); diffs != nil {
				c.OK, c.Detail = false, strings.Join(diffs, "; ")+" (response: "+truncate(compact([]byte(r.Body)), 300)+")"
			}
		}
		if e.Expect != nil || !c.OK {
			rep.Checks = append(rep.Checks, c)
		}
	}
	return nil
}

// contract runs the entry point without a handler: AWS's images print a
// message and exit 142.
func contract(ctx context.Context, ctr gateway.Container, entry, env []string, cwd, user string) Check {
	c := Check{Name: "entrypoint contract"}
	var out bytes.Buffer
	p, err := ctr.Start(ctx, gateway.StartRequest{Args: entry, Env: env, Cwd: cwd, User: user, Stdout: nopCloser{&out}, Stderr: nopCloser{&out}})
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	err = p.Wait()
	var ee *gatewaypb.ExitError
	const msg = "entrypoint requires the handler name to be the first argument"
	switch {
	case !errors.As(err, &ee):
		c.Detail = fmt.Sprintf("without a handler the entry point should exit 142, it %s", exitText(err))
	case ee.ExitCode != 142:
		c.Detail = fmt.Sprintf("without a handler the entry point exited %d, want 142 (output: %q)", ee.ExitCode, truncate(out.String(), 200))
	case !strings.Contains(out.String(), msg):
		c.Detail = fmt.Sprintf("without a handler the entry point printed %q, want %q", truncate(out.String(), 200), msg)
	default:
		c.OK = true
	}
	return c
}

func exitText(err error) string {
	var ee *gatewaypb.ExitError
	if errors.As(err, &ee) {
		return fmt.Sprintf("exited %d", ee.ExitCode)
	}
	if err == nil {
		return "exited 0"
	}
	return err.Error()
}

func solve(ctx context.Context, gc gateway.Client, st llb.State, plat ocispecs.Platform) (gateway.Reference, error) {
	def, err := st.Marshal(ctx, llb.Platform(plat))
	if err != nil {
		return nil, err
	}
	res, err := gc.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}

// stageHelper puts a static lambdaimg binary alone in a directory, named
// lambdaimg, to be mounted into the container.
func stageHelper(path string) (string, func(), error) {
	if path == "" {
		exe, err := os.Executable()
		if err != nil {
			return "", nil, err
		}
		path = exe
	}
	if err := checkStatic(path); err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "lambdaimg-helper-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	dst := filepath.Join(dir, "lambdaimg")
	if err := os.Link(path, dst); err != nil {
		data, err := os.ReadFile(path)
		if err == nil {
			err = os.WriteFile(dst, data, 0o755)
		}
		if err != nil {
			cleanup()
			return "", nil, err
		}
	}
	return dst, cleanup, nil
}

// checkStatic makes sure the binary runs in any image: statically linked.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("lambdaimg runs itself inside the test container, but %s is not a Linux executable: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("lambdaimg runs itself inside the test container, so it must be statically linked; %s is not: rebuild it with CGO_ENABLED=0 (make build does)", path)
		}
	}
	return nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a
// process's stdout and stderr.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
