package layerscan

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// unreadable is a layer whose bytes cannot be read.
type unreadable struct{ v1.Layer }

func (unreadable) Compressed() (io.ReadCloser, error) { return nil, errors.New("unreadable") }

// TestNamed: a Named layer gets the scan kept in memory for its digest
// without its bytes being read; without one, or with one kept only on
// disk, its bytes are read (and hashed) as for any layer.
func TestNamed(t *testing.T) {
	good := plainLayer(t, [2]string{"var/lib/dpkg/status", "good"})
	bad := plainLayer(t, [2]string{"var/lib/dpkg/status", "baad"})
	cases := []readCase{
		{name: "kept in memory: the bytes are not read", memory: true,
			l: Named(unreadable{good}), want: fresh(t, good)},
		{name: "kept in memory, not Named: the bytes are hashed", memory: true,
			l: unreadable{good}, wantRead: true},
		{name: "nothing kept", l: Named(good), want: fresh(t, good), wantRead: true},
		{name: "kept on disk only: the bytes are hashed", disk: true,
			l: Named(swapped{Layer: bad, claims: good}), want: fresh(t, bad), wantRead: true},
		{name: "kept on disk only, bytes intact", disk: true, l: Named(good), want: fresh(t, good)},
	}
	runReadCases(t, good, cases)
}

// TestIntact: an Intact layer gets the scan kept for its digest, in
// memory or on disk, without its bytes being opened; without one its bytes
// are read and hashed as any layer's, so that other bytes under its digest
// get their own scan and leave no scan kept for the digest.
func TestIntact(t *testing.T) {
	good := plainLayer(t, [2]string{"var/lib/dpkg/status", "good"})
	bad := plainLayer(t, [2]string{"var/lib/dpkg/status", "baad"}) // same size
	runReadCases(t, good, []readCase{
		{name: "kept in memory: the bytes are not opened", memory: true,
			l: Intact(unreadable{good}), want: fresh(t, good)},
		{name: "kept on disk only: the bytes are not opened", disk: true,
			l: Intact(unreadable{good}), want: fresh(t, good)},
		{name: "nothing kept", l: Intact(good), want: fresh(t, good), wantRead: true},
		{name: "nothing kept, other bytes: their own scan", l: Intact(swapped{Layer: bad, claims: good}),
			want: fresh(t, bad), wantRead: true},
	})
	t.Run("other bytes keep nothing", func(t *testing.T) {
		want := fresh(t, good) // fresh resets what is kept: first
		t.Cleanup(func() { KeepIn("") })
		KeepIn(t.TempDir())
		Reset()
		if _, err := Read(context.Background(), Intact(swapped{Layer: bad, claims: good})); err != nil {
			t.Fatal(err)
		}
		for _, where := range []string{"this process", "another process"} {
			if where == "another process" {
				Reset()
			}
			got, err := Read(context.Background(), good)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: the intact layer's scan (-want +got):\n%s", where, diff)
			}
		}
	})
}

// readCase is a Read of l after the layer good was read, in this process
// (memory) or by an earlier one that kept its scan (disk).
type readCase struct {
	name     string
	memory   bool
	disk     bool
	l        v1.Layer
	want     *Scan // nil: Read fails
	wantRead bool  // l is decompressed
}

func runReadCases(t *testing.T, good v1.Layer, cases []readCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() { KeepIn("") })
			KeepIn("")
			Reset()
			if tc.disk {
				KeepIn(t.TempDir())
			}
			if tc.memory || tc.disk {
				if _, err := Read(context.Background(), good); err != nil {
					t.Fatal(err)
				}
			}
			if tc.disk {
				Reset()
			}
			before := Decompressed()
			got, err := Read(context.Background(), tc.l)
			if (err != nil) != (tc.want == nil) {
				t.Fatalf("error %v, want one: %v", err, tc.want == nil)
			}
			if read := Decompressed() > before; read != tc.wantRead {
				t.Errorf("decompressed: %v, want %v", read, tc.wantRead)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("scan (-want +got):\n%s", diff)
			}
		})
	}
}
