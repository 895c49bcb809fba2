package layerscan

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

// fresh is l's scan read in full, with nothing kept anywhere.
func fresh(t *testing.T, l v1.Layer) *Scan {
	t.Helper()
	KeepIn("")
	Reset()
	s, err := Read(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	Reset()
	return s
}

// plainLayer is an uncompressed layer of name=contents files: a layer
// of the same size with other bytes is easy to make.
func plainLayer(t *testing.T, files ...[2]string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f[0], Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(f[1]))}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, f[1])
	}
	tw.Close()
	return opened(t, buf.Bytes())
}

// opened is a layer whose compressed bytes are b, as they are.
func opened(t *testing.T, b []byte) v1.Layer {
	t.Helper()
	return static.NewLayer(b, types.DockerLayer)
}

// flipped is l with a byte in the middle of its compressed bytes flipped.
func flipped(t *testing.T, l v1.Layer) v1.Layer {
	t.Helper()
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	return opened(t, b)
}

// writeRecord writes r as the record of d in dir, the way save does.
func writeRecord(t *testing.T, dir string, d v1.Hash, r record) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(r); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	if err := os.WriteFile(recordPath(dir, d), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestKeptAcrossProcesses: a record kept by one process gives the next
// exactly the scan a full read gives, without decompressing, and only
// for bytes that hash to the layer's digest; a record that is damaged,
// of another scanner version or of other bytes is ignored and the layer
// read in full (and kept again).
func TestKeptAcrossProcesses(t *testing.T) {
	good := plainLayer(t,
		[2]string{"var/lib/dpkg/status", "good"},
		[2]string{"usr/local/bin/aws-lambda-rie", "\x7fELF" + string(make([]byte, 30))},
		[2]string{"bootstrap", "#!/bin/sh\necho\n"},
		[2]string{"etc/apt/sources.list.d/e.list", ""},
		[2]string{"etc/other", "x"},
	)
	bad := plainLayer(t, // the same size, other bytes
		[2]string{"var/lib/dpkg/status", "baad"},
		[2]string{"usr/local/bin/aws-lambda-rie", "\x7fELF" + string(make([]byte, 30))},
		[2]string{"bootstrap", "#!/bin/sh\necho\n"},
		[2]string{"etc/apt/sources.list.d/e.list", ""},
		[2]string{"etc/other", "x"},
	)
	d, _ := good.Digest()
	if gs, _ := good.Size(); func() int64 { s, _ := bad.Size(); return s }() != gs {
		t.Fatal("the damaged copy must have the layer's size")
	}
	// a gzip layer with a byte of its compressed stream flipped: its read
	// fails
	gzGood := layer(t, [2]string{"var/lib/dpkg/status", strings.Repeat("good", 100)})
	gz := swapped{Layer: flipped(t, gzGood), claims: gzGood}
	other := record{Version: "0", Scan: fresh(t, bad)}
	other.Scan.Blob = d // a scan of other bytes under d's name
	cases := []struct {
		name string
		// change the record of good (kept by the first process) before
		// the second reads l
		change   func(t *testing.T, dir string)
		l        v1.Layer
		want     *Scan
		wantRead bool // the second process decompressed l
	}{
		{name: "kept", l: good, want: fresh(t, good)},
		{name: "the layer damaged, same size", l: swapped{Layer: bad, claims: good}, want: fresh(t, bad), wantRead: true},
		{name: "the layer damaged, gzip", l: gz, wantRead: true},
		{name: "the record truncated", l: good, want: fresh(t, good), wantRead: true,
			change: func(t *testing.T, dir string) {
				b, _ := os.ReadFile(recordPath(dir, d))
				os.WriteFile(recordPath(dir, d), b[:len(b)-9], 0o644)
			}},
		{name: "the record flipped", l: good, want: fresh(t, good), wantRead: true,
			change: func(t *testing.T, dir string) {
				b, _ := os.ReadFile(recordPath(dir, d))
				b[len(b)/2] ^= 0xff
				os.WriteFile(recordPath(dir, d), b, 0o644)
			}},
		{name: "the record not gzip", l: good, want: fresh(t, good), wantRead: true,
			change: func(t *testing.T, dir string) { os.WriteFile(recordPath(dir, d), []byte(`{"Version":`), 0o644) }},
		{name: "the record unreadable", l: good, want: fresh(t, good), wantRead: true,
			change: func(t *testing.T, dir string) {
				os.Remove(recordPath(dir, d))
				os.Mkdir(recordPath(dir, d), 0o755)
			}},
		{name: "a record of another scanner version", l: good, want: fresh(t, good), wantRead: true,
			change: func(t *testing.T, dir string) { writeRecord(t, dir, d, other) }},
		{name: "a record of another version under its own name is not read", l: good, want: fresh(t, good), wantRead: true,
			change: func(t *testing.T, dir string) {
				os.Remove(recordPath(dir, d))
				p := strings.Replace(recordPath(dir, d), "-v"+Version+".", "-v0.", 1)
				os.WriteFile(p, nil, 0o644)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Cleanup(func() { KeepIn("") })
			KeepIn(dir)
			Reset()
			if _, err := Read(context.Background(), good); err != nil { // the first process
				t.Fatal(err)
			}
			if _, err := os.Stat(recordPath(dir, d)); err != nil {
				t.Fatalf("no record kept: %v", err)
			}
			if tc.change != nil {
				tc.change(t, dir)
			}
			if _, err := Read(context.Background(), gzGood); err != nil {
				t.Fatal(err)
			}
			Reset() // the second process
			before := Decompressed()
			got, err := Read(context.Background(), tc.l)
			if (err != nil) != (tc.want == nil) {
				t.Fatalf("error %v, want one: %v", err, tc.want == nil)
			}
			if read := Decompressed() > before; read != tc.wantRead {
				t.Errorf("decompressed: %v, want %v", read, tc.wantRead)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("scan (-fresh +got):\n%s", diff)
			}
			Reset() // a third: a damaged record was replaced
			before = Decompressed()
			if _, err := Read(context.Background(), good); err != nil {
				t.Fatal(err)
			}
			if n := Decompressed() - before; n != 0 && tc.name != "the record unreadable" {
				t.Errorf("the third process decompressed the intact layer: the record was not kept again")
			}
		})
	}
}

// TestEvict: past the bound, the least recently used records go.
func TestEvict(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	for i, name := range []string{"c", "a", "b", "d"} { // oldest first
		p := filepath.Join(dir, name)
		os.WriteFile(p, nil, 0o644)
		at := now.Add(time.Duration(i) * time.Minute)
		os.Chtimes(p, at, at)
	}
	evict(dir, 2)
	var got []string
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		got = append(got, e.Name())
	}
	if diff := cmp.Diff([]string{"b", "d"}, got); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
}

// TestWarmKeptOnDisk: a layer whose scan a record keeps is not read to
// warm it (its later Read hashes its bytes against the record anyway).
func TestWarmKeptOnDisk(t *testing.T) {
	dir := t.TempDir()
	t.Cleanup(func() { KeepIn("") })
	KeepIn(dir)
	Reset()
	l := plainLayer(t, [2]string{"var/lib/dpkg/status", "good"})
	if _, err := Read(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	Reset() // another process
	before := Decompressed()
	opened := &counted{Layer: l}
	if err := Warm(context.Background(), opened); err != nil {
		t.Fatal(err)
	}
	if n := opened.n.Load(); n != 0 {
		t.Errorf("warming a layer kept on disk opened it %d times, want 0", n)
	}
	if _, err := Read(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	if n := Decompressed() - before; n != 0 {
		t.Errorf("reading a layer kept on disk decompressed it %d times, want 0", n)
	}
}
