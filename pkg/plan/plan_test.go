package plan

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// noBuildKit points BUILDKIT_HOST at a listener that counts connections:
// a plan must make none.
func noBuildKit(t *testing.T) *atomic.Int64 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	t.Setenv("BUILDKIT_HOST", "tcp://"+l.Addr().String())
	return &n
}

type summaryItem struct {
	Target, Platform string
	Kinds            []string
}

func summarize(p *Plan) []summaryItem {
	var out []summaryItem
	for _, it := range p.Rebuild() {
		s := summaryItem{Target: it.Target, Platform: it.Platform}
		for _, r := range it.Reasons {
			s.Kinds = append(s.Kinds, r.Kind)
		}
		out = append(out, s)
	}
	return out
}

var twoRuntimes = catalog.Selector{Runtimes: []string{"python3.12", "nodejs22.x"}}

func TestNothingMoved(t *testing.T) {
	bk := noBuildKit(t)
	f := newFixture(t, twoRuntimes)
	p, err := f.planner(t).Plan(context.Background(), f.targets)
	if err != nil {
		t.Fatal(err)
	}
	if got := summarize(p); len(got) != 0 {
		t.Errorf("rebuild = %+v, want nothing", got)
	}
	if err := p.Err(); err != nil {
		t.Errorf("Err = %v, want nil (exit 0)", err)
	}
	if len(p.Items) != 4 {
		t.Errorf("%d items, want 4 (2 runtimes x 2 platforms)", len(p.Items))
	}
	// One HEAD per distinct base reference, nothing else.
	refs := map[string]bool{}
	for _, tg := range f.targets {
		refs[f.mirror(t, tg.Spec.Base)] = true
		refs[f.mirror(t, tg.Spec.BuildBase)] = true
	}
	heads := 0
	for _, e := range f.reg.Log().Entries() {
		switch {
		case e.Method == http.MethodHead:
			heads++
		case e.Method == http.MethodGet && e.Path == "/v2/":
			// the client's ping, once per registry
		default:
			t.Errorf("request %s %s: want only HEAD requests", e.Method, e.Path)
		}
	}
	if heads != len(refs) {
		t.Errorf("%d HEAD requests, want %d (one per base reference)", heads, len(refs))
	}
	if n := bk.Load(); n != 0 {
		t.Errorf("%d connections to BuildKit, want none", n)
	}
}

func TestBaseMovedForARM64Only(t *testing.T) {
	bk := noBuildKit(t)
	f := newFixture(t, twoRuntimes)
	var py *catalog.Target
	for i := range f.targets {
		if f.targets[i].Runtime.ID == "python3.12" {
			py = &f.targets[i]
		}
	}
	f.push(t, f.mirror(t, py.Spec.Base), 1) // a new arm64 image; amd64 as it was

	p, err := f.planner(t).Plan(context.Background(), f.targets)
	if err != nil {
		t.Fatal(err)
	}
	// Every target on that base, on arm64 only: here python3.12's and
	// nodejs22.x's default variants share it.
	moved := f.mirror(t, py.Spec.Base)
	var want []summaryItem
	for _, tg := range f.targets {
		var kinds []string
		for _, b := range []string{tg.Spec.Base, tg.Spec.BuildBase} {
			if f.mirror(t, b) == moved {
				kinds = append(kinds, "base")
			}
		}
		if kinds != nil {
			want = append(want, summaryItem{Target: tg.Name(), Platform: "linux/arm64", Kinds: kinds})
		}
	}
	if len(want) != 2 {
		t.Fatalf("the fixture changed: %d targets on %s, want 2", len(want), moved)
	}
	if diff := cmp.Diff(want, summarize(p)); diff != "" {
		t.Errorf("rebuild (-want +got):\n%s", diff)
	}
	if err := p.Err(); !errors.Is(err, ErrChanged) {
		t.Errorf("Err = %v, want ErrChanged (exit 10)", err)
	}
	var matrix bytes.Buffer
	if err := p.WriteMatrix(&matrix); err != nil {
		t.Fatal(err)
	}
	wantMatrix := `{"include":[{"runtime":"python3.12","variant":"al2023","platform":"linux/arm64","runner":"ubuntu-24.04-arm"},` +
		`{"runtime":"nodejs22.x","variant":"al2023","platform":"linux/arm64","runner":"ubuntu-24.04-arm"}]}` + "\n"
	if diff := cmp.Diff(wantMatrix, matrix.String()); diff != "" {
		t.Errorf("matrix (-want +got):\n%s", diff)
	}
	if n := bk.Load(); n != 0 {
		t.Errorf("%d connections to BuildKit, want none", n)
	}
}

func TestInputsRICAndNew(t *testing.T) {
	f := newFixture(t, twoRuntimes)
	var node *catalog.Target
	for i := range f.targets {
		if f.targets[i].Runtime.ID == "nodejs22.x" {
			node = &f.targets[i]
		}
	}
	// A template change shows as a new inputs digest; a RIC pin as both.
	e, _, err := f.store.Get(store.Ref{Runtime: "nodejs22.x", Variant: node.Variant, Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	img, err := f.store.Image(e)
	if err != nil {
		t.Fatal(err)
	}
	ann := e.Descriptor.Annotations
	ann[store.AnnInputs] = "sha256:old"
	if node.Spec.OS != catalog.AWS {
		ann["io.lambdaimg.ric"] = "0.0.1"
	}
	if _, err := f.store.Put(e.Ref, img, ann); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Remove(store.Ref{Runtime: "python3.12", Variant: f.targets[0].Variant, Arch: "arm64"}); err != nil {
		t.Fatal(err)
	}
	p, err := f.planner(t).Plan(context.Background(), f.targets)
	if err != nil {
		t.Fatal(err)
	}
	nodeKinds := []string{"inputs"}
	if node.Spec.OS != catalog.AWS {
		nodeKinds = append(nodeKinds, "ric")
	}
	want := []summaryItem{
		{Target: f.targets[0].Name(), Platform: "linux/arm64", Kinds: []string{"new"}},
		{Target: node.Name(), Platform: "linux/amd64", Kinds: nodeKinds},
	}
	if diff := cmp.Diff(want, summarize(p)); diff != "" {
		t.Errorf("rebuild (-want +got):\n%s", diff)
	}
}

func TestUnreachableRegistryIsAnError(t *testing.T) {
	f := newFixture(t, catalog.Selector{Runtimes: []string{"python3.12"}})
	for k := range f.mirrors {
		f.mirrors[k] = "127.0.0.1:1/none"
	}
	if _, err := f.planner(t).Plan(context.Background(), f.targets); err == nil {
		t.Fatal("a plan whose bases cannot be resolved succeeded")
	}
}
