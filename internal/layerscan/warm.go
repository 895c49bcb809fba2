package layerscan

import (
	"context"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Warm reads l now, so that a later Read of a layer with its digest (the
// same content reached another way) is at most a hash pass over that
// layer's bytes instead of a decompression. It does nothing when a scan of l's
// digest is kept already, in this process or on disk (KeepIn): the later
// Read uses that one. l's scan is kept only when its bytes hash to its
// digest, as with Read.
//
// The build warms the layers of a job's base image, fetched from the
// registry, while BuildKit builds the job: the verify gate then finds the
// scans of the built image's base layers ready.
func Warm(ctx context.Context, l v1.Layer) error {
	d, err := l.Digest()
	if err != nil {
		return err
	}
	if IsKept(d) {
		return nil
	}
	_, err = Read(ctx, l)
	return err
}

// IsKept reports whether a scan of the layer d is kept, in this process or
// on disk (KeepIn): a Read of a layer with that digest then at most hashes
// its bytes.
func IsKept(d v1.Hash) bool {
	cache.Lock()
	_, ok := cache.m[d]
	cache.Unlock()
	if ok {
		return true
	}
	if dir := diskDir(); dir != "" {
		if _, err := os.Stat(recordPath(dir, d)); err == nil {
			return true
		}
	}
	return false
}
