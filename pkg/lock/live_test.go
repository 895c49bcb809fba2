package lock

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/pkg/pins"
)

// TestLockAsksRealRegistries locks the fixture's targets (bases from the
// in-process registry) with the checksums npm and PyPI publish. As in
// pkg/pins: skipped with -short unless CI=true; when a registry cannot be
// asked it fails under CI=true and skips otherwise.
func TestLockAsksRealRegistries(t *testing.T) {
	ci := os.Getenv("CI") == "true"
	if testing.Short() && !ci {
		t.Skip("-short: not asking public registries")
	}
	f := newFixture(t)
	checker, err := pins.NewChecker(nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLocker(f.tm, WithMirrors(f.mirrors), WithChecker(checker),
		WithRemoteOptions(remote.WithTransport(remote.DefaultTransport)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	got, err := l.Lock(ctx, f.targets, nil)
	if err != nil {
		if ci {
			t.Fatalf("CI=true and the lock could not be made: %v", err)
		}
		t.Skipf("could not ask the registries (offline?): %v", err)
	}
	want := map[string]string{"nodejs22.x/debian": "sha512-", "python3.12/debian": "sha256:"}
	for target, prefix := range want {
		ps := got.Targets[target].Packages
		if len(ps) != 1 || len(ps[0].Files) == 0 {
			t.Errorf("%s packages = %+v, want the RIC with its files", target, ps)
			continue
		}
		for _, fl := range ps[0].Files {
			if !strings.HasPrefix(fl.Checksum, prefix) || len(fl.Checksum) < len(prefix)+40 {
				t.Errorf("%s %s: checksum %q, want %s...", target, fl.Name, fl.Checksum, prefix)
			}
		}
		t.Logf("%s: %s@%s, %d files, first %s %s", target, ps[0].Name, ps[0].Version, len(ps[0].Files), ps[0].Files[0].Name, ps[0].Files[0].Checksum)
	}
}
