package extension

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// bombZip writes a zip whose one entry declares size bytes but holds a few
// bytes of deflate: the header alone must get it refused.
func bombZip(t *testing.T, size uint64) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "extensions/bomb", Method: zip.Deflate,
		CompressedSize64: 2, UncompressedSize64: size, CRC32: 0})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte{3, 0}) // an empty deflate stream
	zw.Close()
	p := filepath.Join(t.TempDir(), "bomb.zip")
	os.WriteFile(p, buf.Bytes(), 0o644)
	return p
}

// zerosZip writes an honest zip of n zero bytes (a few KiB compressed).
func zerosZip(t *testing.T, n int) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("extensions/zeros")
	w.Write(make([]byte, n))
	zw.Close()
	p := filepath.Join(t.TempDir(), "zeros.zip")
	os.WriteFile(p, buf.Bytes(), 0o644)
	return p
}

func dirWith(t *testing.T, files ...string) string {
	t.Helper()
	d := t.TempDir()
	for _, f := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(d, f)), 0o755)
		os.WriteFile(filepath.Join(d, f), []byte("x"), 0o755)
	}
	return d
}

func fifoIn(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHostileInput: every input over a limit or of the wrong kind is
// refused with a message naming the rule, promptly (a FIFO or /dev/zero
// would hang or fill the disk), and leaves nothing behind.
func TestHostileInput(t *testing.T) {
	small := Limits{Size: 1 << 20}
	tests := []struct {
		name  string
		paths func(t *testing.T) []string
		lim   Limits
		want  string
	}{
		{"zip declaring 3 GiB", func(t *testing.T) []string { return []string{bombZip(t, 3<<30)} }, Limits{},
			"the zip says it expands to 3221225472 bytes (with what is laid out before it, 3221225472): over the limit of 1 GiB (raise it with --limit extension-size=N)"},
		{"zip expanding past the limit", func(t *testing.T) []string { return []string{zerosZip(t, 2<<20)} }, small,
			"expands to 2097152 bytes"},
		{"zips expanding past the limit together", func(t *testing.T) []string {
			return []string{zerosZip(t, 600<<10), dirWith(t, "extensions/a", "lib/big.zip")}
		}, Limits{Size: 600 << 10}, "over the limit of 614400 bytes"},
		{"file past the limit", func(t *testing.T) []string {
			p := filepath.Join(t.TempDir(), "big")
			os.WriteFile(p, make([]byte, 2<<20), 0o755)
			return []string{p}
		}, small, "the extensions laid out: over the limit of 1 MiB"},
		{"zip file past its limit", func(t *testing.T) []string { return []string{zerosZip(t, 1<<20)} }, Limits{ZipSize: 100},
			"over the limit of 100 bytes (raise it with --limit extension-zip-size=N)"},
		{"too many files", func(t *testing.T) []string { return []string{dirWith(t, "a", "b", "c", "d")} }, Limits{Files: 3},
			"too many files and directories: over the limit of 3"},
		{"too many zip entries", func(t *testing.T) []string {
			return []string{makeZip(t, []entry{{"extensions/a", 0o755, "a"}, {"extensions/b", 0o755, "b"}})}
		}, Limits{Files: 1}, "the zip holds 2 entries: over the limit of 1"},
		{"path too long", func(t *testing.T) []string { return []string{dirWith(t, strings.Repeat("d", 40))} }, Limits{PathLen: 20},
			"bytes long: over the limit of 20 (raise it with --limit path-length=N)"},
		{"FIFO in a directory", func(t *testing.T) []string {
			d := dirWith(t, "agent")
			fifoIn(t, d)
			return []string{d}
		}, Limits{}, "is a named pipe (FIFO): only regular files and directories are laid out"},
		{"FIFO given", func(t *testing.T) []string { return []string{fifoIn(t, t.TempDir())} }, Limits{},
			"it is a named pipe (FIFO): give a regular file, a directory or a zip"},
		{"FIFO named .zip", func(t *testing.T) []string {
			p := filepath.Join(t.TempDir(), "x.zip")
			syscall.Mkfifo(p, 0o644)
			return []string{p}
		}, Limits{}, "it is a named pipe (FIFO)"},
		{"/dev/zero", func(t *testing.T) []string { return []string{"/dev/zero"} }, Limits{}, "it is a character device"},
		{"socket in a directory", func(t *testing.T) []string {
			d, _ := os.MkdirTemp("", "sock")
			t.Cleanup(func() { os.RemoveAll(d) })
			os.WriteFile(filepath.Join(d, "agent"), []byte("x"), 0o755)
			l, err := net.Listen("unix", filepath.Join(d, "s"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return []string{d}
		}, Limits{}, "is a socket"},
		{"zip entry that is a FIFO", func(t *testing.T) []string {
			return []string{makeZip(t, []entry{{"extensions/p", fs.ModeNamedPipe | 0o644, ""}})}
		}, Limits{}, `refusing the zip entry "extensions/p": it is a named pipe (FIFO)`},
		{"empty zip", func(t *testing.T) []string { return []string{makeZip(t, nil)} }, Limits{}, "the zip holds no files"},
		{"zip of directories only", func(t *testing.T) []string {
			return []string{makeZip(t, []entry{{"extensions/", fs.ModeDir | 0o755, ""}})}
		}, Limits{}, "the zip holds no files"},
		{"empty directory", func(t *testing.T) []string { return []string{t.TempDir()} }, Limits{}, "the directory holds no files"},
		{"two extensions of one name", func(t *testing.T) []string {
			f := filepath.Join(t.TempDir(), "agent")
			os.WriteFile(f, []byte("x"), 0o755)
			return []string{f, makeZip(t, []entry{{"extensions/agent", 0o755, "y"}})}
		}, Limits{}, "/opt/extensions/agent is also laid out by "},
		{"file and directory of one name", func(t *testing.T) []string {
			return []string{makeZip(t, []entry{{"lib", 0o644, "x"}, {"lib/y", 0o644, "y"}, {"extensions/a", 0o755, "a"}})}
		}, Limits{}, "/opt/lib: not a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "opt")
			err := Layout(context.Background(), dst, tc.paths(t), tc.lim)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Layout = %v\nwant an error with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), dst) {
				t.Errorf("the error shows the internal directory %s: %v", dst, err)
			}
			if _, err := os.Stat(dst); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Layout left %s behind (%v)", dst, err)
			}
		})
	}
}

