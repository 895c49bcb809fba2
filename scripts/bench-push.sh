#!/usr/bin/env bash
# Benchmark `lambdaimg push` against `crane push`, one image at a time and
# $JOBS at a time (xargs -P, as a CI script would), on the same images, each against a fresh in-process
# registry on 127.0.0.1 with a fixed delay per request (repository-scoped
# blobs with cross-repository mounts, like Docker Hub and ECR). Reports wall
# time, bytes uploaded, blob uploads (and duplicates) and mounts for both.
# Not a test: nothing is asserted.
#
#   scripts/bench-push.sh
#   LATENCY=50ms RUNTIMES=python3.12,nodejs22.x JOBS=16 scripts/bench-push.sh
#   LAMBDAIMG=bin/lambdaimg scripts/bench-push.sh     # a prebuilt binary
#
# Knobs: LATENCY (20ms), RUNTIMES (8 runtimes x 2 architectures = 16 images),
# BASE_SIZE (8 MiB shared per architecture), SIZE (2 MiB per image), JOBS (8:
# xargs -P for crane, each crane then having up to 4 requests in flight, and
# lambdaimg's --jobs, its bound on requests in flight, unless LAMBDAIMG_JOBS),
# VERIFY (0: push with --no-verify, as crane verifies nothing; 1: verify too),
# ATTACH (0: push with --no-attach, as crane attaches nothing; 1: attach the
# SBOM and changelog referrers too).
set -euo pipefail
cd "$(dirname "$0")/.."

LATENCY=${LATENCY:-20ms}
RUNTIMES=${RUNTIMES:-python3.11,python3.12,python3.13,nodejs20.x,nodejs22.x,java21,ruby3.3,provided2023}
BASE_SIZE=${BASE_SIZE:-8388608}
SIZE=${SIZE:-2097152}
JOBS=${JOBS:-8}
LAMBDAIMG_JOBS=${LAMBDAIMG_JOBS:-$JOBS}
VERIFY=${VERIFY:-0}
ATTACH=${ATTACH:-0}
GO=${GO:-go}

