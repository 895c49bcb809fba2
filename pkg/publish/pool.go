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

// task is a function of a graph; done is closed once it has run or was
// skipped (failed tells which).
type task struct {
	done   chan struct{}
	failed bool
}

// graph runs functions as soon as the tasks they depend on are done, all
// at once (concurrency is bounded where requests are made), and stops at
// the first error.
type graph struct {
	parent context.Context
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
}

func newGraph(ctx context.Context) *graph {
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	return &graph{parent: parent, ctx: ctx, cancel: cancel}
}

// after runs f once every task of deps (nil ones count as done) is done;
// if one of them failed, or the graph did, f is skipped.
func (g *graph) after(deps []*task, f func(ctx context.Context) error) *task {
	return g.run(deps, false, f)
}

// all runs f once every task of deps has succeeded, even if the graph
// failed meanwhile (f then runs with the graph's parent context): for
// steps that must all happen or none, such as moving the floating tags of
// a runtime variant whose manifests are all in place.
func (g *graph) all(deps []*task, f func(ctx context.Context) error) *task {
	return g.run(deps, true, f)
}

func (g *graph) run(deps []*task, whole bool, f func(ctx context.Context) error) *task {
	t := &task{done: make(chan struct{})}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer close(t.done)
		stop := g.ctx.Done()
		if whole {
			stop = nil // deps end either way
		}
		for _, d := range deps {
			if d == nil {
				continue
			}
			select {
			case <-d.done:
				if !d.failed {
					continue
				}
			case <-stop:
			}
			t.failed = true
			g.fail(g.ctx.Err())
			return
		}
		ctx := g.ctx
		if whole {
			ctx = g.parent
		} else if ctx.Err() != nil {
			t.failed = true
			g.fail(ctx.Err())
			return
		}
		if err := f(ctx); err != nil {
			t.failed = true
			g.fail(err)
		}
	}()
	return t
}

func (g *graph) fail(err error) {
	if err == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err == nil {
		g.err = err
		g.cancel()
	}
}

// wait waits for every task and returns the first error.
func (g *graph) wait() error {
	g.wg.Wait()
	g.cancel()
	return g.err
}
