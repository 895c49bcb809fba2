package verify

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

func image(t *testing.T, arch string) v1.Image {
	t.Helper()
	img, err := registrytest.Image(registrytest.ImageSpec{Runtime: "python3.12", Arch: arch, Cmd: []string{"app.handler"}})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestReferenceRegistry(t *testing.T) {
	reg := registrytest.Start(t)
	amd, arm := image(t, "x86_64"), image(t, "arm64")
	attestation := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: attestation, Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"},
		}},
	)
	repo := reg.Host + "/lambda/python"
	put := func(tag string, t2 remote.Taggable) {
		ref, err := name.ParseReference(repo + ":" + tag)
		if err != nil {
			t.Fatal(err)
		}
		switch x := t2.(type) {
		case v1.ImageIndex:
			err = remote.WriteIndex(ref, x)
		case v1.Image:
			err = remote.Write(ref, x)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	put("3.12", idx)
	put("3.12-arm64", arm)
	v, _ := New()

	reps, err := v.Reference(context.Background(), repo+":3.12")
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 1 || len(reps[0].Checks) != 1 || reps[0].Checks[0].Status != Fail {
		t.Fatalf("an index got %+v, want one failed manifest check", reps)
	}
	armDigest, _ := arm.Digest()
	for _, want := range []string{
		"an image index (application/vnd.oci.image.index.v1+json) of 3 manifest(s) [linux/amd64 sha256:", ", linux/arm64 sha256:",
		"with 1 attestation manifest(s)", "--provenance=false", "Lambda deploys single-platform image manifests only",
	} {
		if !strings.Contains(reps[0].Checks[0].Reason, want) {
			t.Errorf("reason %q does not contain %q", reps[0].Checks[0].Reason, want)
		}
	}

	reps, err = v.Reference(context.Background(), repo+":3.12-arm64")
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 1 || reps[0].Failed() || reps[0].Digest != armDigest.String() || reps[0].Platform != "linux/arm64" {
		t.Errorf("the arm64 image got %+v, want a pass for linux/arm64 %s", reps, armDigest)
	}

	if _, err := v.Reference(context.Background(), repo+":missing"); err == nil {
		t.Error("a missing tag gave no error")
	}
}

func TestReferenceLayout(t *testing.T) {
	st, entries := registrytest.NewStore(t, registrytest.Runtimes([]string{"python3.12", "ruby3.3"}, "x86_64", "arm64")...)
	// An entry whose descriptor disagrees with its config.
	if _, err := st.Put(store.Ref{Runtime: "go1.x", Variant: "aws", Arch: "arm64"}, image(t, "x86_64"), nil); err != nil {
		t.Fatal(err)
	}
	v, _ := New()
	dir := st.Dir()
	tests := []struct {
		ref     string
		want    []string // ref -> failed?
		wantErr string
	}{
		{ref: "oci:" + dir, want: []string{
			"oci:" + dir + ":go1.x/aws/arm64 FAIL",
			"oci:" + dir + ":python3.12/aws/arm64 ok", "oci:" + dir + ":python3.12/aws/x86_64 ok",
			"oci:" + dir + ":ruby3.3/aws/arm64 ok", "oci:" + dir + ":ruby3.3/aws/x86_64 ok",
		}},
		{ref: "oci:" + dir + ":ruby3.3/aws/x86_64", want: []string{"oci:" + dir + ":ruby3.3/aws/x86_64 ok"}},
		{ref: "oci:" + dir + "@" + entries[0].Descriptor.Digest.String(), want: []string{"oci:" + dir + ":" + entries[0].Name() + " ok"}},
		{ref: "oci:" + dir + ":python3.13/aws/x86_64", wantErr: `no image named "python3.13/aws/x86_64"`},
		{ref: "oci:" + t.TempDir(), wantErr: "opening the OCI layout"},
	}
	for _, tc := range tests {
		t.Run(strings.TrimPrefix(tc.ref, "oci:"+dir), func(t *testing.T) {
			reps, err := v.Reference(context.Background(), tc.ref)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range reps {
				s := r.Ref + " ok"
				if r.Failed() {
					s = r.Ref + " FAIL"
				}
				got = append(got, s)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("reports (-want +got):\n%s", diff)
			}
		})
	}
	reps, _ := v.Reference(context.Background(), "oci:"+dir+":go1.x/aws/arm64")
	if err := reps[0].Err(); err == nil || !strings.Contains(err.Error(), "FAIL platform: the descriptor says linux/arm64 but the config says linux/amd64") {
		t.Errorf("err = %v, want the platform disagreement", err)
	}
}
