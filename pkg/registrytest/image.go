package registrytest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
)

// ELF machine numbers for the two Lambda architectures.
const (
	EMX86_64  = 62
	EMAArch64 = 183
)

// GoArch maps x86_64/amd64 and arm64/aarch64 to amd64 and arm64.
func GoArch(arch string) string {
	switch arch {
	case "x86_64", "amd64":
		return "amd64"
	case "arm64", "aarch64":
		return "arm64"
	}
	return arch
}

// FakeELF returns a 64-byte ELF64 little-endian executable header for arch
// (nothing else: enough for a reader of e_machine).
func FakeELF(arch string) []byte {
	b := make([]byte, 64)
	copy(b, "\x7fELF")
	b[4], b[5], b[6] = 2, 1, 1               // ELFCLASS64, ELFDATA2LSB, EV_CURRENT
	binary.LittleEndian.PutUint16(b[16:], 2) // ET_EXEC
	m := uint16(EMX86_64)
	if GoArch(arch) == "arm64" {
		m = EMAArch64
	}
	binary.LittleEndian.PutUint16(b[18:], m)
	binary.LittleEndian.PutUint32(b[20:], 1)
	return b
}

// File is one entry of a test layer.
type File struct {
	Path string // absolute or relative; stored without the leading slash
	Mode int64  // default 0644 for files, 0755 for directories
	Data []byte
	Link string // non-empty: a symlink to Link
	// HardLink non-empty: a hard link to the file at HardLink (which need
	// not exist, to make a broken image).
	HardLink string
	Dir      bool
	// Whiteout: an OCI whiteout (.wh.NAME) hiding Path in lower layers.
	Whiteout bool
}

// Tar returns the uncompressed tar of files, in the order given, with
// zero timestamps.
func Tar(files ...File) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		name := strings.TrimPrefix(f.Path, "/")
		h := &tar.Header{Name: name, Mode: f.Mode, ModTime: time.Unix(0, 0).UTC(), Format: tar.FormatPAX}
		switch {
		case f.Whiteout:
			dir, base := "", name
			if i := strings.LastIndex(name, "/"); i >= 0 {
				dir, base = name[:i+1], name[i+1:]
			}
			h.Name, h.Typeflag = dir+".wh."+base, tar.TypeReg
		case f.Dir:
			h.Typeflag, h.Name = tar.TypeDir, strings.TrimSuffix(name, "/")+"/"
			if h.Mode == 0 {
				h.Mode = 0o755
			}
		case f.HardLink != "":
			h.Typeflag, h.Linkname = tar.TypeLink, strings.TrimPrefix(f.HardLink, "/")
			if h.Mode == 0 {
				h.Mode = 0o755
			}
		case f.Link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, f.Link
			if h.Mode == 0 {
				h.Mode = 0o777
			}
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Data))
			if h.Mode == 0 {
				h.Mode = 0o644
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg && len(f.Data) > 0 {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Layer returns a gzip-compressed layer of files with media type mt
// (types.OCILayer or types.DockerLayer). The same files give the same digest.
func Layer(mt types.MediaType, files ...File) (v1.Layer, error) {
	t, err := Tar(files...)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(t); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return fromBytes(buf.Bytes(), mt)
}

// ZstdLayer returns a zstd-compressed OCI layer of files.
func ZstdLayer(files ...File) (v1.Layer, error) {
	t, err := Tar(files...)
	if err != nil {
		return nil, err
	}
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		return nil, err
	}
	return fromBytes(enc.EncodeAll(t, nil), types.OCILayerZStd)
}

// UncompressedLayer returns an uncompressed OCI layer of files.
func UncompressedLayer(files ...File) (v1.Layer, error) {
	t, err := Tar(files...)
	if err != nil {
		return nil, err
	}
	return static.NewLayer(t, types.OCIUncompressedLayer), nil
}

func fromBytes(b []byte, mt types.MediaType) (v1.Layer, error) {
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(mt))
}

// filler returns n deterministic, incompressible bytes for key.
func filler(key string, n int) []byte {
	var seed uint64
	for _, c := range key {
		seed = seed*131 + uint64(c)
	}
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b
}

var layerCache sync.Map // string -> v1.Layer

func cachedLayer(key string, build func() (v1.Layer, error)) (v1.Layer, error) {
	if l, ok := layerCache.Load(key); ok {
		return l.(v1.Layer), nil
	}
	l, err := build()
	if err != nil {
		return nil, err
	}
	layerCache.Store(key, l)
	return l, nil
}

