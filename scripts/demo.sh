#!/usr/bin/env bash
# The main job end to end on this machine, with no image registry (only
# Debian's packages, npm and PyPI): install BuildKit and the Runtime
# Interface Emulator, make local Debian bases, serve them from a local
# registry, build images with lambdaimg for both architectures, smoke-test
# them through the emulator (a custom runtime, Node.js and Python with their
# AWS-runtime checks), push them to a local registry and verify them.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/lambdaimg}
STORE=${STORE:-.cache/demo-store}

scripts/install-buildkit.sh
scripts/install-rie.sh .cache/rie
scripts/make-test-bases.sh .cache/bases

ready=$(mktemp)
go build -o .cache/localregistry ./internal/cmd/localregistry
.cache/localregistry -bases .cache/bases -ready "$ready" >/dev/null &
reg=$!
trap 'kill $reg 2>/dev/null || true; rm -f "$ready"' EXIT
for _ in $(seq 1 600); do [ -s "$ready" ] && break; sleep 0.1; done
[ -s "$ready" ] || { echo "demo: the local registry did not start" >&2; exit 1; }
host=$(cat "$ready")
echo "demo: base images served from $host (docker.io is mirrored there)" >&2

"$BIN" list
"$BIN" generate --all --dir contexts >/dev/null 2>&1
echo "demo: rendered $(find contexts -name Dockerfile | wc -l) build contexts into contexts/" >&2

common=(--store "$STORE" --registry-mirror "docker.io=$host" --rie .cache/rie --progress "${PROGRESS:-plain}")
# A custom runtime on Debian for both architectures, and Node.js 18 on Debian
# (Debian's nodejs, aws-lambda-ric from npm) trusting the host's CA bundle.
"$BIN" build --runtime provided.al2023 --os debian "${common[@]}"
"$BIN" build --runtime nodejs18.x --os debian --platform linux/amd64 \
	--ca-bundle /etc/ssl/certs/ca-certificates.crt "${common[@]}"
echo "demo: building again changes nothing, so BuildKit is not asked:" >&2
"$BIN" build --runtime provided.al2023 --os debian "${common[@]}"
echo "demo: the images are single-platform manifests in the OCI layout $STORE (index.json)" >&2

echo "demo: smoke-testing them through the Runtime Interface Emulator:" >&2
"$BIN" test --runtime provided.al2023 --os debian "${common[@]}"
"$BIN" test --runtime nodejs18.x --os debian --platform linux/amd64 "${common[@]}"

echo "demo: Python 3.11 on Debian (awslambdaric from PyPI), built and checked like AWS's runtime:" >&2
"$BIN" test --runtime python3.11 --os debian --platform linux/amd64 \
	--ca-bundle /etc/ssl/certs/ca-certificates.crt --timeout 6 "${common[@]}"

echo "demo: pushing them to the local registry with AWS-style tags, then verifying a tag:" >&2
"$BIN" push --store "$STORE" --registry "$host/demo"
"$BIN" verify "$host/demo/provided:al2023-debian-arm64"
