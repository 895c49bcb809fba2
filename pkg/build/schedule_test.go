package build

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/render"
)

// Builders as the scheduler sees them: "full" builds amd64 natively and
// arm64 under emulation, "amd" only amd64, "arm" arm64 natively.
var (
	full = &buildkit.Conn{Addr: "full", Platforms: []string{"linux/amd64", "linux/arm64"}, Native: []string{"linux/amd64"}}
	amd  = &buildkit.Conn{Addr: "amd", Platforms: []string{"linux/amd64"}, Native: []string{"linux/amd64"}}
	arm  = &buildkit.Conn{Addr: "arm", Platforms: []string{"linux/arm64"}, Native: []string{"linux/arm64"}}
	// full2 is a second builder like full
	full2 = &buildkit.Conn{Addr: "full2", Platforms: []string{"linux/amd64", "linux/arm64"}, Native: []string{"linux/amd64"}}
)

// TestSchedule places jobs one after the other (none ends) and lists the
// builder each went to.
func TestSchedule(t *testing.T) {
	a, b, c, d := &render.Context{}, &render.Context{}, &render.Context{}, &render.Context{}
	cases := []struct {
		name   string
		conns  []*buildkit.Conn
		limits []int
		jobs   []Job
		bases  []string // each job's baseKey; none: ""
		want   []string
	}{
		{name: "arm64 only where it builds, amd64 beside it", conns: []*buildkit.Conn{full, amd},
			jobs: []Job{{Context: a, Arch: catalog.X86_64}, {Context: a, Arch: catalog.ARM64}}, want: []string{"amd", "full"}},
		{name: "the same, arm64 first", conns: []*buildkit.Conn{full, amd},
			jobs: []Job{{Context: a, Arch: catalog.ARM64}, {Context: a, Arch: catalog.X86_64}}, want: []string{"full", "amd"}},
		{name: "native arm64 before emulation", conns: []*buildkit.Conn{full, arm},
			jobs: []Job{{Context: a, Arch: catalog.ARM64}, {Context: b, Arch: catalog.ARM64}, {Context: a, Arch: catalog.X86_64}}, want: []string{"arm", "arm", "full"}},
		{name: "balanced, then by target", conns: []*buildkit.Conn{full, amd},
			jobs: []Job{{Context: a, Arch: catalog.X86_64}, {Context: b, Arch: catalog.X86_64}, {Context: b, Arch: catalog.X86_64}, {Context: a, Arch: catalog.X86_64}},
			want: []string{"amd", "full", "full", "amd"}},
		{name: "the only arm64 builder is kept for the arm64 jobs to come", conns: []*buildkit.Conn{full, amd},
			jobs: []Job{{Context: a, Arch: catalog.X86_64}, {Context: b, Arch: catalog.X86_64}, {Context: a, Arch: catalog.ARM64}, {Context: b, Arch: catalog.ARM64}},
			want: []string{"amd", "amd", "full", "full"}},
		{name: "jobs on one base for one platform go to one builder", conns: []*buildkit.Conn{full, full2},
			jobs:  []Job{{Context: a, Arch: catalog.X86_64}, {Context: b, Arch: catalog.X86_64}, {Context: a, Arch: catalog.ARM64}, {Context: b, Arch: catalog.ARM64}},
			bases: []string{"debian amd64", "debian amd64", "debian arm64", "debian arm64"},
			want:  []string{"full", "full", "full2", "full2"}},
		{name: "the same, the platforms in turn", conns: []*buildkit.Conn{full, full2},
			jobs:  []Job{{Context: a, Arch: catalog.X86_64}, {Context: a, Arch: catalog.ARM64}, {Context: b, Arch: catalog.X86_64}, {Context: b, Arch: catalog.ARM64}},
			bases: []string{"debian amd64", "debian arm64", "debian amd64", "debian arm64"},
			want:  []string{"full", "full2", "full", "full2"}},
		{name: "a base's jobs spread when one builder has two more", conns: []*buildkit.Conn{full, full2},
			jobs:  []Job{{Context: a, Arch: catalog.X86_64}, {Context: b, Arch: catalog.X86_64}, {Context: c, Arch: catalog.X86_64}, {Context: d, Arch: catalog.X86_64}},
			bases: []string{"debian amd64", "debian amd64", "debian amd64", "debian amd64"},
			want:  []string{"full", "full", "full2", "full2"}},
		{name: "job limit", conns: []*buildkit.Conn{amd, full}, limits: []int{1, 0},
			jobs: []Job{{Context: a, Arch: catalog.X86_64}, {Context: a, Arch: catalog.X86_64}, {Context: a, Arch: catalog.X86_64}}, want: []string{"amd", "full", "full"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScheduler(tc.conns, tc.limits)
			if tc.bases == nil {
				tc.bases = make([]string, len(tc.jobs))
			}
			var tickets []*ticket
			for _, j := range tc.jobs { // as runAll does: every job known first
				tickets = append(tickets, s.expect(j.Arch.Platform()))
			}
			var got []string
			for i, j := range tc.jobs {
				n, err := s.acquire(context.Background(), j, tc.bases[i], nil, tickets[i])
				if err != nil || n == nil {
					t.Fatalf("acquire %s: %v, %v", j.Arch, n, err)
				}
				got = append(got, n.conn.Addr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("placement (-want +got):\n%s", diff)
			}
		})
	}
}

// TestScheduleWaitsAndSkips: a job waits for a slot on a builder at its
// limit, and none is found for a platform no live builder builds.
func TestScheduleWaitsAndSkips(t *testing.T) {
	s := newScheduler([]*buildkit.Conn{amd}, []int{1})
	j := Job{Context: &render.Context{}, Arch: catalog.X86_64}
	n, _ := s.acquire(context.Background(), j, "", nil, nil)
	got := make(chan *node)
	go func() {
		m, _ := s.acquire(context.Background(), j, "", nil, nil)
		got <- m
	}()
	select {
	case <-got:
		t.Fatal("a second job took the only slot")
	case <-time.After(50 * time.Millisecond):
	}
	s.release(n)
	if m := <-got; m != n {
		t.Errorf("the waiting job went to %v", m)
	}
	if m, err := s.acquire(context.Background(), j, "", n, nil); m != nil || err != nil {
		t.Errorf("acquire without the only builder: %v, %v; want none", m, err)
	}
	if why := s.unserved("linux/arm64"); why == "" {
		t.Error("arm64 reported as served by an amd64-only pool")
	}
}

// TestTicketSettles: a job that ends without a builder (unchanged, failed
// before) withdraws its claim, and one placed does so only once.
func TestTicketSettles(t *testing.T) {
	s := newScheduler([]*buildkit.Conn{full, amd}, nil)
	placed, unchanged := s.expect("linux/arm64"), s.expect("linux/arm64")
	if _, err := s.acquire(context.Background(), Job{Context: &render.Context{}, Arch: catalog.ARM64}, "", nil, placed); err != nil {
		t.Fatal(err)
	}
	s.settle(placed) // runAll settles every job when it ends
	if got := s.pending["linux/arm64"]; got != 1 {
		t.Fatalf("pending arm64 after one placed = %d, want 1", got)
	}
	s.settle(unchanged)
	s.settle(unchanged)
	if got := s.pending["linux/arm64"]; got != 0 {
		t.Errorf("pending arm64 after both settled = %d, want 0", got)
	}
	n, _ := s.acquire(context.Background(), Job{Context: &render.Context{}, Arch: catalog.X86_64}, "", nil, nil)
	if n.conn != amd {
		t.Errorf("amd64 went to %s with nothing pending; want amd (fewest platforms)", n.conn.Addr)
	}
}
