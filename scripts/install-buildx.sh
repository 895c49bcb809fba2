#!/usr/bin/env bash
# install-buildx.sh: installs a pinned buildx (the standalone binary, used by
# scripts/bench) compiled from the Go module proxy into $PREFIX/bin (default
# /usr/local/bin). No prebuilt downloads, no Docker engine needed (the
# benchmarks use buildx's "remote" driver).
#
# As install-buildkit.sh does for buildkitd, download the module and build it
# as the main module with its own go.mod/go.sum: `go install ...@vX` would do
# for v0.38.2, but is refused for a version whose go.mod has replace or
# exclude directives; and this sets the version that `buildx version` prints
# (the idempotence check reads it).
#
# Idempotent and fast when the pinned version is installed.
# Env: PREFIX (default /usr/local), GO (go binary).
set -euo pipefail

BUILDX_VERSION="v0.38.2"

PREFIX="${PREFIX:-/usr/local}"
BINDIR="$PREFIX/bin"

log() { echo "install-buildx: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

installed_version() { # "github.com/docker/buildx v0.38.2 <revision>"
	[ -x "$BINDIR/buildx" ] || return 0
	"$BINDIR/buildx" version 2>/dev/null | awk '{print $2}' || true
}

if [ "$(installed_version)" = "$BUILDX_VERSION" ]; then
	echo "$BINDIR/buildx"
	exit 0
fi

GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
[ -x "$GO" ] || die "Go toolchain not found (set GO= or put go on PATH)"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

log "building buildx $BUILDX_VERSION with $("$GO" version)"
start=$SECONDS
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
dir="$(cd "$tmp" && GOWORK=off GOFLAGS='' "$GO" mod download -json "github.com/docker/buildx@$BUILDX_VERSION" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
[ -n "$dir" ] && [ -d "$dir" ] || die "go mod download github.com/docker/buildx@$BUILDX_VERSION failed"
pkg=github.com/docker/buildx
(
	cd "$dir"
	export GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0
	"$GO" build -trimpath \
		-ldflags "-s -w -X $pkg/version.Version=$BUILDX_VERSION -X $pkg/version.Package=$pkg" \
		-o "$tmp/buildx" ./cmd/buildx
)
$SUDO mkdir -p "$BINDIR"
$SUDO cp "$tmp/buildx" "$BINDIR/.buildx.new"
$SUDO chmod 0755 "$BINDIR/.buildx.new"
$SUDO mv -f "$BINDIR/.buildx.new" "$BINDIR/buildx"
log "built buildx $BUILDX_VERSION in $((SECONDS - start))s"
echo "$BINDIR/buildx"
