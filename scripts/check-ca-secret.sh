#!/usr/bin/env bash
# Builds a two-stage Dockerfile with the CA declaration of a rendered
# context (render.Options{CA: true}) against a busybox rootfs, passing the
# host's CA bundle as the BuildKit secret "ca", and checks that the steps
# see it (readable by an unprivileged user) while the image holds it in no
# layer and no environment variable.
#   scripts/check-ca-secret.sh [busybox-rootfs.tar.gz]
# The rootfs is made by scripts/make-test-bases.sh; buildkitd is lambdaimg's
# own (`lambdaimg builder status --start`) unless BUILDKIT_HOST says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
rootfs=${1:-.cache/bases/busybox-amd64.tar.gz}
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
golden=pkg/render/testdata/golden/python3.12/debian+ca+extensions/Dockerfile
export BUILDKIT_HOST=${BUILDKIT_HOST:-unix://$HOME/.cache/lambdaimg/buildkitd/buildkitd.sock}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bb" "$work/ctx" "$work/oci"
tar -xzf "$rootfs" -C "$work/bb"
{
	echo 'FROM busybox AS build'
	sed -n '/^ARG SSL_CERT_FILE=/,/GIT_SSL_CAINFO/p' "$golden"
	cat <<'DF'
RUN --mount=type=secret,id=ca,mode=0444 \
    su -s /bin/sh nobody -c 'sha256sum "$SSL_CERT_FILE"' | cut -d' ' -f1 > /ca.sum && \
    env | grep -c '=/run/secrets/ca$' > /ca.vars
FROM busybox AS image
COPY --from=build /ca.sum /ca.vars /
DF
} > "$work/ctx/Dockerfile"
buildctl build --frontend dockerfile.v0 --local context="$work/ctx" --local dockerfile="$work/ctx" \
	--local bb="$work/bb" --opt context:busybox=local:bb --secret id=ca,src="$ca" \
	--output type=oci,dest="$work/img.tar" >"$work/log" 2>&1 || { tail -20 "$work/log"; exit 1; }
tar -xf "$work/img.tar" -C "$work/oci"
CA="$ca" OCI="$work/oci" python3 - <<'PY'
import json, os, sys, tarfile, hashlib
root, ca = os.environ["OCI"], os.environ["CA"]
blob = lambda d: os.path.join(root, "blobs", "sha256", d.split(":")[1])
idx = json.load(open(os.path.join(root, "index.json")))
man = json.load(open(blob(idx["manifests"][0]["digest"])))
cfg = json.load(open(blob(man["config"]["digest"])))
want = hashlib.sha256(open(ca, "rb").read()).hexdigest()
marker = open(ca, "rb").read().strip().split(b"\n")[-2]
problems, seen = [], {}
for layer in man["layers"]:
    with tarfile.open(blob(layer["digest"])) as t:
        for m in t.getmembers():
            data = t.extractfile(m).read() if m.isfile() else b""
            if "secrets" in m.name or marker in data:
                problems.append("a layer holds the CA bundle: " + m.name)
            seen[m.name] = data.decode(errors="replace").strip()
if seen.get("ca.sum") != want:
    problems.append("the step did not read the bundle as nobody: %r" % seen.get("ca.sum"))
if seen.get("ca.vars") != "7":
    problems.append("the step saw %r CA variables, want 7" % seen.get("ca.vars"))
if any("/run/secrets" in e for e in cfg["config"].get("Env", [])):
    problems.append("the image environment names the secret")
print("\n".join(problems) or "ok: the steps trust the bundle; no layer or variable of the image holds it")
sys.exit(1 if problems else 0)
PY
