package osindex

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	apkversion "github.com/knqyf263/go-apk-version"
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
)

// apkEntry is one package of an APKINDEX.
type apkEntry struct {
	name, version string
	depends       []string // D: what it needs: names, so:, cmd:, pc:
	provides      []string // p: what else it answers to, versions cut
	repo          string
}

// readApkIndex reads an APKINDEX's records (the format of
// inventory.ReadApkDB, which keeps what an inventory needs; this keeps
// the dependencies too).
func readApkIndex(r io.Reader) ([]apkEntry, error) {
	var out []apkEntry
	var e apkEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		k, v, ok := strings.Cut(sc.Text(), ":")
		switch {
		case sc.Text() == "":
			if e.name != "" {
				out = append(out, e)
			}
			e = apkEntry{}
		case !ok || len(k) != 1:
			return nil, fmt.Errorf("line %d: %q is not a K:value field", n, sc.Text())
		case k == "P":
			e.name = v
		case k == "V":
			e.version = v
		case k == "D":
			e.depends = strings.Fields(v)
		case k == "p":
			for _, f := range strings.Fields(v) {
				name, _, _ := strings.Cut(f, "=")
				e.provides = append(e.provides, name)
			}
		}
	}
	if e.name != "" {
		out = append(out, e)
	}
	return out, sc.Err()
}

// ParseApkRepositories returns the repositories of an /etc/apk/repositories
// file that apk upgrades from: one URL a line, without comments (#),
// local directories (apk reads those from the image's own files) or
// tagged repositories ("@edge URL": apk takes from those only the
// packages the world file pins to the tag).
func ParseApkRepositories(file string) []string {
	out := []string{}
	for _, line := range strings.Split(file, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "@") {
			continue
		}
		if !strings.HasPrefix(line, "http://") && !strings.HasPrefix(line, "https://") {
			continue
		}
		if u := strings.TrimRight(line, "/"); !has(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// ApkArch is apk's name of a Go architecture (amd64 -> x86_64, arm64 ->
// aarch64), the directory of a repository that holds its index.
func ApkArch(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return goarch
}

// ApkCandidate is the newest version of an apk package in the
// repositories.
type ApkCandidate struct {
	Version    string
	Repository string // where it is
}

// ApkCandidates returns, by package name, the newest version the
// repositories offer for arch (a Go architecture), from each one's
// <repo>/<arch>/APKINDEX.tar.gz, read once per session. The index's
// signature is not checked (see the package doc).
func (c *Client) ApkCandidates(ctx context.Context, repos []string, arch string) (map[string]ApkCandidate, error) {
	idx, err := c.apkIndexes(ctx, repos, arch)
	if err != nil {
		return nil, err
	}
	out := make(map[string]ApkCandidate, len(idx.pkgs))
	for name, e := range idx.pkgs {
		out[name] = ApkCandidate{Version: e.version, Repository: e.repo}
	}
	return out, nil
}

// apkIndexes reads the index of each repository for arch and keeps the
// newest version of every package.
func (c *Client) apkIndexes(ctx context.Context, repos []string, arch string) (*apkGraph, error) {
	g := &apkGraph{pkgs: map[string]apkEntry{}, provides: map[string][]string{}}
	for _, repo := range repos {
		u := repo + "/" + ApkArch(arch) + "/APKINDEX.tar.gz"
		v, err := c.once("apkindex "+u, func() (any, error) { return c.apkIndex(ctx, u) })
		if err != nil {
			return nil, err
		}
		for _, e := range v.([]apkEntry) {
			e.repo = repo
			g.add(e)
		}
	}
	for _, p := range g.provides {
		sort.Strings(p)
	}
	return g, nil
}

// apkIndex reads the packages of one APKINDEX.tar.gz: gzip streams, one
// after another, of a tar with the signature (.SIGN.*) and one with
// DESCRIPTION and APKINDEX, the P:/V: records that apk's installed
// database also has.
func (c *Client) apkIndex(ctx context.Context, u string) ([]apkEntry, error) {
	var pkgs []apkEntry
	err := c.get(ctx, u, func(r io.Reader) error {
		zr, err := gzip.NewReader(r) // reads the streams as one
		if err != nil {
			return err
		}
		tr := tar.NewReader(io.LimitReader(zr, c.limit))
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return errors.New("no APKINDEX file in it")
			}
			if err != nil {
				return err
			}
			if path.Clean(hdr.Name) != "APKINDEX" {
				continue
			}
			if pkgs, err = readApkIndex(tr); err != nil {
				return fmt.Errorf("APKINDEX: %w", err)
			}
			return nil
		}
	})
	return pkgs, err
}

// apkCompare orders apk versions as apk does; a version apk would not
// accept sorts before every valid one.
func apkCompare(a, b string) int {
	va, errA := apkversion.NewVersion(a)
	vb, errB := apkversion.NewVersion(b)
	switch {
	case errA != nil && errB != nil:
		return strings.Compare(a, b)
	case errA != nil:
		return -1
	case errB != nil:
		return 1
	}
	return va.Compare(vb)
}

// NewerApk returns the installed apk packages whose candidate is newer,
// sorted by name; Source is the repository offering it. An installed
// version apk would not accept is an error naming it.
func NewerApk(installed []inventory.Package, cands map[string]ApkCandidate) ([]Update, error) {
	var out []Update
	for _, p := range installed {
		c, ok := cands[p.Name]
		if !ok {
			continue
		}
		if !apkversion.Valid(p.Version) {
			return nil, fmt.Errorf("installed package %s: version %q is not an apk version", p.Name, p.Version)
		}
		if apkCompare(c.Version, p.Version) > 0 {
			out = append(out, Update{Name: p.Name, Installed: p.Version, Available: c.Version, Source: c.Repository})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
