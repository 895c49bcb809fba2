package testenv

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

func TestStandIn(t *testing.T) {
	cases := []struct {
		ref, want, wantErr string
	}{
		{ref: "docker.io/library/python:3.11-slim-bookworm", want: "python-bookworm"},
		{ref: "docker.io/library/python:3.13-slim-bookworm", want: "python-trixie"},
		{ref: "docker.io/library/node:20-bookworm-slim", want: "node-trixie"},
		{ref: "docker.io/library/node:18-bookworm-slim", want: "node-bookworm"},
		{ref: "docker.io/library/debian:trixie-slim", want: "debian-trixie"},
		{ref: "docker.io/library/maven:3.9-eclipse-temurin-21", want: "maven-trixie"},
		{ref: "docker.io/library/python:3.12-slim-bookworm", wantErr: "no Debian suite ships library/python 3.12"},
		{ref: "docker.io/library/debian:bullseye-slim", wantErr: "no local Debian base"},
		{ref: "mcr.microsoft.com/dotnet/runtime:8.0-bookworm-slim", wantErr: "only Docker Hub"},
		{ref: "docker.io/library/ruby:3.3-slim-bookworm", wantErr: "no local stand-in"},
	}
	for _, tc := range cases {
		t.Run(tc.ref, func(t *testing.T) {
			b, err := StandIn(tc.ref)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("StandIn = %v, %v; want an error with %q", b, err, tc.wantErr)
				}
				return
			}
			if err != nil || b.Name != tc.want {
				t.Fatalf("StandIn = %v, %v; want %s", b.Name, err, tc.want)
			}
		})
	}
}

func TestPulls(t *testing.T) {
	target := &catalog.Target{Arches: []catalog.Arch{catalog.X86_64, catalog.ARM64},
		Spec: catalog.Variant{Base: "docker.io/library/debian:trixie-slim", BuildBase: "docker.io/library/debian:trixie-slim"}}
	dockerfile := []byte(`ARG BASE_IMAGE=docker.io/library/debian:trixie-slim
ARG MAVEN_IMAGE=docker.io/library/maven:3.9-eclipse-temurin-21
FROM --platform=$BUILDPLATFORM ${MAVEN_IMAGE} AS ric
FROM ${BASE_IMAGE} AS image
`)
	got := map[string][]catalog.Arch{}
	Pulls(got, target, dockerfile)
	want := map[string][]catalog.Arch{
		"docker.io/library/debian:trixie-slim":           {catalog.X86_64, catalog.ARM64},
		"docker.io/library/maven:3.9-eclipse-temurin-21": {catalog.X86_64},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Pulls (-want +got):\n%s", diff)
	}
}
