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
// the package record of a built image (the store hashes every blob it
// takes in before the record is stored with the image; a damaged blob
// fails there) and the inventory of a base image (the image its manifest
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
// digest (it saw them hashed in this process: package hashed), so that
// Read does not hash them again: a scan kept for the digest, in this
// process or on disk, is used as it is, and a read of l takes l's digest
// for its bytes' digest (the scan is kept as an intact layer's when the
// size agrees). Used on bytes that do not have l's digest, it keeps a
// wrong scan under that digest: only for files package hashed knows.
func Intact(l v1.Layer) v1.Layer { return intact{l} }

type intact struct{ v1.Layer }
