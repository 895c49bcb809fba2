package verify

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// LabelRuntime marks lambdaimg's base images.
const LabelRuntime = labels.Runtime

// EntrypointScript is the entry point of AWS's base images.
const EntrypointScript = "/lambda-entrypoint.sh"

type imageChecks struct {
	v    *Verifier
	rep  *Report
	img  v1.Image
	desc *v1.Descriptor
	m    *v1.Manifest
	cfg  *v1.ConfigFile
	fs   *fsView
	// fsErr says why fs is nil.
	fsErr error
}

func (c *imageChecks) run(ctx context.Context) {
	if !c.manifest() {
		return
	}
	c.config()
	if c.cfg == nil {
		return
	}
	c.rep.Platform = c.cfg.OS + "/" + c.cfg.Architecture
	c.platform()
	scans := c.layers(ctx)
	c.size(scans)
	c.settings()
	c.entrypoint()
	c.cmd()
	c.binaryArch()
	c.contract()
}

func (c *imageChecks) manifest() bool {
	mt, err := c.img.MediaType()
	if err != nil {
		c.rep.add("manifest", Fail, "reading the manifest: %v", err)
		return false
	}
	switch mt {
	case types.OCIManifestSchema1, types.DockerManifestSchema2:
	case types.DockerManifestSchema1, types.DockerManifestSchema1Signed:
		c.rep.add("manifest", Fail, "%s is Docker's schema 1, which Lambda rejects; it accepts Docker v2 schema 2 and OCI image manifests", mt)
		return false
	default:
		c.rep.add("manifest", Fail, "media type %q is not a single-platform image manifest (Docker v2 schema 2 or OCI)", mt)
		return false
	}
	m, err := c.img.Manifest()
	if err != nil {
		c.rep.add("manifest", Fail, "reading the manifest: %v", err)
		return false
	}
	c.m = m
	if m.Subject != nil {
		c.rep.add("manifest", Fail, "this manifest refers to %s as its subject: it is an attestation or artifact, not an image", m.Subject.Digest)
		return false
	}
	if cmt := m.Config.MediaType; m.ArtifactType != "" || (cmt != types.OCIConfigJSON && cmt != types.DockerConfigJSON) {
		c.rep.add("manifest", Fail, "an artifact (artifact type %q, config %q), not an image: a deployable tag must name the image, with SBOMs and changelogs attached as referrers", m.ArtifactType, cmt)
		return false
	}
	c.rep.add("manifest", Pass, "single-platform image manifest (%s)", mt)
	return true
}

func (c *imageChecks) config() {
	switch mt := c.m.Config.MediaType; mt {
	case types.OCIConfigJSON, types.DockerConfigJSON:
	default:
		c.rep.add("config", Fail, "config media type %q is not an image config: this is an artifact or attestation, not an image", mt)
		return
	}
	cfg, err := c.img.ConfigFile()
	if err != nil {
		c.rep.add("config", Fail, "reading the config: %v", err)
		return
	}
	c.cfg = cfg
	if n, l := len(cfg.RootFS.DiffIDs), len(c.m.Layers); n != l {
		c.rep.add("config", Fail, "the config lists %d diff_ids for %d layers", n, l)
		return
	}
	c.rep.add("config", Pass, "image config (%s)", c.m.Config.MediaType)
}

func (c *imageChecks) platform() {
	var probs []string
	if c.cfg.OS != "linux" {
		probs = append(probs, fmt.Sprintf("os %q: Lambda runs linux only", c.cfg.OS))
	}
	switch c.cfg.Architecture {
	case "amd64", "arm64":
	default:
		probs = append(probs, fmt.Sprintf("architecture %q: Lambda runs amd64 (x86_64) and arm64", c.cfg.Architecture))
	}
	if c.cfg.Architecture == "arm64" && c.cfg.Variant != "" && c.cfg.Variant != "v8" {
		probs = append(probs, fmt.Sprintf("arm64 variant %q: Lambda's arm64 is v8", c.cfg.Variant))
	}
	if c.desc != nil && c.desc.Platform != nil {
		p := c.desc.Platform
		if p.OS != c.cfg.OS || p.Architecture != c.cfg.Architecture {
			probs = append(probs, fmt.Sprintf("the descriptor says %s/%s but the config says %s/%s", p.OS, p.Architecture, c.cfg.OS, c.cfg.Architecture))
		}
	}
	if len(probs) > 0 {
		c.rep.add("platform", Fail, "%s", strings.Join(probs, "; "))
		return
	}
	lambda := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[c.cfg.Architecture]
	c.rep.add("platform", Pass, "linux/%s (Lambda %s)", c.cfg.Architecture, lambda)
}

