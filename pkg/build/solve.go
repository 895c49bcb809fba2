package build

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/docker/cli/cli/config"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/solver/errdefs"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"
)

// platformChecked are the image arguments whose images must match the
// target platform: the final stage's base and the build stage's (stages
// that run on the build platform use other arguments).
var platformChecked = []string{"BASE_IMAGE", "BUILD_IMAGE"}

// solve builds one job and exports its image as an OCI layout into out.
func (b *Builder) solve(ctx context.Context, j Job, p *prepared, out string, status chan *client.SolveStatus) error {
	ctxFS, err := fsutil.NewFS(p.dir)
	if err != nil {
		close(status)
		return err
	}
	platform := j.Arch.Platform()
	attrs := map[string]string{
		"filename":                    "Dockerfile",
		"target":                      "image",
		"platform":                    platform,
		"build-arg:SOURCE_DATE_EPOCH": strconv.FormatInt(b.opts.SourceDateEpoch, 10),
	}
	for k, v := range p.imageArgs {
		attrs["build-arg:"+k] = v
	}
	for k, v := range b.opts.BuildArgs {
		if _, ok := p.imageArgs[k]; !ok { // images were merged in prepare
			attrs["build-arg:"+k] = v
		}
	}
	if b.opts.NoCache {
		attrs["no-cache"] = ""
	}
	if b.opts.Pull {
		attrs["image-resolve-mode"] = "pull"
	}
	mounts := map[string]fsutil.FS{"context": ctxFS, "dockerfile": ctxFS}
	if bin, ok := p.rie[string(j.Arch)]; ok {
		// The directory holds only aws-lambda-rie; it replaces the
		// Dockerfile's "rie" stage.
		rieFS, err := fsutil.NewFS(filepath.Dir(bin))
		if err != nil {
			close(status)
			return err
		}
		mounts["rie"] = rieFS
		attrs["context:rie"] = "local:rie"
	}
	if j.Extensions != "" {
		extFS, err := fsutil.NewFS(j.Extensions)
		if err != nil {
			close(status)
			return fmt.Errorf("extensions: %w", err)
		}
		mounts["lambdaimg-extensions"] = extFS
	}
	attachables := []session.Attachable{authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authprovider.LoadAuthConfig(config.LoadDefaultConfigFile(io.Discard)),
	})}
	if b.opts.CABundle != "" {
		ca, err := os.ReadFile(b.opts.CABundle)
		if err != nil {
			close(status)
			return fmt.Errorf("--ca-bundle: %w", err)
		}
		attachables = append(attachables, secretsprovider.FromMap(map[string][]byte{"ca": ca}))
	}
	exports := []client.ExportEntry{{
		Type:      client.ExporterOCI,
		OutputDir: out,
		Attrs: map[string]string{
			"tar": "false",
			// Docker media types and gzip: what every registry and Lambda take.
			"oci-mediatypes":    "false",
			"compression":       "gzip",
			"rewrite-timestamp": "true",
		},
	}}
	for _, o := range b.opts.Outputs {
		e, err := b.extraExport(o, j)
		if err != nil {
			close(status)
			return err
		}
		exports = append(exports, e)
	}
	opt := client.SolveOpt{
		// The exporter compares the result with the requested platform.
		FrontendAttrs: map[string]string{"platform": platform},
		LocalMounts:   mounts,
		Session:       attachables,
		Exports:       exports,
		CacheImports:  b.opts.CacheImports,
		CacheExports:  b.opts.CacheExports,
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
	_, err = b.conn.Build(ctx, opt, "lambdaimg", func(ctx context.Context, gc gateway.Client) (*gateway.Result, error) {
		// The platform checks run beside the solve; a failed check cancels
		// it. (egctx ends when Wait returns: nothing after uses it.)
		eg, egctx := errgroup.WithContext(ctx)
		for ref, arg := range checks {
			eg.Go(func() error { return checkBase(egctx, gc, arg, ref, j.Arch, resolveMode) })
		}
		var res *gateway.Result
		eg.Go(func() error {
			var err error
			res, err = gc.Solve(egctx, gateway.SolveRequest{
				Frontend:     "dockerfile.v0",
				FrontendOpt:  attrs,
				CacheImports: frontendCacheImports(b.opts.CacheImports),
			})
			return err
		})
		if err := eg.Wait(); err != nil || j.Extensions == "" {
			return res, err
		}
		return addExtensions(ctx, gc, res, j.Arch)
	}, status)
	return err
}

