package build

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
)

func TestBaseAnnotations(t *testing.T) {
	got := baseAnnotations(map[string]Base{
		"BUILD_IMAGE": {Ref: "debian:trixie", Digest: "sha256:b1", Config: "sha256:c1"},
		"BASE_IMAGE":  {Ref: "debian:trixie-slim", Digest: "sha256:b2", Config: "sha256:c2"},
	})
	want := map[string]string{
		labels.BaseName:   "debian:trixie-slim",
		labels.BaseDigest: "sha256:b2",
		labels.Bases: `{"BASE_IMAGE":{"ref":"debian:trixie-slim","digest":"sha256:b2","config":"sha256:c2"},` +
			`"BUILD_IMAGE":{"ref":"debian:trixie","digest":"sha256:b1","config":"sha256:c1"}}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := baseAnnotations(nil); got != nil {
		t.Errorf("no bases: %v, want nil", got)
	}
}
