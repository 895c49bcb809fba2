#!/usr/bin/env bash
# Benchmark: build the same generated targets three ways against ONE buildkitd
#   1. lambdaimg build (one client, concurrent solves, unchanged targets skipped)
#   2. buildx bake with a bake file over the same Dockerfiles (driver "remote")
#   3. buildctl, one target after another
# and report cold wall time (BuildKit cache pruned first), warm wall time with
# nothing changed, and the ratios. Everything is offline: bases come from a
# local registry (internal/cmd/localregistry) through registry mirrors; the
# setup is scripts/bench/common.sh, shared with scripts/bench/pool.sh.
#
# Env: TARGETS (lambdaimg selector flags, default two provided runtimes on
# Debian for both architectures), ADDR (buildkitd; default lambdaimg's own),
# RUNS (repetitions, default 3), BENCH_BASES (see common.sh).
set -euo pipefail
shopt -s inherit_errexit # a failing tool inside $(timeit ...) stops the run
cd "$(dirname "$0")/../.."
ROOT=$PWD
RUNS=${RUNS:-3}
WORK=${WORK:-$ROOT/.cache/bench-build}
rm -rf "$WORK" && mkdir -p "$WORK"

# shellcheck source=scripts/bench/common.sh
. scripts/bench/common.sh
ADDR=${ADDR:-$("$BIN" builder status --start -o json | sed -n 's/.*"address": "\(.*\)".*/\1/p')}
echo "bench: buildkitd at $ADDR" >&2
ON_EXIT+=('"$BUILDX" rm lambdaimg-bench')
"$BUILDX" create --name lambdaimg-bench --driver remote "$ADDR" >/dev/null

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

prune() { buildctl --addr "$ADDR" prune --all >/dev/null; rm -rf "$WORK/store"; }

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
