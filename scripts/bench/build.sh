#!/usr/bin/env bash
# Benchmark: build the same generated targets three ways against ONE buildkitd
#   1. lambdaimg build (one client, concurrent solves, unchanged targets skipped)
#   2. buildx bake with a bake file over the same Dockerfiles (driver "remote")
#   3. buildctl, one target after another
# and report cold wall time (BuildKit cache pruned first), warm wall time with
# nothing changed, and the ratios. Everything is offline: bases come from a
# local registry (internal/cmd/localregistry) through registry mirrors.
#
# Env: TARGETS (lambdaimg selector flags, default two provided runtimes on
# Debian for both architectures), ADDR (buildkitd; default lambdaimg's own),
# RUNS (warm repetitions, default 3).
set -euo pipefail
shopt -s inherit_errexit # a failing tool inside $(timeit ...) stops the run
cd "$(dirname "$0")/../.."
ROOT=$PWD
RUNS=${RUNS:-3}
WORK=${WORK:-$ROOT/.cache/bench-build}
BIN=$ROOT/bin/lambdaimg
rm -rf "$WORK" && mkdir -p "$WORK"

make -s build
scripts/install-buildkit.sh >/dev/null
scripts/install-rie.sh .cache/rie >/dev/null
scripts/make-test-bases.sh .cache/bases >/dev/null
command -v buildx >/dev/null || GOBIN=/usr/local/bin go install github.com/docker/buildx/cmd/buildx@latest
BUILDX=$(command -v buildx)

ADDR=${ADDR:-$("$BIN" builder status --start -o json | sed -n 's/.*"address": "\(.*\)".*/\1/p')}
echo "bench: buildkitd at $ADDR" >&2

go build -o .cache/localregistry ./internal/cmd/localregistry
ready=$WORK/registry
.cache/localregistry -bases .cache/bases -ready "$ready" >/dev/null &
reg=$!
export BUILDX_CONFIG=$WORK/buildx
trap 'kill $reg 2>/dev/null || true; "$BUILDX" rm lambdaimg-bench >/dev/null 2>&1 || true' EXIT
for _ in $(seq 1 600); do [ -s "$ready" ] && break; sleep 0.1; done
host=$(cat "$ready")
"$BUILDX" create --name lambdaimg-bench --driver remote "$ADDR" >/dev/null

SEL=(${TARGETS:---runtime provided.al2023 --runtime provided.al2 --os debian})
EPOCH=$(date -u -d "$(sed -n 's/^  sourceDate: //p' runtimes.yaml)" +%s)
"$BIN" generate "${SEL[@]}" --dir "$WORK/contexts" -o json > "$WORK/targets.json" 2>/dev/null

# One line per image: context dir, platform, arch.
python3 - "$WORK/targets.json" > "$WORK/jobs" <<'PY'
import json, sys
for t in json.load(open(sys.argv[1])):
    for p in t["platforms"]:
        arch = {"linux/amd64": "x86_64", "linux/arm64": "arm64"}[p]
        # bake target names allow [a-zA-Z0-9_-] only
        print(t["dir"], p, arch, (t["runtime"] + "-" + t["variant"]).replace(".", "_"))
PY

# Build args every tool passes: the images the Dockerfile pulls, mirrored.
image_args() { # DIR -> "KEY=VALUE" lines
	sed -n 's/^ARG \([A-Z_]*_IMAGE\)=docker\.io\/\(.*\)$/\1='"$host"'\/\2/p' "$1/Dockerfile"
}

# buildx bake file over the same contexts.
{
	echo '{"group": {"default": {"targets": ['
	awk '{printf "%s\"%s-%s\"", (NR>1?",":""), $4, $3}' "$WORK/jobs"
	echo ']}}, "target": {'
	first=1
	while read -r dir platform arch name; do
		[ $first = 1 ] || echo ','
		first=0
		args=$(image_args "$dir" | awk -F= '{printf ",\"%s\": \"%s\"", $1, $2}')
		printf '"%s-%s": {"context": "%s", "dockerfile": "Dockerfile", "target": "image", "platforms": ["%s"],' "$name" "$arch" "$dir" "$platform"
		printf '"contexts": {"rie": "%s/.cache/rie/%s"}, "args": {"SOURCE_DATE_EPOCH": "%s"%s},' "$ROOT" "$arch" "$EPOCH" "$args"
		printf '"output": ["type=oci,dest=%s/bake-%s-%s.tar,rewrite-timestamp=true"], "attest": ["type=provenance,disabled=true"]}' "$WORK" "$name" "$arch"
	done < "$WORK/jobs"
	echo '}}'
} > "$WORK/docker-bake.json"