// layers checks the layers' media types, reads them (unless the declared
// size is already too big) and checks their bytes are what the media type
// says.
func (c *imageChecks) layers(ctx context.Context) []*layerScan {
	var probs []string
	for i, d := range c.m.Layers {
		name := fmt.Sprintf("layer %d (%s)", i+1, short(d.Digest))
		switch mt := d.MediaType; {
		case mt == types.OCILayer || mt == types.DockerLayer:
		case strings.Contains(string(mt), "zstd"):
			probs = append(probs, fmt.Sprintf("%s is zstd-compressed (%s); Lambda accepts gzip only: build with compression=gzip,force-compression=true", name, mt))
		case mt == types.OCIUncompressedLayer || mt == types.DockerUncompressedLayer:
			probs = append(probs, fmt.Sprintf("%s is uncompressed (%s); Lambda rejects uncompressed layers (UnsupportedImageLayerDetected): gzip it", name, mt))
		case !mt.IsDistributable():
			probs = append(probs, fmt.Sprintf("%s is a foreign, non-distributable layer (%s)", name, mt))
		default:
			probs = append(probs, fmt.Sprintf("%s has media type %q, not a gzip-compressed layer", name, mt))
		}
	}
	var scans []*layerScan
	if declared := c.declaredSize(); declared > c.v.maxSize {
		c.fsErr = fmt.Errorf("%w: the layers alone are %s, over the size limit", errNotChecked, human(declared))
	} else if ls, err := c.img.Layers(); err != nil {
		c.fsErr = fmt.Errorf("%w: %v", errNotChecked, err)
		probs = append(probs, fmt.Sprintf("reading the layers: %v", err))
	} else {
		for i, l := range ls {
			s, err := c.v.scan(ctx, l)
			if err != nil {
				c.fsErr = fmt.Errorf("%w: layer %d could not be read", errNotChecked, i+1)
				probs = append(probs, fmt.Sprintf("layer %d (%s): %v", i+1, short(c.m.Layers[i].Digest), err))
				scans = nil
				break
			}
			want := "gzip"
			if mt := c.m.Layers[i].MediaType; strings.Contains(string(mt), "zstd") {
				want = "zstd"
			} else if mt == types.OCIUncompressedLayer || mt == types.DockerUncompressedLayer {
				want = "tar"
			}
			if s.format != want {
				probs = append(probs, fmt.Sprintf("layer %d (%s) says %s but its bytes are %s", i+1, short(c.m.Layers[i].Digest), c.m.Layers[i].MediaType, s.format))
			}
			if ids := c.cfg.RootFS.DiffIDs; i < len(ids) && ids[i] != s.diffID {
				probs = append(probs, fmt.Sprintf("layer %d (%s) unpacks to %s but the config's diff_id %d is %s; Lambda rejects the image", i+1, short(c.m.Layers[i].Digest), short(s.diffID), i+1, short(ids[i])))
			}
			scans = append(scans, s)
		}
		if scans != nil {
			c.fs = merge(scans)
			c.rep.layersIntact = true
			for i, s := range scans {
				if d := c.m.Layers[i]; s.blob != d.Digest || s.blobSize != d.Size {
					c.rep.layersIntact = false
				}
			}
		}
	}
	if len(probs) > 0 {
		c.rep.add("layers", Fail, "%s", strings.Join(probs, "; "))
	} else {
		c.rep.add("layers", Pass, "%d gzip-compressed layers", len(c.m.Layers))
	}
	return scans
}

func (c *imageChecks) declaredSize() int64 {
	n := c.m.Config.Size
	for _, d := range c.m.Layers {
		n += d.Size
	}
	return n
}

func (c *imageChecks) size(scans []*layerScan) {
	declared := c.declaredSize()
	limit := human(c.v.maxSize)
	if declared > c.v.maxSize {
		c.rep.add("size", Fail, "compressed layers and config are %s, over Lambda's %s uncompressed limit already", human(declared), limit)
		return
	}
	if scans == nil {
		c.rep.add("size", Warn, "layers not read; compressed size %s of the %s uncompressed limit", human(declared), limit)
		return
	}
	var n int64
	for _, s := range scans {
		n += s.size
	}
	if n > c.v.maxSize {
		c.rep.add("size", Fail, "uncompressed size %s is over Lambda's %s limit", human(n), limit)
		return
	}
	c.rep.add("size", Pass, "%s uncompressed (%s compressed) of %s", human(n), human(declared), limit)
}

