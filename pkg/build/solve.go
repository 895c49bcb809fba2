package build

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/containerd/containerd/v2/core/content"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/client/ociindex"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// platformChecked are the image arguments whose images must match the
// target platform: the final stage's base and the build stage's (stages
// that run on the build platform use other arguments).
var platformChecked = []string{"BASE_IMAGE", "BUILD_IMAGE"}

// Base is a base image as a build resolved it.
type Base struct {
	Ref    string `json:"ref"`    // as pulled (after mirroring)
	Digest string `json:"digest"` // what Ref resolved to: an index or a manifest
	Config string `json:"config"` // digest of the config for the job's platform
}

// solve builds one job and exports its image as an OCI layout into out,
// taking the blobs this machine has already from b.blobs instead of from
// the builder. It closes status. It returns the bases it checked, by
// image argument, and what the export moved.
func (b *Builder) solve(ctx context.Context, conn *buildkit.Conn, j Job, p *prepared, out string, status chan *client.SolveStatus) (map[string]Base, *ExportStats, error) {
	cs, err := b.blobs.Export(out)
	if err != nil {
		close(status)
		return nil, nil, err
	}
	bases, err := b.solveInto(ctx, conn, j, p, out, cs, status)
	st := cs.Stats()
	return bases, &ExportStats{ReceivedBytes: st.Received, LocalBytes: st.Local, LocalBlobs: st.LocalBlobs}, err
}

// solveInto is solve with the export's content store cs.
func (b *Builder) solveInto(ctx context.Context, conn *buildkit.Conn, j Job, p *prepared, out string, cs content.Store, status chan *client.SolveStatus) (map[string]Base, error) {
	spec, err := newSolveSpec(b.opts, j, p, cs, b.multi)
	if err != nil {
		close(status)
		return nil, err
	}
	checks := map[string]string{} // image -> the argument that names it
	for _, k := range platformChecked {
		if v, ok := p.imageArgs[k]; ok {
			if _, seen := checks[v]; !seen {
				checks[v] = k
			}
		}
	}
	resolveMode := "default"
	if b.opts.Pull {
		resolveMode = "pull"
	}
	imports := frontendCacheImports(jobCaches(b.opts.CacheImports, j))
	var mu sync.Mutex
	bases := map[string]Base{}
	resp, err := conn.Build(ctx, spec.opt, "lambdaimg", func(ctx context.Context, gc gateway.Client) (*gateway.Result, error) {
		// The platform checks run beside the solve; a failed check cancels
		// it. (egctx ends when Wait returns: nothing after uses it.)
		eg, egctx := errgroup.WithContext(ctx)
		for ref, arg := range checks {
			eg.Go(func() error {
				base, err := checkBase(egctx, gc, arg, ref, j.Arch, resolveMode)
				mu.Lock()
				bases[arg] = base
				mu.Unlock()
				return err
			})
		}
		var res *gateway.Result
		eg.Go(func() error {
			var err error
			res, err = gc.Solve(egctx, gateway.SolveRequest{Frontend: "dockerfile.v0", FrontendOpt: spec.attrs, CacheImports: imports})
			return err
		})
		return res, eg.Wait()
	}, status)
	if err != nil {
		return bases, err
	}
	return bases, layoutIndex(ctx, out, cs, resp.ExporterResponse)
}

// layoutIndex writes the index.json of the OCI layout dir an export
// filled through the content store cs (BuildKit's client writes it only
// for an export to a directory), from the exporter's response; the image
// it names must be in cs.
func layoutIndex(ctx context.Context, dir string, cs content.Store, resp map[string]string) error {
	raw, ok := resp[exptypes.ExporterImageDescriptorKey]
	if !ok {
		return fmt.Errorf("BuildKit's response names no exported image")
	}
	data, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return fmt.Errorf("BuildKit's response: the exported image: %w", err)
	}
	var desc ocispecs.Descriptor
	if err := json.Unmarshal(data, &desc); err != nil {
		return fmt.Errorf("BuildKit's response: the exported image: %w", err)
	}
	if info, err := cs.Info(ctx, desc.Digest); err != nil || info.Size != desc.Size {
		return fmt.Errorf("BuildKit's response names the image %s, which its export did not write (%v)", desc.Digest, err)
	}
	return ociindex.NewStoreIndex(dir).Put(desc, ociindex.Tag("latest"))
}