run_lambdaimg() {
	"$BIN" build "${SEL[@]}" --addr "$ADDR" --store "$WORK/store" --registry-mirror "docker.io=$host" \
		--rie .cache/rie --progress quiet >>"$WORK/lambdaimg.log" 2>&1
}
run_bake() {
	"$BUILDX" --builder lambdaimg-bench bake -f "$WORK/docker-bake.json" --progress quiet >>"$WORK/bake.log" 2>&1
}
run_buildctl() {
	while read -r dir platform arch name; do
		opts=()
		while IFS= read -r kv; do opts+=(--opt "build-arg:$kv"); done < <(image_args "$dir")
		buildctl --addr "$ADDR" build --progress quiet --frontend dockerfile.v0 \
			--local context="$dir" --local dockerfile="$dir" --local rie="$ROOT/.cache/rie/$arch" \
			--opt target=image --opt platform="$platform" --opt context:rie=local:rie \
			--opt build-arg:SOURCE_DATE_EPOCH="$EPOCH" "${opts[@]}" \
			--output "type=oci,dest=$WORK/buildctl-$name-$arch.tar,rewrite-timestamp=true" >>"$WORK/buildctl.log" 2>&1
	done < "$WORK/jobs"
}

now() { date +%s.%N; }
timeit() { local s; s=$(now); "$@" || { echo "bench: $1 failed; see $WORK/*.log" >&2; return 1; }; awk -v a="$(now)" -v b="$s" 'BEGIN{printf "%.3f", a-b}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
prune() { buildctl --addr "$ADDR" prune --all >/dev/null; rm -rf "$WORK/store"; }

median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

# Cold: BuildKit's cache pruned before each run; warm: nothing changed since
# the run before. Each is the median of RUNS runs, tools taking turns so that
# a slow spell of the machine does not land on one tool only.
declare -A colds warms cold warm
for _ in $(seq 1 "$RUNS"); do
	for tool in lambdaimg bake buildctl; do
		prune
		colds[$tool]+="$(timeit "run_$tool") "
		warms[$tool]+="$(timeit "run_$tool") "
	done
done
for tool in lambdaimg bake buildctl; do
	cold[$tool]=$(tr ' ' '\n' <<<"${colds[$tool]}" | grep . | median)
	warm[$tool]=$(tr ' ' '\n' <<<"${warms[$tool]}" | grep . | median)
	echo "bench: $tool cold ${colds[$tool]}(median ${cold[$tool]}) warm ${warms[$tool]}(median ${warm[$tool]})" >&2
done

images=$(wc -l < "$WORK/jobs")
printf '\n%d images (%s), one buildkitd (%s)\n\n' "$images" "${SEL[*]}" "$ADDR"
printf '| tool | cold (s, median of %d) | warm no-op (s, median of %d) |\n|---|---:|---:|\n' "$RUNS" "$RUNS"
for tool in lambdaimg bake buildctl; do
	printf '| %s | %.2f | %.2f |\n' "$tool" "${cold[$tool]}" "${warm[$tool]}"
done
printf '\ncold: bake/lambdaimg = %sx (target >= 1)\n' "$(ratio "${cold[bake]}" "${cold[lambdaimg]}")"
printf 'warm: bake/lambdaimg = %sx (target >= 2)\n' "$(ratio "${warm[bake]}" "${warm[lambdaimg]}")"
printf 'cold: buildctl/lambdaimg = %sx\n' "$(ratio "${cold[buildctl]}" "${cold[lambdaimg]}")"
