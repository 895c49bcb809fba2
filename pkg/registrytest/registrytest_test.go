package registrytest

import (
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func do(t *testing.T, method, url string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestBlobsBelongToRepositories(t *testing.T) {
	s := Start(t)
	img, err := Image(ImageSpec{Runtime: "python3.12", Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(s.Host + "/ns/python:3.12")
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	d, _ := layers[0].Digest()
	blob := func(repo string) int {
		return do(t, http.MethodHead, s.URL()+"/v2/"+repo+"/blobs/"+d.String(), nil).StatusCode
	}
	if got := blob("ns/python"); got != http.StatusOK {
		t.Errorf("HEAD in the pushed repository: %d, want 200", got)
	}
	if got := blob("ns/nodejs"); got != http.StatusNotFound {
		t.Errorf("HEAD in another repository: %d, want 404", got)
	}
	mount := do(t, http.MethodPost, s.URL()+"/v2/ns/nodejs/blobs/uploads/?mount="+d.String()+"&from=ns/python", nil)
	if mount.StatusCode != http.StatusCreated {
		t.Errorf("mount: %d, want 201", mount.StatusCode)
	}
	if got := blob("ns/nodejs"); got != http.StatusOK {
		t.Errorf("HEAD after the mount: %d, want 200", got)
	}
	if got := s.Log().Mounts()[d]; got != 1 {
		t.Errorf("log counts %d mounts of %s, want 1", got, d)
	}
	if got := len(s.Log().BlobUploads()); got != 4 {
		t.Errorf("log counts %d uploaded blobs, want 4 (config and 3 layers)", got)
	}
	// A manifest whose blobs are missing from the repository is refused.
	other, _ := name.ParseReference(s.Host + "/ns/ruby:3.3")
	m, _ := img.RawManifest()
	mt, _ := img.MediaType()
	req, _ := http.NewRequest(http.MethodPut, s.URL()+"/v2/ns/ruby/manifests/3.3", strings.NewReader(string(m)))
	req.Header.Set("Content-Type", string(mt))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Errors []struct{ Code string } }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || len(body.Errors) != 1 || body.Errors[0].Code != "MANIFEST_BLOB_UNKNOWN" {
		t.Errorf("PUT of %s without its blobs: %d %+v, want 400 MANIFEST_BLOB_UNKNOWN", other, resp.StatusCode, body)
	}
}

func TestFaultsAreCappedAndRepeatable(t *testing.T) {
	statuses := func() []int {
		s := Start(t, WithFaults(Faults{Seed: 7, Error503: 0.5, TooMany: 0.5, MaxPerRequest: 2}))
		var out []int
		for _, p := range []string{"/v2/", "/v2/", "/v2/", "/v2/a/manifests/1", "/v2/a/manifests/1", "/v2/a/manifests/1"} {
			out = append(out, do(t, http.MethodGet, s.URL()+p, nil).StatusCode)
		}
		return out
	}
	first, second := statuses(), statuses()
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("the same seed gave other faults (-first +second):\n%s", diff)
	}
	for i, code := range first {
		faulted := code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests
		if i%3 < 2 && !faulted {
			t.Errorf("request %d: %d, want a fault (every request is faulted twice)", i, code)
		}
		if i%3 == 2 && faulted {
			t.Errorf("request %d: %d, want it let through after two faults", i, code)
		}
	}
}

func TestAuth(t *testing.T) {
	basic := Start(t, WithBasicAuth("u", "p"))
	if r := do(t, http.MethodGet, basic.URL()+"/v2/", nil); r.StatusCode != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("basic, no credentials: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	req, _ := http.NewRequest(http.MethodGet, basic.URL()+"/v2/", nil)
	req.SetBasicAuth("u", "p")
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 200 {
		t.Errorf("basic, right credentials: %v %v", r, err)
	}

	bearer := Start(t, WithBearerAuth("u", "p"))
	r := do(t, http.MethodGet, bearer.URL()+"/v2/", nil)
	if r.StatusCode != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), `realm="`+bearer.URL()+TokenPath+`"`) {
		t.Errorf("bearer, no token: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	req, _ = http.NewRequest(http.MethodGet, bearer.URL()+TokenPath, nil)
	req.SetBasicAuth("u", "wrong")
	if r, _ := http.DefaultClient.Do(req); r.StatusCode != 401 {
		t.Errorf("token with a wrong password: %d, want 401", r.StatusCode)
	}
	req.SetBasicAuth("u", "p")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.Token == "" || tok.Token != bearer.LastToken() {
		t.Fatalf("token %q, last issued %q", tok.Token, bearer.LastToken())
	}
	if r := do(t, http.MethodGet, bearer.URL()+"/v2/", map[string]string{"Authorization": "Bearer " + tok.Token}); r.StatusCode != 200 {
		t.Errorf("bearer, with the token: %d, want 200", r.StatusCode)
	}
}

func TestFakeELF(t *testing.T) {
	for arch, want := range map[string]uint16{"x86_64": EMX86_64, "amd64": EMX86_64, "arm64": EMAArch64} {
		if got := binary.LittleEndian.Uint16(FakeELF(arch)[18:]); got != want {
			t.Errorf("FakeELF(%s) e_machine = %d, want %d", arch, got, want)
		}
	}
}