func frontendCacheImports(in []client.CacheOptionsEntry) []gateway.CacheOptionsEntry {
	out := make([]gateway.CacheOptionsEntry, len(in))
	for i, c := range in {
		out[i] = gateway.CacheOptionsEntry{Type: c.Type, Attrs: c.Attrs}
	}
	return out
}

// checkBase refuses a base image that has no manifest for the target
// platform: BuildKit would otherwise run an amd64 base for an arm64 target
// and label the result arm64. It returns what ref resolved to.
func checkBase(ctx context.Context, gc gateway.Client, arg, ref string, arch catalog.Arch, mode string) (Base, error) {
	want := ocispecs.Platform{OS: "linux", Architecture: arch.GoArch()}
	if arch == catalog.ARM64 {
		want.Variant = "v8"
	}
	_, dgst, cfg, err := gc.ResolveImageConfig(ctx, ref, sourceresolver.Opt{
		LogName:  "[lambdaimg] checking the platform of " + ref,
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &want, ResolveMode: mode},
	})
	if err != nil {
		return Base{}, fmt.Errorf("resolving %s (%s): %w", ref, arg, err)
	}
	base := Base{Ref: ref, Digest: dgst.String(), Config: digest.FromBytes(cfg).String()}
	var img ocispecs.Image
	if err := json.Unmarshal(cfg, &img); err != nil {
		return Base{}, fmt.Errorf("reading the config of %s: %w", ref, err)
	}
	if img.OS != "linux" || img.Architecture != arch.GoArch() {
		return Base{}, fmt.Errorf("base image %s (%s) is %s/%s, not %s: refusing to build an %s image on it (BuildKit would run it under the wrong architecture); use a multi-platform image or one built for %s",
			ref, arg, img.OS, img.Architecture, arch.Platform(), arch, arch.Platform())
	}
	return base, nil
}

// checkPlatform makes sure the exported image is for the target.
func checkPlatform(img v1.Image, arch catalog.Arch) error {
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	if cf.OS != "linux" || cf.Architecture != arch.GoArch() {
		return fmt.Errorf("the built image is %s/%s, not %s", cf.OS, cf.Architecture, arch.Platform())
	}
	return nil
}

// imageSize is the compressed size of the image: manifest, config, layers.
func imageSize(img v1.Image) int64 {
	m, err := img.Manifest()
	if err != nil {
		return 0
	}
	raw, _ := img.RawManifest()
	n := int64(len(raw)) + m.Config.Size
	for _, l := range m.Layers {
		n += l.Size
	}
	return n
}

// failedLines returns the generated Dockerfile's lines a BuildKit error
// points at, as BuildKit prints them.
func failedLines(err error) []string {
	var lines []string
	for _, src := range errdefs.Sources(err) {
		var buf bytes.Buffer
		if src.Print(&buf) == nil {
			lines = append(lines, strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")...)
		}
	}
	return lines
}

// baseAnnotations records the bases a build resolved in the store, for
// lambdaimg plan: OCI's base.name and base.digest for the final stage's
// base, and every checked base with its platform's config digest.
func baseAnnotations(bases map[string]Base) map[string]string {
	if len(bases) == 0 {
		return nil
	}
	out := map[string]string{}
	if b, ok := bases["BASE_IMAGE"]; ok {
		out[labels.BaseName], out[labels.BaseDigest] = b.Ref, b.Digest
	}
	if data, err := json.Marshal(bases); err == nil { // map keys sorted
		out[labels.Bases] = string(data)
	}
	return out
}
