package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/pkg/lock"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
)

// pushIndex makes ref a two-platform index whose arm64 image is of
// generation g, and returns its digest.
func pushIndex(t *testing.T, ref string, g int) string {
	t.Helper()
	idx := v1.ImageIndex(empty.Index)
	for arch, size := range map[string]int{"x86_64": 0, "arm64": g} {
		img, err := registrytest.Image(registrytest.ImageSpec{Runtime: "debian", Arch: arch, Size: size})
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: registrytest.GoArch(arch)}}})
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// TestLockCommand locks a target whose bases an in-process registry
// serves (provided.al2023 on Debian pins no language package, so no public
// registry is asked): written, then unchanged; the base moves: refused
// without --update (exit 10, file untouched), written with it. Then
// build --locked refuses a stale lock and a target the lock lacks, before
// BuildKit.
func TestLockCommand(t *testing.T) {
	reg := registrytest.Start(t)
	base := reg.Host + "/docker-io/library/debian:bookworm-slim"
	first := pushIndex(t, base, 0)
	file := filepath.Join(t.TempDir(), "lambdaimg.lock")
	args := []string{"lock", "--runtime", "provided.al2023", "--os", "debian", "--lock", file,
		"--store", filepath.Join(t.TempDir(), "none"), "--registry-mirror", "docker.io=" + reg.Host + "/docker-io"}

	out, err := runCLI(t, args...)
	if err != nil || !strings.Contains(out, "written") {
		t.Fatalf("first lock = %v, output %q; want written", err, out)
	}
	written, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(written), "digest: "+first) || !strings.Contains(string(written), "ref: docker.io/library/debian:bookworm-slim") {
		t.Errorf("the lock does not hold the catalog's reference and the mirror's digest %s:\n%s", first, written)
	}
	if out, err = runCLI(t, args...); err != nil || !strings.Contains(out, "unchanged") {
		t.Errorf("second lock = %v, output %q; want unchanged", err, out)
	}

	moved := pushIndex(t, base, 1)
	out, err = runCLI(t, args...)
	if code, ok := ExitCode(err); !ok || code != LockOutdated {
		t.Fatalf("lock after the base moved = %v, want exit status %d", err, LockOutdated)
	}
	if !strings.Contains(out, "images.BASE_IMAGE.digest: "+first+" -> "+moved) || !strings.Contains(out, "not written") {
		t.Errorf("output does not name the moved digest or says it wrote:\n%s", out)
	}
	if now, _ := os.ReadFile(file); string(now) != string(written) {
		t.Error("lock without --update changed the file")
	}
	out, err = runCLI(t, append(args, "-o", "json")...)
	var res lock.Result
	if code, _ := ExitCode(err); code != LockOutdated || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("lock -o json = %v, want exit status %d and one JSON document:\n%s", err, LockOutdated, out)
	}
	if want := (lock.Change{Target: "provided.al2023/debian", Path: "images.BASE_IMAGE.digest", Old: first, New: moved}); res.Written || !slices.Contains(res.Changes, want) {
		t.Errorf("lock -o json = %+v, want not written and the change %v", res, want)
	}
	if _, err := runCLI(t, append(args, "--update")...); err != nil {
		t.Fatalf("lock --update = %v", err)
	}
	f, err := lock.Read(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Targets["provided.al2023/debian"].Images["BASE_IMAGE"].Digest; got != moved {
		t.Errorf("after --update BASE_IMAGE is %s, want %s", got, moved)
	}

	build := []string{"build", "--locked", "--lock", file, "--store", t.TempDir(), "--addr", "tcp://127.0.0.1:1", "--os", "debian"}
	if _, err := runCLI(t, append(build, "--runtime", "python3.12")...); err == nil || !strings.Contains(err.Error(), "no entry for python3.12/debian") {
		t.Errorf("build --locked of a target not locked = %v, want a refusal naming it", err)
	}
	f.Targets["provided.al2023/debian"].Inputs = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	if err := f.Write(file); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, append(build, "--runtime", "provided.al2023")...); err == nil || !strings.Contains(err.Error(), "run 'lambdaimg lock --update'") {
		t.Errorf("build --locked with a stale lock = %v, want a refusal saying to run lock --update", err)
	}
}
