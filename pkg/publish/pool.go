package publish

import (
	"context"
	"sync"
)

// pool runs functions with bounded concurrency and stops at the first
// error. A running function may start more.
type pool struct {
	ctx    context.Context
	cancel context.CancelFunc
	sem    chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
}

func newPool(ctx context.Context, n int) *pool {
	ctx, cancel := context.WithCancel(ctx)
	return &pool{ctx: ctx, cancel: cancel, sem: make(chan struct{}, n)}
}

// Go runs f when a slot is free, unless the pool has failed by then.
func (p *pool) Go(f func(ctx context.Context) error) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		select {
		case p.sem <- struct{}{}:
		case <-p.ctx.Done():
			p.fail(p.ctx.Err())
			return
		}
		defer func() { <-p.sem }()
		if err := p.ctx.Err(); err != nil {
			p.fail(err)
			return
		}
		if err := f(p.ctx); err != nil {
			p.fail(err)
		}
	}()
}

func (p *pool) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
		p.cancel()
	}
}

// Wait waits for every function and returns the first error.
func (p *pool) Wait() error {
	p.wg.Wait()
	p.cancel()
	return p.err
}