func (c *imageChecks) settings() {
	cc := c.cfg.Config
	b, err := json.Marshal(struct {
		EntryPoint       []string
		Command          []string
		WorkingDirectory string
		Environment      []string
	}{cc.Entrypoint, cc.Cmd, cc.WorkingDir, cc.Env})
	if err != nil {
		c.rep.add("settings", Fail, "%v", err)
		return
	}
	var probs []string
	if len(b) > c.v.maxSettings {
		probs = append(probs, fmt.Sprintf("ENTRYPOINT, CMD, WORKDIR and ENV take %d bytes, over Lambda's %d", len(b), c.v.maxSettings))
	}
	if n := len(cc.Entrypoint); n > 1500 {
		probs = append(probs, fmt.Sprintf("ENTRYPOINT has %d items, over Lambda's 1500", n))
	}
	if n := len(cc.Cmd); n > 1500 {
		probs = append(probs, fmt.Sprintf("CMD has %d items, over Lambda's 1500", n))
	}
	if n := len(cc.WorkingDir); n > 1000 {
		probs = append(probs, fmt.Sprintf("WORKDIR is %d characters, over Lambda's 1000", n))
	}
	if len(probs) > 0 {
		c.rep.add("settings", Fail, "%s", strings.Join(probs, "; "))
		return
	}
	c.rep.add("settings", Pass, "ENTRYPOINT, CMD, WORKDIR and ENV take %d of %d bytes", len(b), c.v.maxSettings)
}

func (c *imageChecks) contract() {
	labelled, awsEP := c.base()
	sev, why := Warn, "(a warning: this image neither is a lambdaimg base image nor uses "+EntrypointScript+")"
	if labelled || awsEP {
		sev, why = Fail, ""
	}
	env := map[string]string{}
	for _, e := range c.cfg.Config.Env {
		if k, v, ok := strings.Cut(e, "="); ok {
			env[k] = v
		}
	}
	var probs []string
	for _, kv := range [][2]string{{"LAMBDA_TASK_ROOT", "/var/task"}, {"LAMBDA_RUNTIME_DIR", "/var/runtime"}} {
		if got, ok := env[kv[0]]; !ok {
			probs = append(probs, kv[0]+" is not set")
		} else if got != kv[1] {
			probs = append(probs, fmt.Sprintf("%s is %q", kv[0], got))
		}
	}
	if len(probs) > 0 {
		c.rep.add("contract-env", sev, "%s; want LAMBDA_TASK_ROOT=/var/task and LAMBDA_RUNTIME_DIR=/var/runtime %s", strings.Join(probs, ", "), why)
	} else {
		c.rep.add("contract-env", Pass, "LAMBDA_TASK_ROOT=/var/task, LAMBDA_RUNTIME_DIR=/var/runtime")
	}
	if wd := path.Clean("/" + c.cfg.Config.WorkingDir); c.cfg.Config.WorkingDir == "" || wd != "/var/task" {
		c.rep.add("contract-workdir", sev, "WORKDIR is %q, want /var/task %s", c.cfg.Config.WorkingDir, why)
	} else {
		c.rep.add("contract-workdir", Pass, "WORKDIR /var/task")
	}
	if c.fs == nil {
		c.rep.add("contract-entrypoint-script", Warn, "%v", c.fsErr)
		return
	}
	switch f, _ := c.fs.lookup(EntrypointScript, true); {
	case f == nil:
		c.rep.add("contract-entrypoint-script", sev, "%s is missing %s", EntrypointScript, why)
	case f.typ != tar.TypeReg || f.mode&0o111 == 0:
		c.rep.add("contract-entrypoint-script", sev, "%s is not an executable file %s", EntrypointScript, why)
	default:
		c.rep.add("contract-entrypoint-script", Pass, "%s is present and executable", EntrypointScript)
	}
}

func short(h v1.Hash) string {
	if len(h.Hex) > 12 {
		return h.Algorithm + ":" + h.Hex[:12]
	}
	return h.String()
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
