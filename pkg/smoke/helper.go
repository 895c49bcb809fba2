package smoke

import (
	"bytes"
	"io"
	"strconv"
	"sync"

	"github.com/containerd/platforms"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/helper"
)

// stageHelper finds lambdaimg-helper for a container of arch on conn and
// puts it alone in a directory, to be mounted into the container.
func stageHelper(conn *buildkit.Conn, path, arch string) (string, func(), error) {
	h, err := helper.Lookup{Path: path}.Find(helperArchs(conn, arch)...)
	if err != nil {
		return "", nil, err
	}
	return h.Stage()
}

// helperArchs is the order to look for a helper in: the architecture the
// builder runs natively first (a helper for it runs without emulation in a
// container of any architecture, as the kernel picks the binary's
// loader), then the image's.
func helperArchs(conn *buildkit.Conn, arch string) []string {
	if conn == nil || conn.IsNative("linux/"+arch) {
		return []string{arch}
	}
	for _, n := range conn.Native {
		p, err := platforms.Parse(n)
		if err == nil && p.OS == "linux" && p.Architecture != arch && (p.Architecture == "amd64" || p.Architecture == "arm64") {
			return []string{p.Architecture, arch}
		}
	}
	return []string{arch}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a
// process's stdout and stderr.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func itoa(n int) string { return strconv.Itoa(n) }
