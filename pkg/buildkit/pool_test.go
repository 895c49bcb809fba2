package buildkit

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPoolForAndCheck(t *testing.T) {
	amd := &Conn{Addr: "amd", Platforms: []string{"linux/amd64", "linux/arm64"}, Native: []string{"linux/amd64"}}
	arm := &Conn{Addr: "arm", Platforms: []string{"linux/arm64"}, Native: []string{"linux/arm64"}}
	p := &Pool{Members: []Member{{Conn: amd}, {Spec: Spec{Addr: "down"}, Err: errDown}, {Conn: arm}}}
	got := map[string]string{}
	for _, pl := range []string{"linux/amd64", "linux/arm64", "linux/arm64/v8", "linux/riscv64"} {
		got[pl] = p.For(pl).Addr
	}
	want := map[string]string{"linux/amd64": "amd", "linux/arm64": "arm", "linux/arm64/v8": "arm", "linux/riscv64": "amd"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("For (-want +got):\n%s", diff)
	}
	if err := p.Check([]string{"linux/amd64", "linux/arm64"}); err != nil {
		t.Errorf("Check of served platforms: %v", err)
	}
	err := p.Check([]string{"linux/riscv64", "linux/amd64", "linux/riscv64"})
	if err == nil || !strings.Contains(err.Error(), "no reachable builder builds linux/riscv64; unreachable: down (connection refused)") {
		t.Errorf("Check of riscv64: %v", err)
	}
}

var errDown = errors.New("connection refused")
