#!/usr/bin/env bash
# install-buildkit.sh: installs what real BuildKit builds need on a Debian
# bookworm machine (root, no Docker engine, no systemd):
#   - apt packages: runc, debootstrap, qemu-user-static, binfmt-support, file;
#     and for the tests: jq and bash (the generated workflow's steps, which
#     pkg/ci's tests run), dpkg-dev (dpkg-scanpackages, for the test APT
#     repositories of pkg/osindex/apttest), openssh-server and
#     openssh-client (a builder reached over ssh://, pkg/buildkit's tests)
#   - buildkitd + buildctl compiled from the Go module proxy (no prebuilt
#     downloads) into $PREFIX/bin (default /usr/local/bin)
#   - arm64 emulation: mounts binfmt_misc and enables qemu-aarch64
#
# Idempotent and fast when everything is present.
# Env: PREFIX (default /usr/local), REQUIRE_ARM64=1 to fail when arm64
# emulation cannot be enabled (default: warn only), GO (go binary).
set -euo pipefail

BUILDKIT_VERSION="v0.34.2"

PREFIX="${PREFIX:-/usr/local}"
BINDIR="$PREFIX/bin"
REQUIRE_ARM64="${REQUIRE_ARM64:-0}"
APT_PACKAGES=(runc debootstrap qemu-user-static binfmt-support file ca-certificates jq bash dpkg-dev openssh-server openssh-client)

log() { echo "install-buildkit: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || die "must run as root (or have sudo)"
	SUDO="sudo"
fi

# --- Go toolchain -----------------------------------------------------------
find_go() {
	if [ -n "${GO:-}" ]; then echo "$GO"; return; fi
	if command -v go >/dev/null 2>&1; then command -v go; return; fi
	if [ -x /usr/local/go/bin/go ]; then echo /usr/local/go/bin/go; return; fi
	return 1
}

# --- apt packages -----------------------------------------------------------
apt_install() {
	local missing=() p
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	log "apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Only refresh the package lists when there are none, or when the
	# install fails with the lists we have (e.g. stale lists -> 404).
	if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
		$SUDO apt-get update -qq
	fi
	if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
		log "install failed; running apt-get update and retrying"
		$SUDO apt-get update -qq
		$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
}

# --- buildkitd / buildctl ---------------------------------------------------
installed_version() { # $1 = binary name; prints the version field or nothing
	local bin="$BINDIR/$1"
	[ -x "$bin" ] || return 0
	# "buildkitd github.com/moby/buildkit v0.34.2 <revision>"
	"$bin" --version 2>/dev/null | awk '{print $3}' || true
}

install_buildkit() {
	if [ "$(installed_version buildkitd)" = "$BUILDKIT_VERSION" ] &&
		[ "$(installed_version buildctl)" = "$BUILDKIT_VERSION" ]; then
		return 0
	fi
	local go
	go="$(find_go)" || die "Go toolchain not found (set GO= or put go on PATH)"
	log "building buildkitd/buildctl $BUILDKIT_VERSION with $("$go" version)"
	local start=$SECONDS tmp
	tmp="$(mktemp -d)"
	trap 'rm -rf "$tmp"' RETURN
	# `go install github.com/moby/buildkit/cmd/buildkitd@vX` is refused because
	# buildkit's go.mod has `exclude` directives; so download the module and
	# build it as the main module (its own go.mod/go.sum, read-only cache).
	local dir
	dir="$(cd "$tmp" && GOWORK=off GOFLAGS='' "$go" mod download -json "github.com/moby/buildkit@$BUILDKIT_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
	if [ -z "$dir" ] || [ ! -d "$dir" ]; then
		die "go mod download github.com/moby/buildkit@$BUILDKIT_VERSION failed"
	fi
	local pkg=github.com/moby/buildkit
	local ldflags="-X $pkg/version.Version=$BUILDKIT_VERSION -X $pkg/version.Package=$pkg"
	# Same flags as buildkit's Dockerfile (static, no cgo).
	(
		cd "$dir"
		export GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0
		"$go" build -trimpath -ldflags "$ldflags" -o "$tmp/buildctl" ./cmd/buildctl
		"$go" build -trimpath -tags "osusergo netgo static_build seccomp" \
			-ldflags "$ldflags -extldflags -static" -o "$tmp/buildkitd" ./cmd/buildkitd
	)
	$SUDO mkdir -p "$BINDIR"
	local b
	for b in buildkitd buildctl; do
		# copy + rename so a running buildkitd binary is not overwritten in place
		$SUDO cp "$tmp/$b" "$BINDIR/.$b.new"
		$SUDO chmod 0755 "$BINDIR/.$b.new"
		$SUDO mv -f "$BINDIR/.$b.new" "$BINDIR/$b"
	done
	log "built buildkit $BUILDKIT_VERSION in $((SECONDS - start))s"
}

# --- arm64 emulation (binfmt_misc + qemu-user-static) -----------------------
enable_arm64() {
	case "$(uname -m)" in aarch64 | arm64) return 0 ;; esac
	local bm=/proc/sys/fs/binfmt_misc
	if [ ! -e "$bm/status" ]; then
		$SUDO modprobe binfmt_misc 2>/dev/null || true
		$SUDO mount -t binfmt_misc binfmt_misc "$bm" 2>/dev/null ||
			log "WARNING: cannot mount binfmt_misc on $bm (unprivileged container?)"
	fi
	if [ -e "$bm/status" ] && [ ! -e "$bm/qemu-aarch64" ]; then
		$SUDO update-binfmts --enable qemu-aarch64 ||
			log "WARNING: update-binfmts --enable qemu-aarch64 failed"
	fi
	# `update-binfmts --enable` also (re)enables a registered-but-disabled entry
	if [ -e "$bm/qemu-aarch64" ] && [ "$(head -n1 "$bm/qemu-aarch64")" != enabled ]; then
		$SUDO update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
	fi
}

arm64_ok() {
	case "$(uname -m)" in aarch64 | arm64) return 0 ;; esac
	[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] &&
		[ "$(head -n1 /proc/sys/fs/binfmt_misc/qemu-aarch64)" = enabled ]
}

apt_install "${APT_PACKAGES[@]}"
install_buildkit
enable_arm64

arm64=no
arm64_ok && arm64=yes
if [ "$arm64" = no ] && [ "$REQUIRE_ARM64" = 1 ]; then
	die "arm64 emulation is not available"
fi
runc_v="$(runc --version 2>/dev/null | awk 'NR==1{print $3}')"
echo "buildkitd $(installed_version buildkitd) buildctl $(installed_version buildctl) runc ${runc_v:-none} in $BINDIR; arm64 emulation: $arm64"