func TestLimitErrorsAreTyped(t *testing.T) {
	err := Layout(context.Background(), t.TempDir(), []string{bombZip(t, 3<<30)}, Limits{})
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != "extension-size" {
		t.Fatalf("Layout = %v, want a *LimitError for extension-size", err)
	}
}

// TestLayoutCancelled: a cancelled run stops and leaves dst as it was.
func TestLayoutCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dst := t.TempDir()
	err := Layout(ctx, dst, []string{dirWith(t, "agent")}, Limits{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Layout = %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(dst); len(entries) != 0 {
		t.Errorf("Layout left %d entries in dst", len(entries))
	}
}

// endless is an input that never ends; it cancels its context once read.
type endless struct{ cancel context.CancelFunc }

func (e endless) Read(p []byte) (int, error) {
	e.cancel()
	return len(p), nil
}

// TestCopyStopsOnCancel: the copy loop checks the context between reads,
// so an endless input stops on SIGINT even under a huge size limit.
func TestCopyStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	b := &budget{ctx: ctx, lim: Limits{Size: 1 << 62}.withDefaults()}
	err := b.copy(io.Discard, endless{cancel}, "input")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("copy = %v, want context.Canceled", err)
	}
	if b.size > 64<<10 {
		t.Errorf("copy read %d bytes after the cancel", b.size)
	}
}

// TestFollowsGivenLink: a path the user names is followed even when it is
// a symbolic link (naming it is consent); links below it are not.
func TestFollowsGivenLink(t *testing.T) {
	target := filepath.Join(t.TempDir(), "real-agent")
	os.WriteFile(target, []byte("agent"), 0o700)
	link := filepath.Join(t.TempDir(), "agent")
	os.Symlink(target, link)
	dirLink := filepath.Join(t.TempDir(), "layer")
	os.Symlink(dirWith(t, "extensions/other"), dirLink)
	dst := t.TempDir()
	if err := Layout(context.Background(), dst, []string{link, dirLink}, Limits{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"extensions/agent -rwxr-xr-x", "extensions/other -rwxr-xr-x"}
	if diff := cmp.Diff(want, tree(t, dst)); diff != "" {
		t.Errorf("layout (-want +got):\n%s", diff)
	}
}
