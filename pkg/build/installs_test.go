package build

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPackageInstalls(t *testing.T) {
	df := []byte(`FROM debian AS build
RUN apt-get update && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        g++ make "python3" && \
    apt-get clean
RUN echo install me; /usr/bin/apt install -y curl=7.88 $EXTRA ca-certificates; apt-get remove foo
FROM debian
RUN apt-get -y install nodejs | tee log
RUN ["apt-get", "install", "-y", "jq"]
RUN npm install aws-lambda-ric
FROM alpine
RUN apk add --no-cache --virtual .build-deps gcc 'musl-dev' && apk del .build-deps; apk add curl>8
`)
	got, err := PackageInstalls(df)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"g++", "make", "python3", "curl=7.88", "ca-certificates", "nodejs", "jq", "gcc", "musl-dev", "curl>8"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PackageInstalls (-want +got):\n%s", diff)
	}
}
