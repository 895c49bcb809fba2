package build

import (
	"context"
	"fmt"
)

// buildOnPool runs j on a builder of the pool. When the build fails and
// its builder no longer answers (it died or disconnected), the job runs
// once more on another builder that builds its platform; the result says
// so. A build that fails on a builder that still answers is not retried:
// the failure is the job's.
func (b *Builder) buildOnPool(ctx context.Context, r Result, j Job, p *prepared, k string, disp *display, t *ticket) Result {
	base := baseKey(p.imageArgs, j.Arch.Platform())
	n, err := b.sched.acquire(ctx, j, base, nil, t)
	if err != nil {
		return r.fail(ctx, err)
	}
	if n == nil {
		return r.fail(ctx, fmt.Errorf("%s", b.sched.unserved(r.Platform)))
	}
	first := b.buildOn(ctx, r, j, p, k, disp, n)
	b.sched.release(n)
	if first.Status != Failed || ctx.Err() != nil || b.sched.alive(ctx, n) {
		return first
	}
	note := fmt.Sprintf("builder %s stopped answering during the build (%s)", n.conn.Addr, first.Reason)
	other, err := b.sched.acquire(ctx, j, base, n, nil)
	if err != nil || other == nil {
		first.Note = note + "; no other builder builds " + r.Platform
		return first
	}
	defer b.sched.release(other)
	second := b.buildOn(ctx, r, j, p, k, disp, other)
	second.Retried = true
	second.Note = note + "; retried on " + other.conn.Addr
	return second
}
