package layerscan

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Named wraps l for a reader that describes the content l's digest names
// and does not check l's bytes: Read gives it the scan kept in this
// process for that digest (read from intact bytes, or checked against
// them) without hashing l's bytes again. Without one, Read reads l as
// usual. A scan kept only on disk is still used only after l's bytes
// hash to its digest.
//
// The build uses it where the bytes are checked elsewhere or not used:
// the package record of a built image (the store takes in only blobs that
// hash to their digests, hashed by it or as they were written in this run
// (package hashed), before the record is stored with the image; a damaged
// blob fails there) and the inventory of a base image (the image its manifest
// digest names; no blob of it is stored).
func Named(l v1.Layer) v1.Layer { return named{l} }

type named struct{ v1.Layer }

// NamedImage is img with each of its layers Named (Layers only).
func NamedImage(img v1.Image) v1.Image { return namedImage{img} }

type namedImage struct{ v1.Image }

func (i namedImage) Layers() ([]v1.Layer, error) {
	ls, err := i.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for j, l := range ls {
		out[j] = Named(l)
	}
	return out, nil
}

// Intact wraps l, whose compressed bytes the caller knows to hash to l's
// digest (hashed in this process as they were written or checked: package
// hashed), so that Read gives it the scan kept for that digest, in this
// process or on disk, without hashing its bytes again. Without a kept
// scan, l is read, and hashed, as any layer: a scan is kept, and saved for
// other processes, only as the scan of the bytes it was read from.
func Intact(l v1.Layer) v1.Layer { return intact{l} }

type intact struct{ v1.Layer }
