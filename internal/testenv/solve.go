package testenv

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"
)

// Check builds the Dockerfile text with files (name -> content, mode 0755)
// as its context and returns BuildKit's plain progress output, which holds
// what RUN steps printed. Nothing is exported: a check passes or fails.
func Check(t testing.TB, conn *buildkit.Conn, dockerfile string, files map[string][]byte, attrs map[string]string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fsys, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	fa := map[string]string{"filename": "Dockerfile", "no-cache": ""}
	for k, v := range attrs {
		fa[k] = v
	}
	var out bytes.Buffer
	d, err := progressui.NewDisplay(&out, progressui.PlainMode)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *client.SolveStatus)
	eg, ctx := errgroup.WithContext(context.Background())
	eg.Go(func() error {
		_, err := conn.Solve(ctx, nil, client.SolveOpt{
			Frontend: "dockerfile.v0", FrontendAttrs: fa,
			LocalMounts: map[string]fsutil.FS{"context": fsys, "dockerfile": fsys},
		}, ch)
		return err
	})
	eg.Go(func() error {
		_, err := d.UpdateFrom(context.Background(), ch)
		return err
	})
	err = eg.Wait()
	return out.String(), err
}
