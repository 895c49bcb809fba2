// Package ctxio stops reads when a context ends, for the readers lambdaimg
// drains in full (a catalog file, a base layer fetched into the blob pool)
// where the source itself does not watch the context.
package ctxio

import (
	"context"
	"io"
)

// Reader reads r until ctx ends; from then on each Read returns ctx's
// error without reading.
func Reader(ctx context.Context, r io.Reader) io.Reader { return reader{ctx, r} }

type reader struct {
	ctx context.Context
	r   io.Reader
}

func (c reader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
