package pins

import (
	"cmp"
	"net/url"
	"slices"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

// Registry names where a pinned version is fetched from.
type Registry string

// The registries the catalog's templates fetch from.
const (
	NPM          Registry = "npm"
	PyPI         Registry = "pypi"
	MavenCentral Registry = "maven-central"
	RubyGems     Registry = "rubygems"
	NuGet        Registry = "nuget"
	NodeJSDist   Registry = "nodejs.org"
	PythonOrg    Registry = "python.org"
	RubyLang     Registry = "ruby-lang.org"
	// GitHubReleases holds the emulator's release assets.
	GitHubReleases Registry = "github-releases"
	// Download is any other address a pinned file is downloaded from
	// (an overlay can move the emulator elsewhere).
	Download Registry = "download"
)

var registryNames = map[Registry]string{
	NPM:            "npm",
	PyPI:           "PyPI",
	MavenCentral:   "Maven Central",
	RubyGems:       "RubyGems",
	NuGet:          "NuGet",
	NodeJSDist:     "nodejs.org",
	PythonOrg:      "python.org",
	RubyLang:       "ruby-lang.org",
	GitHubReleases: "GitHub releases",
	Download:       "a plain download",
}

// Valid reports whether r is a registry this package knows.
func (r Registry) Valid() bool { _, ok := registryNames[r]; return ok }

// String is the registry's name as people write it ("Maven Central").
func (r Registry) String() string {
	if n, ok := registryNames[r]; ok {
		return n
	}
	return string(r)
}

// Pin is one version the catalog fixes, with the targets that use it.
type Pin struct {
	Registry Registry
	// Package is the name the registry knows it by (for Maven
	// "group:artifact"); for a downloaded file, its address.
	Package string
	Version string
	// SHA256 is the checksum the catalog expects, for downloaded files.
	SHA256 string
	// UsedBy are the targets ("runtime/variant") that fetch it, in catalog
	// order (runtimes as listed, variants by name).
	UsedBy []string
}

// String is "Registry package@version", with the checksum if any.
func (p Pin) String() string {
	s := p.Registry.String() + " " + p.Package + "@" + p.Version
	if p.SHA256 != "" {
		s += " sha256:" + p.SHA256
	}
	return s
}

// ric says where each language's Runtime Interface Client comes from.
var ric = map[catalog.Language]struct {
	registry Registry
	pkg      string
}{
	catalog.NodeJS: {NPM, "aws-lambda-ric"},
	catalog.Python: {PyPI, "awslambdaric"},
	catalog.Java:   {MavenCentral, "com.amazonaws:aws-lambda-java-runtime-interface-client"},
	catalog.Ruby:   {RubyGems, "aws_lambda_ric"},
	catalog.DotNet: {NuGet, "Amazon.Lambda.RuntimeSupport"},
}

// sourceArgs are the build arguments that pin a language version built from
// its project's source or binary tarballs (templates/<language>/al2*.tmpl).
var sourceArgs = map[string]struct {
	registry Registry
	pkg      string
}{
	"NODE_SOURCE":   {NodeJSDist, "node"},
	"PYTHON_SOURCE": {PythonOrg, "Python"},
	"RUBY_SOURCE":   {RubyLang, "ruby"},
}

// Collect returns every version pinned by c's targets, one Pin per
// registry, package, version and checksum, sorted by registry, package and
// version. Variants on AWS's own images pin nothing: they take the client
// AWS put there.
func Collect(c *catalog.Catalog) ([]Pin, error) {
	targets, err := c.Targets(catalog.Selector{All: true})
	if err != nil {
		return nil, err
	}
	type key struct {
		registry             Registry
		pkg, version, sha256 string
	}
	users := map[key][]string{}
	add := func(p Pin, user string) {
		k := key{p.Registry, p.Package, p.Version, p.SHA256}
		if !slices.Contains(users[k], user) {
			users[k] = append(users[k], user)
		}
	}
	for i := range targets {
		for _, p := range ForTarget(&targets[i]) {
			add(p, targets[i].Name())
		}
	}
	out := make([]Pin, 0, len(users))
	for k, us := range users {
		out = append(out, Pin{Registry: k.registry, Package: k.pkg, Version: k.version, SHA256: k.sha256, UsedBy: us})
	}
	sortPins(out)
	return out, nil
}

// ForTarget returns the versions one target pins (UsedBy left empty),
// sorted as Collect sorts: its Runtime Interface Client, the language
// sources it builds from and, for each of its architectures, the emulator
// download. A variant on AWS's own image pins nothing.
func ForTarget(t *catalog.Target) []Pin {
	if t.Spec.OS == catalog.AWS {
		return nil
	}
	var out []Pin
	if r, ok := ric[t.Runtime.Language]; ok && t.Spec.RIC != "" {
		out = append(out, Pin{Registry: r.registry, Package: r.pkg, Version: t.Spec.RIC})
	}
	for arg, v := range t.Spec.Args {
		if s, ok := sourceArgs[arg]; ok && v != "" {
			out = append(out, Pin{Registry: s.registry, Package: s.pkg, Version: v})
		}
	}
	if t.RIE.URL != "" {
		for _, a := range t.Arches {
			u := t.RIE.DownloadURL(a)
			out = append(out, Pin{Registry: downloadRegistry(u), Package: u, Version: t.RIE.Version, SHA256: t.RIE.SHA256[a]})
		}
	}
	sortPins(out)
	return out
}

func sortPins(ps []Pin) {
	slices.SortFunc(ps, func(a, b Pin) int {
		return cmp.Or(
			strings.Compare(string(a.Registry), string(b.Registry)),
			strings.Compare(a.Package, b.Package),
			compareVersions(a.Version, b.Version),
			strings.Compare(a.SHA256, b.SHA256),
		)
	})
}

func downloadRegistry(address string) Registry {
	if u, err := url.Parse(address); err == nil && u.Host == "github.com" && strings.Contains(u.Path, "/releases/download/") {
		return GitHubReleases
	}
	return Download
}

// compareVersions orders dotted versions numerically where both parts are
// numbers ("3.9.25" < "3.10.19"), as strings otherwise.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if c := compareNumeric(as[i], bs[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(as), len(bs))
}

func compareNumeric(a, b string) int {
	if isDigits(a) && isDigits(b) {
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if c := cmp.Compare(len(a), len(b)); c != 0 {
			return c
		}
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
