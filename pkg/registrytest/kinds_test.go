package registrytest

import (
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestClassify(t *testing.T) {
	const d = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	tests := []struct {
		name, method, target, want string
	}{
		{"ping", "GET", "/v2/", KindPing},
		{"ping without slash", "GET", "/v2", KindPing},
		{"token", "GET", "/token?scope=x", KindToken},
		{"head manifest", "HEAD", "/v2/ns/python/manifests/3.12", KindHeadManifest},
		{"get manifest", "GET", "/v2/ns/python/manifests/" + d, KindGetManifest},
		{"put manifest", "PUT", "/v2/ns/python/manifests/3.12", KindPutManifest},
		{"head blob", "HEAD", "/v2/ns/python/blobs/" + d, KindHeadBlob},
		{"get blob", "GET", "/v2/ns/python/blobs/" + d, KindGetBlob},
		{"mount", "POST", "/v2/ns/python/blobs/uploads/?mount=" + d + "&from=ns/node", KindMount},
		{"monolithic post", "POST", "/v2/ns/python/blobs/uploads/?digest=" + d, KindPostMonolithic},
		{"upload session", "POST", "/v2/ns/python/blobs/uploads/", KindPostUpload},
		{"chunk", "PATCH", "/v2/ns/python/blobs/uploads/abc", KindPatchUpload},
		{"commit", "PUT", "/v2/ns/python/blobs/uploads/abc?digest=" + d, KindPutUpload},
		{"referrers", "GET", "/v2/ns/python/referrers/" + d, KindReferrers},
		{"tags", "GET", "/v2/ns/python/tags/list", KindTagsList},
		{"a repository named blobs", "HEAD", "/v2/ns/blobs/manifests/1", KindHeadManifest},
		{"elsewhere", "GET", "/metrics", KindOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(httptest.NewRequest(tc.method, tc.target, nil)); got != tc.want {
				t.Errorf("Classify(%s %s) = %q, want %q", tc.method, tc.target, got, tc.want)
			}
		})
	}
}

func TestRequestKinds(t *testing.T) {
	s := Start(t)
	img, err := Image(ImageSpec{Runtime: "python3.12", Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(s.Host + "/ns/python:3.12")
	if _, err := remote.Head(ref); err == nil {
		t.Fatal("HEAD of a missing tag succeeded")
	}
	got := s.RequestKinds()
	want := map[string]int{KindPing: 1, KindHeadManifest: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request kinds (-want +got):\n%s", diff)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	var n int
	for _, c := range s.RequestKinds() {
		n += c
	}
	if int64(n) != s.Requests() {
		t.Errorf("request kinds add up to %d, want %d requests", n, s.Requests())
	}
	if s.RequestKinds()[KindPutManifest] != 1 {
		t.Errorf("PUT manifest = %d, want 1", s.RequestKinds()[KindPutManifest])
	}
}
