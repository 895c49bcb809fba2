package buildkit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// SourcePool is the source of a builder named with --builder; a Spec's
// Source names the others (a config file, the catalog).
const SourcePool = "--builder"

// sourceOf is where sp was named.
func sourceOf(sp Spec) string {
	if sp.Source != "" {
		return sp.Source
	}
	return SourcePool
}

// Member is one builder of a Pool: its spec and, when it answered, its
// connection.
type Member struct {
	Spec Spec
	Conn *Conn // nil when unreachable
	Err  error // why it is unreachable
}

// Pool is every builder a run may use. The reachable ones are in
// Conns, in the order they were named.
type Pool struct {
	Members []Member
}

// Conns are the reachable builders.
func (p *Pool) Conns() []*Conn {
	var out []*Conn
	for _, m := range p.Members {
		if m.Conn != nil {
			out = append(out, m.Conn)
		}
	}
	return out
}

// For is the builder to run a platform's containers on: the first
// reachable one that builds it natively, else the first that emulates it,
// else the first reachable one.
func (p *Pool) For(platform string) *Conn {
	conns := p.Conns()
	for _, c := range conns {
		if c.IsNative(platform) {
			return c
		}
	}
	for _, c := range conns {
		if c.Supports(platform) {
			return c
		}
	}
	return conns[0]
}

// Close closes every connection.
func (p *Pool) Close() error {
	var errs []error
	for _, c := range p.Conns() {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// JobLimit is the job limit of a connection's spec (0: none).
func (p *Pool) JobLimit(c *Conn) int {
	for _, m := range p.Members {
		if m.Conn == c {
			return m.Spec.Jobs
		}
	}
	return 0
}

// ConnectPool connects to every builder in specs at once. With no specs it
// is the pool of one that Connect finds (the embedded daemon by default).
// An unreachable builder is reported through o.Logf and skipped; that is
// an error only when no builder answers, or when it was named for a
// platform that no reachable builder serves (Check finds the others).
func ConnectPool(ctx context.Context, specs []Spec, o Options) (*Pool, error) {
	o.defaults()
	if len(specs) == 0 {
		c, err := Connect(ctx, o)
		if err != nil {
			return nil, err
		}
		return &Pool{Members: []Member{{Spec: Spec{Addr: c.Addr}, Conn: c}}}, nil
	}
	p := &Pool{Members: dialAll(ctx, specs, o)}
	if err := ctx.Err(); err != nil {
		p.Close()
		return nil, fmt.Errorf("connecting to the builders: %w", err)
	}
	var errs []error
	for _, m := range p.Members {
		if m.Err != nil {
			errs = append(errs, m.Err)
			o.Logf("warning: skipping builder %s: %v", m.Spec.Addr, m.Err)
		}
	}
	if len(p.Conns()) == 0 {
		return nil, fmt.Errorf("%w: no builder answers:\n%w", ErrUnavailable, errors.Join(errs...))
	}
	var declared []string
	for _, m := range p.Members {
		if m.Conn == nil {
			declared = append(declared, m.Spec.Platforms...)
		}
	}
	if err := p.Check(declared); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Check returns an error naming each platform that no reachable builder
// serves, with the builders that did not answer.
func (p *Pool) Check(platforms []string) error {
	var missing []string
	seen := map[string]bool{}
	for _, pl := range platforms {
		if seen[pl] || p.serves(pl) {
			continue
		}
		seen[pl] = true
		missing = append(missing, pl)
	}
	if len(missing) == 0 {
		return nil
	}
	var down []string
	for _, m := range p.Members {
		if m.Conn == nil {
			down = append(down, fmt.Sprintf("%s (%v)", m.Spec.Addr, m.Err))
		}
	}
	msg := fmt.Sprintf("%v: no reachable builder builds %s", ErrUnavailable, strings.Join(missing, ", "))
	if len(down) > 0 {
		msg += "; unreachable: " + strings.Join(down, "; ")
	}
	return errors.New(msg)
}

func (p *Pool) serves(platform string) bool {
	for _, c := range p.Conns() {
		if c.Supports(platform) {
			return true
		}
	}
	return false
}

// dialAll dials every builder of specs at once: one member each, with its
// connection or the error that kept it from answering.
func dialAll(ctx context.Context, specs []Spec, o Options) []Member {
	members := make([]Member, len(specs))
	var wg sync.WaitGroup
	for i, sp := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := DialSpec(ctx, sp, o)
			members[i] = Member{Spec: sp, Conn: c, Err: err}
		}()
	}
	wg.Wait()
	return members
}
