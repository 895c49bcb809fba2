package publish

import (
	"bytes"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
)

// smallBlob is the size up to which a blob is sent in the POST that opens
// its upload (the OCI "single POST" upload): one request instead of two
// where the registry supports it, and little sent twice where it does not.
const smallBlob = 64 << 10

type blob struct {
	digest Hash
	size   int64
	// open returns the blob's bytes (a layer's compressed form).
	open func() (io.ReadCloser, error)
}

func layerBlob(l v1.Layer) (blob, error) {
	d, err := l.Digest()
	if err != nil {
		return blob{}, err
	}
	size, err := l.Size()
	if err != nil {
		return blob{}, err
	}
	return blob{digest: d, size: size, open: l.Compressed}, nil
}

func bytesBlob(b []byte) blob {
	h, n, _ := v1.SHA256(bytes.NewReader(b))
	return blob{digest: h, size: n, open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
}

// imageBlobs returns the config and the distributable layers of img.
func imageBlobs(img v1.Image) ([]blob, error) {
	cl, err := partial.ConfigLayer(img)
	if err != nil {
		return nil, err
	}
	ls, err := img.Layers()
	if err != nil {
		return nil, err
	}
	var out []blob
	for _, l := range append([]v1.Layer{cl}, ls...) {
		mt, err := l.MediaType()
		if err != nil {
			return nil, err
		}
		if !mt.IsDistributable() {
			continue
		}
		b, err := layerBlob(l)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
