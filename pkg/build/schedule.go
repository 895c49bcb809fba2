package build

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/render"
)

// node is one builder as the scheduler sees it.
type node struct {
	conn    *buildkit.Conn
	limit   int // jobs at once; 0: only Options.Jobs bounds them
	running int
	dead    error // why it stopped answering
	targets map[*render.Context]bool
	bases   map[string]bool // the bases (see baseKey) of the jobs placed here
}

func (n *node) free() bool { return n.limit == 0 || n.running < n.limit }

// scheduler places each job on a builder of the pool. Among the builders
// that answer and build the job's platform it picks, in order:
//
//  1. the ones that build it natively (the first platform of a worker's
//     list, which buildkitd fills with its host's platform before those it
//     emulates, or every platform a builder spec names); an emulating
//     builder only when none does. A job waits for a native builder with
//     a free slot rather than run emulated elsewhere.
//  2. one below its job limit, else the job waits;
//  3. the fewest jobs running plus jobs waiting for it alone (balance):
//     a builder that is the only one for some platform counts the jobs of
//     that platform not yet placed, so it is not filled with work that
//     others could do while those wait for it; and a builder that was
//     given a job on the same base images for the same platform counts one
//     job fewer: it pulls and unpacks those once, so jobs that share a base
//     go to one builder until it has two more than another (on two
//     builders, two targets on one base for amd64 and arm64 go one
//     platform to each, not one of each platform to both);
//  4. one that already built this target in this run: its stages that
//     run on the build platform are cached there;
//  5. the one that builds the fewest platforms, keeping the versatile
//     builders free for the jobs only they can build;
//  6. the first named.
type scheduler struct {
	mu      sync.Mutex
	nodes   []*node
	pending map[string]int // platform -> jobs expected and not yet placed
	changed chan struct{}  // closed and replaced when a slot frees or a node dies
}

func newScheduler(conns []*buildkit.Conn, limits []int) *scheduler {
	s := &scheduler{changed: make(chan struct{}), pending: map[string]int{}}
	for i, c := range conns {
		n := &node{conn: c, targets: map[*render.Context]bool{}, bases: map[string]bool{}}
		if i < len(limits) {
			n.limit = limits[i]
		}
		s.nodes = append(s.nodes, n)
	}
	return s
}

// candidates are the live nodes (but skip) that build platform; natively
// when any does.
func (s *scheduler) candidates(platform string, skip *node) []*node {
	var all, native []*node
	for _, n := range s.nodes {
		if n == skip || n.dead != nil || !n.conn.Supports(platform) {
			continue
		}
		all = append(all, n)
		if n.conn.IsNative(platform) {
			native = append(native, n)
		}
	}
	if len(native) > 0 {
		return native
	}
	return all
}

// unserved explains why no node builds platform, or is "" when one does.
func (s *scheduler) unserved(platform string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.candidates(platform, nil)) > 0 {
		return ""
	}
	var have []string
	for _, n := range s.nodes {
		if n.dead != nil {
			have = append(have, fmt.Sprintf("%s (stopped answering: %v)", n.conn.Addr, n.dead))
			continue
		}
		have = append(have, fmt.Sprintf("%s (%s)", n.conn.Addr, strings.Join(n.conn.Platforms, ", ")))
	}
	return fmt.Sprintf("no builder builds %s: %s", platform, strings.Join(have, "; "))
}

// A ticket stands for a job the scheduler expects but has not placed
// yet; see expect.
type ticket struct {
	platform string
	open     bool
}

// expect tells the scheduler that a job of platform will ask for a
// builder; settle (or the job's placement) withdraws it. Knowing the jobs
// to come keeps the only builder of a platform free for them.
func (s *scheduler) expect(platform string) *ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[platform]++
	return &ticket{platform: platform, open: true}
}

// settle withdraws t if its job was not placed (it was unchanged, failed
// or canceled before).
func (s *scheduler) settle(t *ticket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleLocked(t)
}

func (s *scheduler) settleLocked(t *ticket) {
	if t == nil || !t.open {
		return
	}
	t.open = false
	s.pending[t.platform]--
	s.notify()
}

// reserved counts the jobs not yet placed whose platform other than
// platform only n builds.
func (s *scheduler) reserved(n *node, platform string) int {
	count := 0
	for p, waiting := range s.pending {
		if p == platform || waiting <= 0 {
			continue
		}
		if c := s.candidates(p, nil); len(c) == 1 && c[0] == n {
			count += waiting
		}
	}
	return count
}

// baseKey names the base images of a job on one platform: its image
// arguments (as pulled) and its platform; "" when it pulls none.
func baseKey(images map[string]string, platform string) string {
	if len(images) == 0 {
		return ""
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(images)) {
		fmt.Fprintf(&b, "%s=%s ", k, images[k])
	}
	return b.String() + platform
}

// acquire waits for a node to run j, whose base images base names (see
// baseKey), on (not skip) and takes a slot on it; placing j settles its
// ticket t (nil for a retry). It returns nil when no live node builds j's
// platform.
func (s *scheduler) acquire(ctx context.Context, j Job, base string, skip *node, t *ticket) (*node, error) {
	platform := j.Arch.Platform()
	for {
		s.mu.Lock()
		cands := s.candidates(platform, skip)
		if len(cands) == 0 {
			s.mu.Unlock()
			return nil, nil
		}
		if n := s.pick(cands, j.Context, base, platform); n != nil {
			n.running++
			n.targets[j.Context] = true
			if base != "" {
				n.bases[base] = true
			}
			s.settleLocked(t)
			s.mu.Unlock()
			return n, nil
		}
		wait := s.changed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wait:
		}
	}
}

// pick chooses among candidates with a free slot (see scheduler).
func (s *scheduler) pick(cands []*node, target *render.Context, base, platform string) *node {
	var best *node
	bestLoad := 0
	for _, n := range cands {
		if !n.free() {
			continue
		}
		load := n.running + s.reserved(n, platform)
		if base != "" && n.bases[base] {
			load--
		}
		if best == nil || better(n, best, load, bestLoad, target) {
			best, bestLoad = n, load
		}
	}
	return best
}

func better(a, b *node, loadA, loadB int, target *render.Context) bool {
	if loadA != loadB {
		return loadA < loadB
	}
	if a.targets[target] != b.targets[target] {
		return a.targets[target]
	}
	return len(a.conn.Platforms) < len(b.conn.Platforms)
}

// release gives n's slot back.
func (s *scheduler) release(n *node) {
	s.mu.Lock()
	n.running--
	s.notify()
	s.mu.Unlock()
}

func (s *scheduler) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// probeTimeout bounds the check of a builder after a failed job.
var probeTimeout = 5 * time.Second

// alive asks n whether it still answers; one that does not is taken out
// of the pool for the rest of the run.
func (s *scheduler) alive(ctx context.Context, n *node) bool {
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	_, err := n.conn.ListWorkers(pctx)
	if err == nil || ctx.Err() != nil {
		return true
	}
	s.mu.Lock()
	if n.dead == nil {
		n.dead = err
	}
	s.notify()
	s.mu.Unlock()
	return false
}
