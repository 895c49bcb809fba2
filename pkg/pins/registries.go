package pins

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// npm asks for the package's abbreviated document (the one npm install
// reads) and looks the version up in it.
func (c *Checker) npm(ctx context.Context, p Pin) (Status, string, error) {
	address := c.endpoints[NPM] + "/" + strings.ReplaceAll(p.Package, "/", "%2F")
	code, body, err := c.get(ctx, address, "application/vnd.npm.install-v1+json")
	switch {
	case err != nil:
		return "", "", err
	case code == http.StatusNotFound:
		return Missing, "npm has no such package", nil
	case code != http.StatusOK:
		return "", "", unexpected(address, code)
	}
	var doc struct {
		DistTags map[string]string `json:"dist-tags"`
		Versions map[string]struct {
			Deprecated json.RawMessage `json:"deprecated"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", "", fmt.Errorf("GET %s: reading the package document: %w", address, err)
	}
	if v, ok := doc.Versions[p.Version]; ok {
		var why string
		if json.Unmarshal(v.Deprecated, &why) == nil && why != "" {
			return Served, "deprecated: " + why, nil
		}
		return Served, "", nil
	}
	served := make([]string, 0, len(doc.Versions))
	for v := range doc.Versions {
		served = append(served, v)
	}
	return Missing, notServed(p.Version, served, doc.DistTags["latest"]), nil
}

// pypi asks for the project's page of the simple index in its JSON form
// (PEP 691), which is what pip reads, and looks for files of the version.
// (PyPI's per-release JSON API is not used: from lambdaimg's CI machine it
// answers 404 for every release, so it cannot tell missing from blocked.)
func (c *Checker) pypi(ctx context.Context, p Pin) (Status, string, error) {
	address := c.endpoints[PyPI] + "/simple/" + normalizePyPI(p.Package) + "/"
	code, body, err := c.get(ctx, address, "application/vnd.pypi.simple.v1+json")
	switch {
	case err != nil:
		return "", "", err
	case code == http.StatusNotFound:
		return Missing, "PyPI has no such project", nil
	case code != http.StatusOK:
		return "", "", unexpected(address, code)
	}
	var doc struct {
		Versions []string `json:"versions"`
		Files    []struct {
			Filename string          `json:"filename"`
			Yanked   json.RawMessage `json:"yanked"`
		} `json:"files"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", "", fmt.Errorf("GET %s: reading the project page: %w", address, err)
	}
	var wheels, sdists, yanked int
	var reason string
	for _, f := range doc.Files {
		v, wheel := fileVersion(f.Filename)
		if v != p.Version {
			continue
		}
		if wheel {
			wheels++
		} else {
			sdists++
		}
		if y, why := isYanked(f.Yanked); y {
			yanked++
			reason = why
		}
	}
	files := wheels + sdists
	switch {
	case files == 0 && slices.Contains(doc.Versions, p.Version):
		return Missing, "PyPI lists the release but serves no file of it", nil
	case files == 0:
		return Missing, notServed(p.Version, doc.Versions, ""), nil
	case yanked == files:
		// pip still installs a yanked release pinned with ==, warning.
		return Served, fmt.Sprintf("yanked: %s", cmp.Or(reason, "no reason given")), nil
	}
	return Served, fmt.Sprintf("%d wheels, %d sdist", wheels, sdists), nil
}

// maven asks for the version's POM, the file Maven resolves first.
func (c *Checker) maven(ctx context.Context, p Pin) (Status, string, error) {
	group, artifact, ok := strings.Cut(p.Package, ":")
	if !ok || group == "" || artifact == "" {
		return "", "", fmt.Errorf("maven package %q: want group:artifact", p.Package)
	}
	address := fmt.Sprintf("%s/%s/%s/%s/%s-%s.pom", c.endpoints[MavenCentral],
		strings.ReplaceAll(group, ".", "/"), artifact, p.Version, artifact, p.Version)
	code, _, err := c.get(ctx, address, "")
	switch {
	case err != nil:
		return "", "", err
	case code == http.StatusNotFound:
		return Missing, "Maven Central has no POM for it", nil
	case code != http.StatusOK:
		return "", "", unexpected(address, code)
	}
	return Served, "", nil
}

// notServed says what the registry does serve near a missing version: the
// versions of the same major and the latest.
func notServed(want string, served []string, latest string) string {
	slices.SortFunc(served, compareVersions)
	if latest == "" && len(served) > 0 {
		latest = served[len(served)-1]
	}
	major, _, _ := strings.Cut(want, ".")
	var same []string
	for _, v := range served {
		if m, _, _ := strings.Cut(v, "."); m == major {
			same = append(same, v)
		}
	}
	s := "not served; " + major + ".x served: "
	if len(same) == 0 {
		s += "none"
	} else {
		s += strings.Join(same, ", ")
	}
	if latest != "" {
		s += "; latest: " + latest
	}
	return s
}

var pypiSeparators = regexp.MustCompile(`[-_.]+`)

// normalizePyPI is PEP 503's project name normalization.
func normalizePyPI(name string) string {
	return strings.ToLower(pypiSeparators.ReplaceAllString(name, "-"))
}

// fileVersion reads the version out of a wheel (name-version-...whl) or an
// sdist (name-version.tar.gz) file name.
func fileVersion(filename string) (version string, wheel bool) {
	if stem, ok := strings.CutSuffix(filename, ".whl"); ok {
		parts := strings.Split(stem, "-")
		if len(parts) < 5 {
			return "", true
		}
		return parts[1], true
	}
	for _, ext := range []string{".tar.gz", ".zip", ".tar.bz2", ".tgz"} {
		if stem, ok := strings.CutSuffix(filename, ext); ok {
			if i := strings.LastIndex(stem, "-"); i >= 0 {
				return stem[i+1:], false
			}
		}
	}
	return "", false
}

// isYanked reads PEP 592's yanked: false, true, or the reason.
func isYanked(raw json.RawMessage) (bool, string) {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, ""
	}
	var why string
	if json.Unmarshal(raw, &why) == nil {
		return true, why
	}
	return false, ""
}
