package e2e

import (
	"archive/tar"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// buildLeftovers are files a native build leaves behind that have no
// business in a runtime image. (Not Makefile: some npm packages ship one,
// e.g. delegates and retry, which node-gyp depends on.)
var buildLeftovers = []string{".o", ".a", ".la", "config.log", "config.status", "CMakeCache.txt"}

// scanLeftovers reads every layer of every image in the store: no layer
// may hold the CA bundle's path or content (it is a build secret) or a
// native build's leftovers (object files, configure logs, build trees).
func scanLeftovers(t *testing.T, storeDir string, caNeedle []byte) {
	t.Helper()
	needles := [][]byte{[]byte("/run/secrets/ca"), caNeedle}
	idx, err := layout.ImageIndexFromPath(storeDir)
	if err != nil {
		t.Fatalf("the store: %v", err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range m.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		name := d.Annotations["org.opencontainers.image.ref.name"]
		// The first layer is the stand-in base (one layer each): what the
		// base ships is not lambdaimg's doing.
		for _, l := range layers[1:] {
			rc, err := l.Uncompressed()
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range scanLayer(t, rc, needles) {
				t.Errorf("%s: %s", name, f)
			}
			rc.Close()
		}
	}
}

// testBundle writes the CA bundle the e2e builds pass: the host's (the
// registries' certificates chain to it) plus a certificate made here, and
// returns it with a line of that certificate, which no image may hold.
func testBundle(t *testing.T) (string, []byte) {
	t.Helper()
	host, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lambdaimg e2e test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	own := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, append(append(host, '\n'), own...), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(own, []byte("\n"))
	return p, lines[2] // a full base64 line from the middle
}

// scanLayer returns what is wrong with one layer's files.
func scanLayer(t *testing.T, r io.Reader, needles [][]byte) []string {
	var found []string
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return found
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		for _, suffix := range buildLeftovers {
			if strings.HasSuffix(name, suffix) && (strings.HasPrefix(suffix, ".") || path.Base(name) == suffix) {
				found = append(found, "a build leftover: /"+name)
			}
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if bytes.Contains(data, n) {
				found = append(found, "/"+name+" holds the CA bundle or its path ("+string(n[:min(len(n), 20)])+"...)")
			}
		}
	}
}
