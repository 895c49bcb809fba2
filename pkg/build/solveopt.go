package build

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/tonistiigi/fsutil"
)

// solveSpec is everything one solve sends to BuildKit: the SolveOpt of
// the session (mounts, secrets, exports, cache) and the Dockerfile
// frontend's options.
type solveSpec struct {
	opt   client.SolveOpt
	attrs map[string]string
}

// newSolveSpec makes the solve of job j of the context p, exporting its
// image's blobs into the content store out (an OCI layout's: see
// blobpool.Pool.Export). It talks to no daemon.
func newSolveSpec(o Options, j Job, p *prepared, out content.Store, multi bool) (solveSpec, error) {
	mounts, attrs, err := frontendInputs(o, j, p)
	if err != nil {
		return solveSpec{}, err
	}
	attachables := []session.Attachable{authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authprovider.LoadAuthConfig(config.LoadDefaultConfigFile(io.Discard)),
	})}
	if o.CABundle != "" {
		ca, err := os.ReadFile(o.CABundle)
		if err != nil {
			return solveSpec{}, fmt.Errorf("reading the CA bundle: %w", err)
		}
		attachables = append(attachables, secretsprovider.FromMap(map[string][]byte{"ca": ca}))
	}
	var exports []client.ExportEntry
	for _, e := range o.Exports {
		entry, err := exportEntry(e, j, multi)
		if err != nil {
			return solveSpec{}, err
		}
		exports = append(exports, entry)
	}
	// The store's export last: where exporters' responses name the same
	// key, BuildKit keeps the last one's, and the layout's index is
	// written from it (layoutIndex).
	exports = append(exports, client.ExportEntry{
		Type:        client.ExporterOCI,
		OutputStore: out,
		Attrs: map[string]string{
			"tar": "false",
			// Docker media types and gzip: what every registry and Lambda take.
			"oci-mediatypes":    "false",
			"compression":       "gzip",
			"rewrite-timestamp": "true",
		},
	})
	return solveSpec{attrs: attrs, opt: client.SolveOpt{
		// The exporter compares the result with the requested platform.
		FrontendAttrs: map[string]string{"platform": j.Arch.Platform()},
		LocalMounts:   mounts,
		Session:       attachables,
		Exports:       exports,
		CacheImports:  jobCaches(o.CacheImports, j),
		CacheExports:  jobCaches(o.CacheExports, j),
	}}, nil
}

// frontendInputs returns the local directories the Dockerfile reads (its
// context, the emulator and the extensions as named contexts) and the
// frontend's options.
func frontendInputs(o Options, j Job, p *prepared) (map[string]fsutil.FS, map[string]string, error) {
	ctxFS, err := fsutil.NewFS(p.dir)
	if err != nil {
		return nil, nil, err
	}
	attrs := map[string]string{
		"filename":                    "Dockerfile",
		"target":                      "image",
		"platform":                    j.Arch.Platform(),
		"build-arg:SOURCE_DATE_EPOCH": strconv.FormatInt(o.SourceDateEpoch, 10),
	}
	for k, v := range p.imageArgs {
		attrs["build-arg:"+k] = v
	}
	if v := p.index[j.Arch]; v != "" {
		attrs["build-arg:"+PackageIndexArg] = v
	}
	for k, v := range o.BuildArgs {
		if _, ok := p.imageArgs[k]; !ok { // images were merged in prepare
			attrs["build-arg:"+k] = v
		}
	}
	if o.NoCache {
		attrs["no-cache"] = ""
	}
	if o.Pull {
		attrs["image-resolve-mode"] = "pull"
	}
	mounts := map[string]fsutil.FS{"context": ctxFS, "dockerfile": ctxFS}
	named := map[string]string{"extensions": j.Extensions}
	if bin, ok := p.rie[string(j.Arch)]; ok {
		named["rie"] = filepath.Dir(bin) // holds only aws-lambda-rie
	}
	for name, dir := range named {
		if dir == "" {
			continue
		}
		fs, err := fsutil.NewFS(dir)
		if err != nil {
			return nil, nil, fmt.Errorf("the %s context: %w", name, err)
		}
		mounts[name] = fs
		attrs["context:"+name] = "local:" + name
	}
	return mounts, attrs, nil
}