// addExtensions lays the extensions directory over the image's /opt as one
// more layer; Lambda and the emulator start what is in /opt/extensions.
func addExtensions(ctx context.Context, gc gateway.Client, res *gateway.Result, arch catalog.Arch) (*gateway.Result, error) {
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	st, err := ref.ToState()
	if err != nil {
		return nil, err
	}
	plat := ocispecs.Platform{OS: "linux", Architecture: arch.GoArch()}
	st = st.File(llb.Copy(llb.Local("lambdaimg-extensions", llb.SessionID(gc.BuildOpts().SessionID)), "/", "/opt/",
		&llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true}), llb.WithCustomName("adding Lambda extensions to /opt/extensions"))
	def, err := st.Marshal(ctx, llb.Platform(plat))
	if err != nil {
		return nil, err
	}
	ext, err := gc.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, err
	}
	extRef, err := ext.SingleRef()
	if err != nil {
		return nil, err
	}
	res.SetRef(extRef)
	return res, nil
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
// and label the result arm64.
func checkBase(ctx context.Context, gc gateway.Client, arg, ref string, arch catalog.Arch, mode string) error {
	want := ocispecs.Platform{OS: "linux", Architecture: arch.GoArch()}
	if arch == catalog.ARM64 {
		want.Variant = "v8"
	}
	_, _, cfg, err := gc.ResolveImageConfig(ctx, ref, sourceresolver.Opt{
		LogName:  "[lambdaimg] checking the platform of " + ref,
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &want, ResolveMode: mode},
	})
	if err != nil {
		return fmt.Errorf("resolving %s (%s): %w", ref, arg, err)
	}
	var img ocispecs.Image
	if err := json.Unmarshal(cfg, &img); err != nil {
		return fmt.Errorf("reading the config of %s: %w", ref, err)
	}
	if img.OS != "linux" || img.Architecture != arch.GoArch() {
		return fmt.Errorf("base image %s (%s) is %s/%s, not %s: refusing to build an %s image on it (BuildKit would run it under the wrong architecture); use a multi-platform image or one built for %s",
			ref, arg, img.OS, img.Architecture, arch.Platform(), arch, arch.Platform())
	}
	return nil
}

// outputPath is where an --output of j goes: Dest itself for a single
// image, else one file per image in the directory Dest.
func (b *Builder) outputPath(o Output, j Job) string {
	if st, err := os.Stat(o.Dest); b.multi || err == nil && st.IsDir() || strings.HasSuffix(o.Dest, "/") {
		t := j.Context.Target
		return filepath.Join(o.Dest, fmt.Sprintf("%s-%s-%s.tar", t.Runtime.ID, t.Variant, j.Arch))
	}
	return o.Dest
}

// extraExport adds an --output export for j.
func (b *Builder) extraExport(o Output, j Job) (client.ExportEntry, error) {
	dest := b.outputPath(o, j)
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return client.ExportEntry{}, err
	}
	e := client.ExportEntry{Type: o.Type, Attrs: map[string]string{}, Output: func(map[string]string) (io.WriteCloser, error) {
		return os.Create(dest)
	}}
	if o.Type == client.ExporterOCI {
		e.Attrs["oci-mediatypes"] = "false"
		e.Attrs["rewrite-timestamp"] = "true"
		e.Attrs["name"] = j.Context.Target.Runtime.ID + "-" + j.Context.Target.Variant + ":" + string(j.Arch)
	}
	return e, nil
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
			for _, l := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
				lines = append(lines, l)
			}
		}
	}
	return lines
}
