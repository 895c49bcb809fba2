#!/usr/bin/env bash
# install-rie.sh OUTDIR: builds the AWS Lambda Runtime Interface Emulator from
# the Go module proxy for both Lambda architectures (static, stripped):
#   OUTDIR/x86_64/aws-lambda-rie   (GOARCH=amd64)
#   OUTDIR/arm64/aws-lambda-rie    (GOARCH=arm64)
# Same flags as the RIE Makefile: CGO_ENABLED=0 go build -ldflags "-s -w".
# Skips when both binaries exist. Env: GO (go binary).
set -euo pipefail

RIE_MODULE="github.com/aws/aws-lambda-runtime-interface-emulator"
RIE_VERSION="v0.0.0-20261030222936-bef5c4ba774d"

log() { echo "install-rie: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
OUT="$1"

if [ -x "$OUT/x86_64/aws-lambda-rie" ] && [ -x "$OUT/arm64/aws-lambda-rie" ]; then
	log "present in $OUT"
	exit 0
fi

GO="${GO:-}"
if [ -z "$GO" ]; then
	if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
	elif [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go
	else die "Go toolchain not found (set GO= or put go on PATH)"; fi
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# `go install ...@version` refuses GOBIN when cross-compiling, so download the
# module and `go build -o` it as the main module (its own go.mod/go.sum).
dir="$(cd "$tmp" && GOWORK=off GOFLAGS='' "$GO" mod download -json "$RIE_MODULE@$RIE_VERSION" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
	die "go mod download $RIE_MODULE@$RIE_VERSION failed"
fi

start=$SECONDS
for pair in x86_64:amd64 arm64:arm64; do
	lambda_arch="${pair%%:*}" goarch="${pair##*:}"
	(
		cd "$dir"
		GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 GOOS=linux GOARCH="$goarch" \
			"$GO" build -trimpath -ldflags "-s -w" -o "$tmp/$lambda_arch/aws-lambda-rie" ./cmd/aws-lambda-rie
	)
	if command -v file >/dev/null 2>&1; then
		desc="$(file -b "$tmp/$lambda_arch/aws-lambda-rie")"
		case "$goarch:$desc" in
		amd64:*x86-64*statically\ linked* | arm64:*aarch64*statically\ linked*) ;;
		*) die "unexpected binary for $goarch: $desc" ;;
		esac
	fi
	mkdir -p "$OUT/$lambda_arch"
	mv -f "$tmp/$lambda_arch/aws-lambda-rie" "$OUT/$lambda_arch/aws-lambda-rie"
done
log "built $RIE_VERSION into $OUT in $((SECONDS - start))s"
file "$OUT"/*/aws-lambda-rie 2>/dev/null || ls -l "$OUT"/*/aws-lambda-rie