work=$(mktemp -d)
reg_pid=""
cleanup() {
  if [ -n "$reg_pid" ]; then kill "$reg_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "building tools..." >&2
$GO build -o "$work/latencyregistry" ./pkg/registrytest/cmd/latencyregistry
$GO build -o "$work/fakestore" ./pkg/registrytest/cmd/fakestore
if [ -z "${LAMBDAIMG:-}" ]; then
  $GO build -o "$work/lambdaimg" ./cmd/lambdaimg
  LAMBDAIMG="$work/lambdaimg"
fi
if ! "$LAMBDAIMG" push --help >/dev/null 2>&1; then
  echo "$LAMBDAIMG has no push command (is it registered in pkg/cli/root.go?); set LAMBDAIMG to a binary that has" >&2
  exit 1
fi
CRANE=${CRANE:-$(command -v crane || true)}
if [ -z "$CRANE" ]; then
  GOBIN="$work/bin" $GO install github.com/google/go-containerregistry/cmd/crane@v0.22.1
  CRANE="$work/bin/crane"
fi

echo "making the images..." >&2
"$work/fakestore" -store "$work/store" -layouts "$work/layouts" -runtimes "$RUNTIMES" \
  -base-size "$BASE_SIZE" -size "$SIZE" >"$work/images.tsv"
images=$(wc -l <"$work/images.tsv")

# start_registry NAME: serves a fresh registry, sets $host.
start_registry() {
  rm -f "$work/$1.addr"
  "$work/latencyregistry" -latency "$LATENCY" -addr-file "$work/$1.addr" -stats "$work/$1.json" -timeout 20m &
  reg_pid=$!
  for _ in $(seq 100); do
    [ -s "$work/$1.addr" ] && break
    sleep 0.05
  done
  host=$(cat "$work/$1.addr")
}

stop_registry() {
  kill -TERM "$reg_pid"
  wait "$reg_pid" || true
  reg_pid=""
}

now_ns() { date +%s%N; }

echo "lambdaimg push: $images images, latency $LATENCY, --jobs $LAMBDAIMG_JOBS..." >&2
start_registry lambdaimg
t0=$(now_ns)
verify_flag=--no-verify
if [ "$VERIFY" = 1 ]; then verify_flag=; fi
attach_flag=--no-attach
if [ "$ATTACH" = 1 ]; then attach_flag=; fi
"$LAMBDAIMG" push --store "$work/store" --registry "$host/bench" --jobs "$LAMBDAIMG_JOBS" $verify_flag $attach_flag \
  >"$work/lambdaimg.out" 2>"$work/lambdaimg.err"
t1=$(now_ns)
stop_registry
lambdaimg_ms=$(( (t1 - t0) / 1000000 ))
lambdaimg_tags=$(wc -l <"$work/lambdaimg.out")

echo "crane push: $images images, one after another..." >&2
start_registry crane
t0=$(now_ns)
while IFS=$'\t' read -r dir repo tag; do
  "$CRANE" push "$dir" "$host/bench/$repo:$tag" >/dev/null 2>>"$work/crane.err"
done <"$work/images.tsv"
t1=$(now_ns)
stop_registry
crane_ms=$(( (t1 - t0) / 1000000 ))

echo "crane push: $images images, $JOBS at a time (xargs -P$JOBS)..." >&2
start_registry craneP
t0=$(now_ns)
export CRANE host
# shellcheck disable=SC2016 # expanded by the inner shell
tr '\t' '\n' <"$work/images.tsv" | xargs -d '\n' -n 3 -P "$JOBS" \
  sh -c '"$CRANE" push "$1" "$host/bench/$2:$3" >/dev/null' crane 2>>"$work/crane.err"
t1=$(now_ns)
stop_registry
craneP_ms=$(( (t1 - t0) / 1000000 ))

stat() { sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p" "$work/$1.json"; }

printf '\n%d images (%s), %s latency per request, 127.0.0.1, lambdaimg --jobs %d, crane -P%d\n' "$images" "$RUNTIMES" "$LATENCY" "$LAMBDAIMG_JOBS" "$JOBS"
printf '%-10s %9s %6s %14s %8s %10s %7s %9s\n' tool wall_s tags bytes_uploaded uploads duplicates mounts requests
for t in lambdaimg crane craneP; do
  ms=$lambdaimg_ms tags=$lambdaimg_tags
  if [ "$t" = crane ]; then ms=$crane_ms tags=$images; fi
  if [ "$t" = craneP ]; then ms=$craneP_ms tags=$images; fi
  printf '%-10s %9.2f %6d %14d %8d %10d %7d %9d\n' "$t" "$(awk "BEGIN{print $ms/1000}")" "$tags" \
    "$(stat "$t" bytesUploaded)" "$(stat "$t" blobUploads)" "$(stat "$t" duplicateUploads)" \
    "$(stat "$t" blobMounts)" "$(stat "$t" requests)"
done
echo
echo "requests by kind (registrytest.Classify):"
for t in lambdaimg crane craneP; do
  printf '%-10s %s\n' "$t" "$(tr -d '\n' <"$work/$t.json" | sed -n 's/.*"requestKinds": {\([^}]*\)}.*/\1/p' | tr -s ' ' | sed 's/^ //')"
done
printf 'lambdaimg is %.1fx as fast as crane one at a time (and wrote %d tags to crane'"'"'s %d)\n' \
  "$(awk "BEGIN{print $crane_ms/$lambdaimg_ms}")" "$lambdaimg_tags" "$images"
printf 'lambdaimg takes %.2f of the time of crane -P%d (craneP in the table)\n' \
  "$(awk "BEGIN{print $lambdaimg_ms/$craneP_ms}")" "$JOBS"
