package smoke

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	contentlocal "github.com/containerd/containerd/v2/plugins/content/local"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/helper"
	"github.com/lambdaimg/lambdaimg/pkg/incontainer"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
)

// LambdaUser is the uid:gid functions run as; Lambda runs them as a
// least-privileged user (uid 993 is the one reported for sbx_user1051).
const LambdaUser = "993:993"

// Options say what to run and check.
type Options struct {
	// Helper is lambdaimg-helper to mount into the container: a file, or a
	// directory of lambdaimg-helper-linux-<arch> (default: see package
	// helper).
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
	helperPath, cleanup, err := stageHelper(conn, o.Helper, desc.Platform.Architecture)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	store, err := contentlocal.NewStore(layoutDir)
	if err != nil {
		return nil, err
	}
	mounts, err := localMounts(helperPath, o.FunctionDir)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	var log syncBuffer
	_, err = conn.Build(ctx, client.SolveOpt{LocalMounts: mounts, OCIStores: map[string]content.Store{storeID: store}},
		"lambdaimg-smoke", func(ctx context.Context, gc gateway.Client) (*gateway.Result, error) {
			return nil, run(ctx, gc, desc, cfg, o, rep, &log)
		}, o.Status)
	rep.Log = log.String()
	return rep, err
}

func localMounts(helperPath, functionDir string) (map[string]fsutil.FS, error) {
	helperFS, err := fsutil.NewFS(filepath.Dir(helperPath))
	if err != nil {
		return nil, err
	}
	mounts := map[string]fsutil.FS{"lambdaimg-helper": helperFS}
	if functionDir != "" {
		fnFS, err := fsutil.NewFS(functionDir)
		if err != nil {
			return nil, fmt.Errorf("the function: %w", err)
		}
		mounts["function"] = fnFS
	}
	return mounts, nil
}

// process is how the entry point is started in the container.
type process struct {
	entry, env []string
	cwd, user  string
}

func newProcess(cfg v1.Config, o Options) process {
	p := process{entry: cfg.Entrypoint, cwd: cfg.WorkingDir, user: o.User}
	if p.cwd == "" {
		p.cwd = "/"
	}
	p.env = append(append([]string{}, cfg.Env...), "AWS_LAMBDA_FUNCTION_NAME="+FunctionName)
	if o.Timeout > 0 {
		p.env = append(p.env, "AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(o.Timeout))
	}
	p.env = append(p.env, o.Env...)
	return p
}

// run starts the emulator with the function, sends the events through the
// in-container invoker, checks the entry point's contract and stops.
func run(ctx context.Context, gc gateway.Client, desc v1.Descriptor, cfg v1.Config, o Options, rep *Report, log *syncBuffer) error {
	ctr, err := newContainer(ctx, gc, desc, o.FunctionDir != "")
	if err != nil {
		return err
	}
	defer ctr.Release(context.WithoutCancel(ctx))
	p := newProcess(cfg, o)
	server, err := ctr.Start(ctx, gateway.StartRequest{
		Args: append(append([]string{}, p.entry...), o.Handler), Env: p.env, Cwd: p.cwd, User: p.user,
		Stdout: nopCloser{log}, Stderr: nopCloser{log},
	})
	if err != nil {
		return fmt.Errorf("starting the entry point: %w", err)
	}
	serverDone := make(chan error, 1)
	go func() { serverDone <- server.Wait() }()

	out, clientErr := invoke(ctx, ctr, o)
	// The first process (the emulator) is the container's init: the
	// others run beside it, so the contract check runs before it stops.
	if o.Contract {
		rep.Checks = append(rep.Checks, contract(ctx, ctr, p))
	}
	_ = server.Signal(ctx, syscall.SIGTERM) // the emulator exits on SIGTERM
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
		rep.Checks = append(rep.Checks, Check{Name: "invocation", Detail: fmt.Sprintf("no answer from the emulator%s: %s", early, clientErr)})
		return nil
	}
	var results []incontainer.Result
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(o.Events) {
		rep.Checks = append(rep.Checks, Check{Name: "invocation", Detail: fmt.Sprintf("unreadable answer from the invoker: %q", truncate(string(out), 300))})
		return nil
	}
	rep.verdicts(o.Events, results)
	return nil
}

// newContainer loads the image (with the function in /var/task) and
// lambdaimg's helper, and starts a container as Lambda runs functions: no
// network, a read-only root and a tmpfs /tmp.
func newContainer(ctx context.Context, gc gateway.Client, desc v1.Descriptor, withFunction bool) (gateway.Container, error) {
	sid := gc.BuildOpts().SessionID
	plat := ocispecs.Platform{OS: desc.Platform.OS, Architecture: desc.Platform.Architecture, Variant: desc.Platform.Variant}
	// The name only labels the image in logs; the store id finds it.
	st := llb.OCILayout("docker.io/lambdaimg/image-under-test@"+desc.Digest.String(), llb.OCIStore(sid, storeID),
		llb.Platform(plat), llb.WithCustomName("[smoke] loading the image from the OCI layout"))
	if withFunction {
		st = st.File(llb.Copy(llb.Local("function", llb.SessionID(sid)), "/", "/var/task/",
			&llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true}), llb.WithCustomName("[smoke] adding the function to /var/task"))
	}
	root, err := solve(ctx, gc, st, plat)
	if err != nil {
		return nil, fmt.Errorf("loading the image: %w", err)
	}
	helperRef, err := solve(ctx, gc, llb.Local("lambdaimg-helper", llb.SessionID(sid), llb.IncludePatterns([]string{helper.Name})), plat)
	if err != nil {
		return nil, fmt.Errorf("loading lambdaimg-helper into the container: %w", err)
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
		return nil, fmt.Errorf("starting the container: %w", err)
	}
	return ctr, nil
}

// invoke runs `lambdaimg-helper internal invoke` in the container with the events
// and returns what it printed.
func invoke(ctx context.Context, ctr gateway.Container, o Options) ([]byte, error) {
	payloads := make([]json.RawMessage, len(o.Events))
	for i, e := range o.Events {
		payloads[i] = e.Payload
	}
	req, _ := json.Marshal(incontainer.Request{Events: payloads})
	var out, errOut bytes.Buffer
	proc, err := ctr.Start(ctx, gateway.StartRequest{
		Args: []string{helperDir + "/" + helper.Name, "internal", "invoke"}, Env: []string{"PATH=/usr/bin:/bin"}, Cwd: "/", User: o.User,
		Stdin: io.NopCloser(bytes.NewReader(req)), Stdout: nopCloser{&out}, Stderr: nopCloser{&errOut},
	})
	if err != nil {
		return nil, fmt.Errorf("starting the invoker: %w", err)
	}
	if err := proc.Wait(); err != nil {
		return nil, errors.New(strings.TrimSpace(out.String() + " " + errOut.String() + " " + exitText(err)))
	}
	return out.Bytes(), nil
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