// BaseLayer is the "operating system" layer every image of arch shares:
// /bin/sh and the emulator as ELF files of arch, /etc/os-release, and size
// bytes of filler.
func BaseLayer(mt types.MediaType, arch string, size int) (v1.Layer, error) {
	key := fmt.Sprintf("base/%s/%s/%d", mt, GoArch(arch), size)
	return cachedLayer(key, func() (v1.Layer, error) {
		return Layer(mt,
			File{Path: "bin", Dir: true},
			File{Path: "bin/sh", Mode: 0o755, Data: FakeELF(arch)},
			File{Path: "etc", Dir: true},
			File{Path: "etc/os-release", Data: []byte("ID=registrytest\n")},
			File{Path: "usr/local/bin", Dir: true},
			File{Path: "usr/local/bin/aws-lambda-rie", Mode: 0o755, Data: FakeELF(arch)},
			File{Path: "usr/lib/filler", Data: filler(key, size)},
		)
	})
}

// CommonLayer is a layer every image shares, whatever its architecture.
func CommonLayer(mt types.MediaType) (v1.Layer, error) {
	return cachedLayer("common/"+string(mt), func() (v1.Layer, error) {
		return Layer(mt,
			File{Path: "opt/extensions", Dir: true},
			File{Path: "var/task", Dir: true},
			File{Path: "etc/lambdaimg-common", Data: []byte("shared by every image\n")},
		)
	})
}

// EntrypointScript is the /lambda-entrypoint.sh of test images.
const EntrypointScript = "#!/bin/sh\nexport _HANDLER=\"$1\"\nexec /var/runtime/bootstrap\n"

// ContractEnv is the environment of AWS's base images.
var ContractEnv = []string{
	"PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
	"LAMBDA_TASK_ROOT=/var/task",
	"LAMBDA_RUNTIME_DIR=/var/runtime",
}

// ImageSpec describes a Lambda-shaped test image. Only Runtime and Arch
// are required.
type ImageSpec struct {
	Runtime string // e.g. python3.12: names the runtime layer's content
	Arch    string // x86_64 or arm64
	// Docker selects Docker v2 schema 2 media types instead of OCI ones.
	Docker bool
	// BaseSize and Size are filler bytes in the shared base layer and in
	// the runtime layer.
	BaseSize, Size int
	// Overrides of the config; nil or "" means the Lambda default.
	ConfigArch  string
	Entrypoint  []string // default ["/lambda-entrypoint.sh"]
	Cmd         []string
	Env         []string          // default ContractEnv
	WorkingDir  string            // default /var/task
	Labels      map[string]string // default io.lambdaimg.runtime=Runtime
	ExtraLayers []v1.Layer        // on top of the runtime layer
}

// Image builds the image spec describes: base layer, common layer, a
// runtime layer with /lambda-entrypoint.sh and /var/runtime/bootstrap (an
// ELF of Arch), then ExtraLayers.
func Image(spec ImageSpec) (v1.Image, error) {
	mt, manifestMT, configMT := types.OCILayer, types.OCIManifestSchema1, types.OCIConfigJSON
	if spec.Docker {
		mt, manifestMT, configMT = types.DockerLayer, types.DockerManifestSchema2, types.DockerConfigJSON
	}
	base, err := BaseLayer(mt, spec.Arch, spec.BaseSize)
	if err != nil {
		return nil, err
	}
	common, err := CommonLayer(mt)
	if err != nil {
		return nil, err
	}
	rt, err := cachedLayer(fmt.Sprintf("rt/%s/%s/%s/%d", mt, spec.Runtime, GoArch(spec.Arch), spec.Size), func() (v1.Layer, error) {
		return Layer(mt,
			File{Path: "lambda-entrypoint.sh", Mode: 0o755, Data: []byte(EntrypointScript)},
			File{Path: "var/runtime", Dir: true},
			File{Path: "var/runtime/bootstrap", Mode: 0o755, Data: FakeELF(spec.Arch)},
			File{Path: "var/lang", Dir: true},
			File{Path: "var/lang/" + spec.Runtime + ".txt", Data: append([]byte(spec.Runtime+"\n"), filler(spec.Runtime+spec.Arch, spec.Size)...)},
		)
	})
	if err != nil {
		return nil, err
	}
	cfg := &v1.ConfigFile{
		Architecture: GoArch(spec.Arch),
		OS:           "linux",
		Created:      v1.Time{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		Config: v1.Config{
			Entrypoint: []string{"/lambda-entrypoint.sh"},
			Cmd:        spec.Cmd,
			Env:        ContractEnv,
			WorkingDir: "/var/task",
			Labels:     map[string]string{"io.lambdaimg.runtime": spec.Runtime},
		},
	}
	if spec.ConfigArch != "" {
		cfg.Architecture = spec.ConfigArch
	}
	if spec.Entrypoint != nil {
		cfg.Config.Entrypoint = spec.Entrypoint
	}
	if spec.Env != nil {
		cfg.Config.Env = spec.Env
	}
	if spec.WorkingDir != "" {
		cfg.Config.WorkingDir = spec.WorkingDir
	}
	if spec.Labels != nil {
		cfg.Config.Labels = spec.Labels
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, manifestMT), configMT)
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return nil, err
	}
	return mutate.AppendLayers(img, append([]v1.Layer{base, common, rt}, spec.ExtraLayers...)...)
}
