package verify

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/lambdaimg/lambdaimg/internal/layerscan"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
)

type F = registrytest.File

func layer(t *testing.T, files ...F) v1.Layer {
	t.Helper()
	l, err := registrytest.Layer(types.OCILayer, files...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// statuses renders a report as name -> status.
func statuses(r Report) map[string]Status {
	out := map[string]Status{}
	for _, c := range r.Checks {
		out[c.Name] = c.Status
	}
	return out
}

// allPass is a good base image's report: every check passes, and a
// missing CMD is a warning for a labelled base image.
func allPass() map[string]Status {
	return map[string]Status{
		"manifest": Pass, "config": Pass, "platform": Pass, "layers": Pass, "size": Pass, "settings": Pass,
		"entrypoint": Pass, "cmd": Warn, "binary-arch": Pass,
		"contract-env": Pass, "contract-workdir": Pass, "contract-entrypoint-script": Pass,
	}
}

// mtLayer gives a layer another media type.
type mtLayer struct {
	v1.Layer
	mt types.MediaType
}

func (m mtLayer) MediaType() (types.MediaType, error) { return m.mt, nil }

// hugeImage declares its first layer 11 GiB.
type hugeImage struct{ v1.Image }

func (h hugeImage) Manifest() (*v1.Manifest, error) {
	m, err := h.Image.Manifest()
	if err != nil {
		return nil, err
	}
	m = m.DeepCopy()
	m.Layers[0].Size = 11 << 30
	return m, nil
}

func TestImage(t *testing.T) {
	zstdLayer, err := registrytest.ZstdLayer(F{Path: "var/task/app.txt", Data: []byte("hi")})
	if err != nil {
		t.Fatal(err)
	}
	rawLayer, err := registrytest.UncompressedLayer(F{Path: "var/task/app.txt", Data: []byte("hi")})
	if err != nil {
		t.Fatal(err)
	}
	goBinary := layer(t, F{Path: "main", Mode: 0o755, Data: registrytest.FakeELF("arm64")})
	tests := []struct {
		name    string
		spec    registrytest.ImageSpec
		wrap    func(v1.Image) v1.Image
		opts    []Option
		changed map[string]Status // differences from allPass
		reasons map[string]string // check -> substring of its reason
	}{
		{name: "a good base image", spec: registrytest.ImageSpec{Arch: "x86_64"}},
		{name: "a good function image (Docker media types)", spec: registrytest.ImageSpec{Arch: "arm64", Docker: true, Cmd: []string{"app.handler"}},
			changed: map[string]Status{"cmd": Pass}, reasons: map[string]string{"manifest": "application/vnd.docker.distribution.manifest.v2+json", "binary-arch": "/lambda-entrypoint.sh (/bin/sh), /var/runtime/bootstrap, /usr/local/bin/aws-lambda-rie: ELF for arm64"}},
		{name: "config architecture disagrees with the binaries", spec: registrytest.ImageSpec{Arch: "arm64", ConfigArch: "amd64"},
			changed: map[string]Status{"binary-arch": Fail},
			reasons: map[string]string{"binary-arch": "the config says amd64 but /lambda-entrypoint.sh (/bin/sh) is an ELF for arm64 (EM_AARCH64); /var/runtime/bootstrap is an ELF for arm64"}},
		{name: "zstd layer", spec: registrytest.ImageSpec{Arch: "x86_64", ExtraLayers: []v1.Layer{zstdLayer}},
			changed: map[string]Status{"layers": Fail}, reasons: map[string]string{"layers": "is zstd-compressed (application/vnd.oci.image.layer.v1.tar+zstd); Lambda accepts gzip only"}},
		{name: "zstd bytes in a gzip layer", spec: registrytest.ImageSpec{Arch: "x86_64", ExtraLayers: []v1.Layer{mtLayer{zstdLayer, types.OCILayer}}},
			changed: map[string]Status{"layers": Fail}, reasons: map[string]string{"layers": "says application/vnd.oci.image.layer.v1.tar+gzip but its bytes are zstd"}},
		{name: "uncompressed layer", spec: registrytest.ImageSpec{Arch: "x86_64", ExtraLayers: []v1.Layer{rawLayer}},
			changed: map[string]Status{"layers": Fail}, reasons: map[string]string{"layers": "is uncompressed (application/vnd.oci.image.layer.v1.tar); Lambda rejects uncompressed layers"}},
		{name: "relative entrypoint", spec: registrytest.ImageSpec{Arch: "x86_64", Entrypoint: []string{"./main"}},
			changed: map[string]Status{"entrypoint": Fail, "contract-entrypoint-script": Pass}, reasons: map[string]string{"entrypoint": `ENTRYPOINT "./main" is a relative path`}},
		{name: "entrypoint missing", spec: registrytest.ImageSpec{Arch: "x86_64", Entrypoint: []string{"/main"}},
			changed: map[string]Status{"entrypoint": Fail}, reasons: map[string]string{"entrypoint": "ENTRYPOINT /main does not exist in the image"}},
		{name: "entrypoint is a symlink", spec: registrytest.ImageSpec{Arch: "x86_64", Entrypoint: []string{"/main"},
			ExtraLayers: []v1.Layer{layer(t, F{Path: "main", Link: "var/runtime/bootstrap"})}},
			changed: map[string]Status{"entrypoint": Fail}, reasons: map[string]string{"entrypoint": "ENTRYPOINT /main is a symlink to var/runtime/bootstrap"}},
		{name: "entrypoint not executable", spec: registrytest.ImageSpec{Arch: "x86_64", Entrypoint: []string{"/main"},
			ExtraLayers: []v1.Layer{layer(t, F{Path: "main", Mode: 0o644, Data: registrytest.FakeELF("x86_64")})}},
			changed: map[string]Status{"entrypoint": Fail}, reasons: map[string]string{"entrypoint": "not executable (mode 0644)"}},
		{name: "entrypoint deleted by a whiteout", spec: registrytest.ImageSpec{Arch: "x86_64",
			ExtraLayers: []v1.Layer{layer(t, F{Path: "lambda-entrypoint.sh", Whiteout: true})}},
			changed: map[string]Status{"entrypoint": Fail, "contract-entrypoint-script": Fail},
			reasons: map[string]string{"entrypoint": "/lambda-entrypoint.sh does not exist", "contract-entrypoint-script": "/lambda-entrypoint.sh is missing"}},
		{name: "a directory symlink on the way is followed", spec: registrytest.ImageSpec{Arch: "x86_64", Entrypoint: []string{"/app/main"},
			ExtraLayers: []v1.Layer{layer(t, F{Path: "app", Link: "/var/runtime"}, F{Path: "var/runtime/main", Mode: 0o755, Data: registrytest.FakeELF("x86_64")})}},
			reasons: map[string]string{"entrypoint": "/app/main (at /var/runtime/main) is an executable file"}},
		{name: "too big for the size threshold", spec: registrytest.ImageSpec{Arch: "x86_64",
			ExtraLayers: []v1.Layer{layer(t, F{Path: "var/task/zeros", Data: make([]byte, 100<<10)})}}, opts: []Option{WithMaxSize(64 << 10)},
			changed: map[string]Status{"size": Fail}, reasons: map[string]string{"size": "uncompressed size 115.5 KiB is over Lambda's 64.0 KiB limit"}},
		{name: "declared layer size over 10 GiB", spec: registrytest.ImageSpec{Arch: "x86_64"}, wrap: func(i v1.Image) v1.Image { return hugeImage{i} },
			changed: map[string]Status{"size": Fail, "entrypoint": Warn, "binary-arch": Warn, "contract-entrypoint-script": Warn},
			reasons: map[string]string{"size": "over Lambda's 10.00 GiB uncompressed limit already", "binary-arch": "not checked"}},
		{name: "settings over 16 KiB", spec: registrytest.ImageSpec{Arch: "x86_64", Env: append([]string{"BIG=" + strings.Repeat("x", 17000)}, registrytest.ContractEnv...)},
			changed: map[string]Status{"settings": Fail}, reasons: map[string]string{"settings": "over Lambda's 16384"}},
		{name: "base-image contract broken", spec: registrytest.ImageSpec{Arch: "x86_64", Env: []string{"LAMBDA_TASK_ROOT=/app"}, WorkingDir: "/app"},
			changed: map[string]Status{"contract-env": Fail, "contract-workdir": Fail},
			reasons: map[string]string{"contract-env": `LAMBDA_TASK_ROOT is "/app", LAMBDA_RUNTIME_DIR is not set`, "contract-workdir": `WORKDIR is "/app"`}},
		{name: "a Go function image: no CMD, no contract", spec: registrytest.ImageSpec{Arch: "arm64", Entrypoint: []string{"/main"}, Env: []string{"PATH=/bin"}, WorkingDir: "/", Labels: map[string]string{},
			ExtraLayers: []v1.Layer{goBinary}},
			changed: map[string]Status{"contract-env": Warn, "contract-workdir": Warn},
			reasons: map[string]string{"cmd": "fine if the entry point needs no handler", "binary-arch": "/main, /var/runtime/bootstrap"}},
		{name: "a function image without its handler", spec: registrytest.ImageSpec{Arch: "x86_64", Labels: map[string]string{}},
			changed: map[string]Status{"cmd": Fail}, reasons: map[string]string{"cmd": "/lambda-entrypoint.sh needs the handler"}},
		{name: "CMD required", spec: registrytest.ImageSpec{Arch: "x86_64"}, opts: []Option{WithCmdRule(CmdRequire)},
			changed: map[string]Status{"cmd": Fail}},
		{name: "CMD optional", spec: registrytest.ImageSpec{Arch: "x86_64"}, opts: []Option{WithCmdRule(CmdOptional)},
			changed: map[string]Status{"cmd": Pass}},
		{name: "not linux/amd64 or arm64", spec: registrytest.ImageSpec{Arch: "x86_64", ConfigArch: "s390x"},
			changed: map[string]Status{"platform": Fail, "binary-arch": Fail}, reasons: map[string]string{"platform": `architecture "s390x"`}},
		{name: "a #!/usr/bin/env script found through PATH", spec: registrytest.ImageSpec{Arch: "x86_64", Entrypoint: []string{"/run.sh"},
			ExtraLayers: []v1.Layer{layer(t, F{Path: "run.sh", Mode: 0o755, Data: []byte("#!/usr/bin/env sh\nexec true\n")},
				F{Path: "usr/bin/env", Mode: 0o755, Data: registrytest.FakeELF("x86_64")})}},
			reasons: map[string]string{"binary-arch": "/run.sh (/bin/sh)"}},
		// Issue 9 item 9: what Lambda or the kernel would reject.
		{name: "#! interpreter missing", spec: registrytest.ImageSpec{Arch: "x86_64", Entrypoint: []string{"/run.sh"},
			ExtraLayers: []v1.Layer{layer(t, F{Path: "run.sh", Mode: 0o755, Data: []byte("#!/usr/bin/python3.99\nprint(1)\n")})}},
			changed: map[string]Status{"entrypoint": Fail, "binary-arch": Pass},
			reasons: map[string]string{"entrypoint": "#! interpreter /usr/bin/python3.99 is not in the image"}},
		{name: "#!/usr/bin/env interpreter not in PATH", spec: registrytest.ImageSpec{Arch: "x86_64", Entrypoint: []string{"/run.sh"},
			ExtraLayers: []v1.Layer{layer(t, F{Path: "run.sh", Mode: 0o755, Data: []byte("#!/usr/bin/env node\n")},
				F{Path: "usr/bin/env", Mode: 0o755, Data: registrytest.FakeELF("x86_64")})}},
			changed: map[string]Status{"entrypoint": Fail},
			reasons: map[string]string{"entrypoint": "no node is in the image's PATH"}},
		{name: "#!/usr/bin/env missing", spec: registrytest.ImageSpec{Arch: "x86_64", Entrypoint: []string{"/run.sh"},
			ExtraLayers: []v1.Layer{layer(t, F{Path: "run.sh", Mode: 0o755, Data: []byte("#!/usr/bin/env sh\n")})}},
			changed: map[string]Status{"entrypoint": Fail},
			reasons: map[string]string{"entrypoint": "runs /usr/bin/env, which is not in the image"}},
		{name: "ENTRYPOINT a hard link to a missing file", spec: registrytest.ImageSpec{Arch: "x86_64", Entrypoint: []string{"/run"},
			ExtraLayers: []v1.Layer{layer(t, F{Path: "run", HardLink: "/gone/bootstrap"})}},
			changed: map[string]Status{"entrypoint": Fail},
			reasons: map[string]string{"entrypoint": "hard link to /gone/bootstrap, which is not in the image"}},
		{name: "ENTRYPOINT a hard link to a present file", spec: registrytest.ImageSpec{Arch: "x86_64", Entrypoint: []string{"/run"},
			ExtraLayers: []v1.Layer{layer(t, F{Path: "run", HardLink: "/var/runtime/bootstrap"})}}},
		{name: "diff_ids that do not match the layers", spec: registrytest.ImageSpec{Arch: "x86_64"},
			wrap:    swapDiffIDs(t),
			changed: map[string]Status{"layers": Fail},
			reasons: map[string]string{"layers": "config's diff_id 1 is"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Runtime = "python3.12"
			img, err := registrytest.Image(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wrap != nil {
				img = tc.wrap(img)
			}
			v, err := New(tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			rep := v.Image(context.Background(), "test", img, nil)
			want := allPass()
			for k, s := range tc.changed {
				want[k] = s
			}
			if diff := cmp.Diff(want, statuses(rep)); diff != "" {
				t.Errorf("statuses (-want +got):\n%s\nreport: %+v", diff, rep.Checks)
			}
			for name, sub := range tc.reasons {
				found := false
				for _, c := range rep.Checks {
					if c.Name == name {
						found = true
						if !strings.Contains(c.Reason, sub) {
							t.Errorf("%s: reason %q does not contain %q", name, c.Reason, sub)
						}
					}
				}
				if !found {
					t.Errorf("no %s check in %+v", name, rep.Checks)
				}
			}
			if rep.Failed() != (rep.Err() != nil) {
				t.Errorf("Failed() = %v but Err() = %v", rep.Failed(), rep.Err())
			}
		})
	}
}

func TestCheckNamesEveryFailure(t *testing.T) {
	img, err := registrytest.Image(registrytest.ImageSpec{Runtime: "go1.x", Arch: "arm64", ConfigArch: "amd64", Entrypoint: []string{"main"}})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := New()
	err = v.Check(context.Background(), img)
	if err == nil {
		t.Fatal("Check passed a broken image")
	}
	for _, want := range []string{"FAIL entrypoint: ENTRYPOINT \"main\" is a relative path", "FAIL binary-arch: the config says amd64"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

// TestLayersAreReadOnce: a layer several images share is decompressed
// and scanned once (its bytes are still hashed for each image: see
// TestDamagedCopyOfASharedLayer).
func TestLayersAreReadOnce(t *testing.T) {
	shared := layer(t, F{Path: "opt/shared", Data: []byte("shared")})
	v, _ := New()
	layerscan.Reset() // layers of other tests' images are the same
	before := layerscan.Decompressed()
	distinct := map[v1.Hash]bool{}
	for _, rt := range []string{"python3.12", "nodejs22.x", "ruby3.3"} {
		img, err := registrytest.Image(registrytest.ImageSpec{Runtime: rt, Arch: "x86_64", ExtraLayers: []v1.Layer{shared}})
		if err != nil {
			t.Fatal(err)
		}
		ls, _ := img.Layers()
		for _, l := range ls {
			d, _ := l.Digest()
			distinct[d] = true
		}
		if rep := v.Image(context.Background(), rt, img, nil); rep.Failed() {
			t.Errorf("%s: %v", rt, rep.Err())
		}
	}
	if n := layerscan.Decompressed() - before; n != int64(len(distinct)) {
		t.Errorf("%d layers decompressed for %d distinct layers", n, len(distinct))
	}
}

// damagedCopy holds other bytes than the layer whose digest and size it
// claims.
type damagedCopy struct {
	v1.Layer
	claims v1.Layer
}

func (d damagedCopy) Digest() (v1.Hash, error) { return d.claims.Digest() }
func (d damagedCopy) Size() (int64, error)     { return d.claims.Size() }

// TestDamagedCopyOfASharedLayer: an image whose copy of a layer is
// damaged fails, though an intact image with that layer passed just
// before (a stored image checked in the run that builds another on the
// same base).
func TestDamagedCopyOfASharedLayer(t *testing.T) {
	spec := registrytest.ImageSpec{Runtime: "python3.12", Arch: "x86_64"}
	img, err := registrytest.Image(spec)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := New()
	if rep := v.Image(context.Background(), "intact", img, nil); rep.Failed() {
		t.Fatalf("intact: %v", rep.Err())
	}
	ls, _ := img.Layers()
	other := layer(t, F{Path: "opt/other", Data: []byte("other")})
	ls[0] = damagedCopy{Layer: other, claims: ls[0]}
	cf, _ := img.ConfigFile()
	bad, err := mutate.AppendLayers(empty.Image, ls...)
	if err != nil {
		t.Fatal(err)
	}
	if bad, err = mutate.ConfigFile(bad, cf); err != nil {
		t.Fatal(err)
	}
	rep := v.Image(context.Background(), "damaged", bad, nil)
	if !rep.Failed() || !strings.Contains(rep.Err().Error(), "diff_id") {
		t.Errorf("the damaged copy: %v, want a diff_id failure", rep.Err())
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, opt := range []Option{WithMaxSize(0), WithMaxSettingsSize(-1), WithCmdRule("sometimes")} {
		if _, err := New(opt); err == nil {
			t.Error("an invalid option was accepted")
		}
	}
}

// swapDiffIDs returns the image with its first two diff_ids swapped: the
// counts still match, the digests do not.
func swapDiffIDs(t *testing.T) func(v1.Image) v1.Image {
	return func(img v1.Image) v1.Image {
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cfg = cfg.DeepCopy()
		ids := cfg.RootFS.DiffIDs
		ids[0], ids[1] = ids[1], ids[0]
		out, err := mutate.ConfigFile(img, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}
