package buildkit

import (
	"context"

	"github.com/moby/buildkit/client"
	"golang.org/x/sync/errgroup"
)

// PruneResult is what a prune removed from a daemon's build cache.
type PruneResult struct {
	Records int   `json:"records"`
	Bytes   int64 `json:"bytes"`
}

// Prune removes build cache from the daemon c is connected to. keep > 0
// keeps at most keep bytes (BuildKit drops the least recently used
// records first); keep == 0 removes every record not in use. all also
// removes records that BuildKit would otherwise keep because an image or
// a cache mount still refers to them.
func Prune(ctx context.Context, c *client.Client, keep int64, all bool) (PruneResult, error) {
	opts := []client.PruneOption{client.WithKeepOpt(0, 0, keep, 0)}
	if all {
		opts = append(opts, client.PruneAll)
	}
	ch := make(chan client.UsageInfo)
	var res PruneResult // written by the reader only, read after Wait
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(ch)
		return c.Prune(ctx, ch, opts...)
	})
	g.Go(func() error {
		for u := range ch {
			res.Records++
			res.Bytes += u.Size
		}
		return nil
	})
	err := g.Wait()
	return res, err
}
