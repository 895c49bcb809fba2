package build

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lambdaimg/lambdaimg/internal/blobpool"
	"github.com/lambdaimg/lambdaimg/internal/ctxio"
	"github.com/lambdaimg/lambdaimg/internal/fileutil"

	"github.com/lambdaimg/lambdaimg/internal/layerscan"
	"github.com/lambdaimg/lambdaimg/internal/memo"
	"github.com/lambdaimg/lambdaimg/internal/usercache"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
	"github.com/lambdaimg/lambdaimg/pkg/registry"
	"github.com/opencontainers/go-digest"
)

// baseInventories reads the inventories of base images from their
// registries (go-containerregistry, not BuildKit), each reference and
// platform once per Build: which packages a base brings and which APT
// sources it has. Each is kept in dir by the image's manifest digest, so
// that a later Build reads only the manifest (an image's content does not
// change under its digest); "" keeps nothing.
type baseInventories struct {
	m      memo.Map[string, *inventory.Inventory]
	warmed memo.Map[string, struct{}]
	images memo.Map[string, v1.Image]
	dir    string
}

func newBaseInventories() *baseInventories {
	return &baseInventories{dir: usercache.Dir("inventories")}
}

// get returns the inventory of ref (as pulled: mirrors applied) for arch.
func (bi *baseInventories) get(ctx context.Context, ref string, arch catalog.Arch) (*inventory.Inventory, error) {
	return bi.m.Do(ref+" "+string(arch), func() (*inventory.Inventory, error) { return bi.read(ctx, ref, arch) })
}

// read reads the base image ref for arch: its manifest, then the
// inventory kept for its digest, or else its layers.
func (bi *baseInventories) read(ctx context.Context, ref string, arch catalog.Arch) (*inventory.Inventory, error) {
	img, err := bi.image(ctx, ref, arch)
	if err != nil {
		return nil, fmt.Errorf("reading the base image %s for its OS packages: %w", ref, err)
	}
	dgst, err := img.Digest()
	if err != nil {
		return nil, registry.ScrubError(fmt.Errorf("reading the base image %s for its OS packages: %w", ref, err))
	}
	kept := ""
	if bi.dir != "" {
		// By what Read understands, too: an inventory an older
		// lambdaimg kept may lack what this one reads (apk and rpm).
		kept = filepath.Join(bi.dir, dgst.Algorithm, dgst.Hex+"-r"+inventory.ReaderVersion+".json")
	}
	if inv, ok := readKept(kept); ok {
		inv.Ref = ref
		return inv, nil
	}
	// The inventory of the image its digest names, kept by that digest:
	// a layer scanned in this run (the base layer the read-ahead read,
	// or the built image's copy the verify gate read) is not fetched
	// again.
	inv, err := inventory.Read(ref, layerscan.NamedImage(img), nil)
	if err != nil {
		return nil, registry.ScrubError(err)
	}
	keep(kept, inv)
	return inv, nil
}

// image is remoteImage(ctx, ref, arch), read once per Build: the
// read-ahead (warm) and the inventory (get) of a base ask the registry for
// its manifest once between them. A failure is not kept: the next caller
// asks the registry again (the read-ahead's failures change nothing for
// the inventory).
func (bi *baseInventories) image(ctx context.Context, ref string, arch catalog.Arch) (v1.Image, error) {
	img, err := bi.images.Do(ref+" "+string(arch), func() (v1.Image, error) { return remoteImage(ctx, ref, arch) })
	if err != nil {
		return remoteImage(ctx, ref, arch)
	}
	return img, nil
}

// remoteImage is the image ref names for arch in its registry, read with
// lambdaimg's registry credentials and retries.
func remoteImage(ctx context.Context, ref string, arch catalog.Arch) (v1.Image, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	tr, err := registry.NewRetryTransport(remote.DefaultTransport)
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(r, remote.WithContext(ctx), remote.WithTransport(tr),
		remote.WithAuthFromKeychain(registry.Keychain()),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: arch.GoArch()}))
	return img, registry.ScrubError(err)
}

// warm reads the layers of the base image ref for arch (layerscan.Warm),
// once per Build: the built image's copies of them are then at most
// hashed, not decompressed, when the gates and the package record read
// them. Each layer pool lacks is fetched into pool first, so that the
// builder need not send it at the export (even when its scan is kept: the download
// runs beside the build, and a blob GET is not an image pull for a
// registry's rate limits), and read from there: the registry's pace never
// holds up a reader of the layer (see layerscan.Read). Its errors change
// nothing: those readers read the layers anyway.
func (bi *baseInventories) warm(ctx context.Context, ref string, arch catalog.Arch, pool *blobpool.Pool) {
	bi.warmed.Do(ref+" "+string(arch), func() (struct{}, error) {
		img, err := bi.image(ctx, ref, arch)
		if err != nil {
			return struct{}{}, err
		}
		ls, err := img.Layers()
		if err != nil {
			return struct{}{}, err
		}
		for _, l := range ls {
			if err := warmLayer(ctx, l, pool); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
}

// warmLayer warms l from pool, fetching it into pool first when pool lacks
// it.
func warmLayer(ctx context.Context, l v1.Layer, pool *blobpool.Pool) error {
	d, err := l.Digest()
	if err != nil {
		return err
	}
	size, err := l.Size()
	if err != nil {
		return err
	}
	dg := digest.Digest(d.String())
	if !pool.Has(dg, size) {
		if err := fetch(ctx, l, pool, dg, size); err != nil {
			return err
		}
	}
	return layerscan.Warm(ctx, pooled{Layer: l, pool: pool, d: dg, size: size})
}

// fetch writes l's compressed bytes to a new blob of the pool.
func fetch(ctx context.Context, l v1.Layer, pool *blobpool.Pool, d digest.Digest, size int64) error {
	w, err := pool.Writer(d, size)
	if err != nil {
		return err
	}
	rc, err := l.Compressed()
	if err != nil {
		w.Discard()
		return err
	}
	defer rc.Close()
	if _, err := io.Copy(w, ctxio.Reader(ctx, rc)); err != nil {
		w.Discard()
		return err
	}
	return w.Commit()
}

// pooled is a layer whose compressed bytes are read from a pool.
type pooled struct {
	v1.Layer
	pool *blobpool.Pool
	d    digest.Digest
	size int64
}

func (p pooled) Compressed() (io.ReadCloser, error) { return p.pool.Open(p.d, p.size) }

// readKept reads an inventory keep wrote; a missing or unreadable one is
// not kept.
func readKept(path string) (*inventory.Inventory, bool) {
	if path == "" {
		return nil, false
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	var inv inventory.Inventory
	return &inv, json.Unmarshal(data, &inv) == nil
}

// keep writes inv to path (through a temporary file, so that a reader
// never sees half of one); failing, it keeps nothing: the inventory is
// read from the image again next time.
func keep(path string, inv *inventory.Inventory) {
	if path == "" {
		return
	}
	data, err := json.Marshal(inv)
	if err != nil {
		return
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	if fileutil.Write(tmp, bytes.NewReader(data), 0o644) != nil || os.Rename(tmp, path) != nil {
		os.Remove(tmp)
	}
}
