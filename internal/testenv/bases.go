package testenv

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

// The official images the catalog's Debian variants pull stand in here as
// bases made by scripts/make-test-bases.sh from Debian's own packages: the
// language version decides the Debian suite (bookworm has Python 3.11,
// Node.js 18 and OpenJDK 17; trixie Python 3.13, Node.js 20 and OpenJDK 21).
var suiteOf = map[string]map[string]string{
	"library/python": {"3.11": "bookworm", "3.13": "trixie"},
	"library/node":   {"18": "bookworm", "20": "trixie"},
	"library/maven":  {"17": "bookworm", "21": "trixie"},
}

const basePath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// StandIn returns the local base that serves ref (a Docker Hub image the
// catalog pulls), or an error naming what is missing.
func StandIn(ref string) (Base, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return Base{}, err
	}
	if reg := r.Context().RegistryStr(); reg != name.DefaultRegistry {
		return Base{}, fmt.Errorf("%s: only Docker Hub images have local stand-ins, not %s", ref, reg)
	}
	repo, tag := r.Context().RepositoryStr(), r.Identifier()
	if repo == "library/debian" {
		for _, suite := range []string{"bookworm", "trixie"} {
			if strings.Contains(tag, suite) {
				return Base{Name: "debian-" + suite}, nil
			}
		}
		return Base{}, fmt.Errorf("%s: no local Debian base for tag %s (bookworm and trixie are made)", ref, tag)
	}
	versions, ok := suiteOf[repo]
	if !ok {
		return Base{}, fmt.Errorf("%s: no local stand-in for %s", ref, repo)
	}
	// python:3.11-slim-bookworm, node:20-bookworm-slim: the version leads;
	// maven:3.9-eclipse-temurin-21: the JDK's version ends the tag.
	version := strings.SplitN(tag, "-", 2)[0]
	if repo == "library/maven" {
		version = tag[strings.LastIndex(tag, "-")+1:]
	}
	suite, ok := versions[version]
	if !ok {
		return Base{}, fmt.Errorf("%s: no Debian suite ships %s %s (stand-ins: %v)", ref, repo, version, versions)
	}
	flavour := strings.TrimPrefix(repo, "library/")
	env := []string{basePath, "LANG=C.UTF-8"}
	if flavour == "maven" {
		// Set in the official image; the Java template's maven-ca.sh reads it.
		env = append(env, "JAVA_HOME=/usr/lib/jvm/java-"+version+"-openjdk-{arch}", "MAVEN_HOME=/usr/share/maven")
	}
	return Base{Name: flavour + "-" + suite, Env: env}, nil
}

var (
	argImage   = regexp.MustCompile(`(?m)^ARG ([A-Z0-9_]+_IMAGE)=(\S+)\s*$`)
	fromBuild  = regexp.MustCompile(`(?m)^FROM --platform=\$BUILDPLATFORM \$\{?([A-Z0-9_]+_IMAGE)\}?`)
	fromTarget = regexp.MustCompile(`(?m)^FROM (?:--platform=\$TARGETPLATFORM )?\$\{?([A-Z0-9_]+_IMAGE)\}?`)
)

// Pulls adds to pulls (image -> architectures) the images a rendered
// target pulls: its catalog base and build base, and every image its
// Dockerfile names in an `ARG <NAME>_IMAGE=` line (the templates' rule), for
// the target's architectures, or for the build host's where a stage runs on
// $BUILDPLATFORM only.
func Pulls(pulls map[string][]catalog.Arch, t *catalog.Target, dockerfile []byte) {
	add := func(ref string, arches ...catalog.Arch) {
		for _, a := range arches {
			if !containsArch(pulls[ref], a) {
				pulls[ref] = append(pulls[ref], a)
			}
		}
	}
	add(t.Spec.Base, t.Arches...)
	add(t.Spec.BuildBase, t.Arches...)
	buildOnly := map[string]bool{}
	for _, m := range fromBuild.FindAllSubmatch(dockerfile, -1) {
		buildOnly[string(m[1])] = true
	}
	for _, m := range fromTarget.FindAllSubmatch(dockerfile, -1) {
		delete(buildOnly, string(m[1]))
	}
	for _, m := range argImage.FindAllSubmatch(dockerfile, -1) {
		if buildOnly[string(m[1])] {
			add(string(m[2]), catalog.X86_64) // this machine
		} else {
			add(string(m[2]), t.Arches...)
		}
	}
}

func containsArch(list []catalog.Arch, a catalog.Arch) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// PushStandIns pushes the stand-in of every image in pulls to the registry
// at host under the image's own path, so that BuildKit, told
// --registry-mirror docker.io=host, pulls it there. An image without a
// stand-in, or a stand-in without a tarball, fails the test (skips it
// outside CI).
func PushStandIns(t testing.TB, host string, pulls map[string][]catalog.Arch) {
	t.Helper()
	refs := make([]string, 0, len(pulls))
	for ref := range pulls {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	for _, ref := range refs {
		b, err := StandIn(ref)
		if err != nil {
			t.Fatal(err)
		}
		imgs := map[string]v1.Image{}
		for _, a := range pulls[ref] {
			arch := a.GoArch()
			bb := b
			bb.Env = nil
			for _, e := range b.Env {
				bb.Env = append(bb.Env, strings.ReplaceAll(e, "{arch}", arch))
			}
			imgs[arch] = bb.Image(t, arch)
		}
		r, _ := name.ParseReference(ref)
		dst := host + "/" + r.Context().RepositoryStr() + ":" + r.Identifier()
		t.Logf("serving %s (%v) as %s", b.Name, pulls[ref], dst)
		Push(t, dst, imgs)
	}
}
