#!/usr/bin/env bash
# Benchmark: the same generated images as scripts/bench/build.sh built on a
# pool of two buildkitd (A and B, started here on 127.0.0.1 TCP ports, each
# with its own state directory) and on B alone:
#   lambdaimg build --builder B                 (one builder)
#   lambdaimg build --builder A --builder B     (the pool)
#   buildx bake, remote driver, node B          (one builder)
#   buildx bake, remote driver, node A + node B appended (`buildx create --append`)
# Cold wall time (both daemons' caches pruned, lambdaimg's store emptied),
# warm wall time with nothing changed, medians of RUNS, the ratios; and the
# schedule's quality in each cold run: jobs per daemon, and each daemon's
# busy and idle time during the run, read from the daemons' own build
# history (`buildctl debug histories`: one record per solve, with its start
# and end), the same way for both tools. lambdaimg's `-o json` names each
# image's builder too; the script checks that it agrees with the history.
#
# POOL=split (default): A builds linux/amd64 only, B both (arm64 under qemu),
# as in the issue's pool tests. A runs with --oci-worker-platform linux/amd64,
# but that does not hold where qemu is registered: BuildKit (v0.34.2) adds
# the platforms it can emulate to a worker's list when asked for its workers
# (worker/base.Worker.Platforms), and builds them; so each tool is also told
# A's platform: lambdaimg `--builder tcp://A,platform=linux/amd64`, buildx
# `create --platform linux/amd64`. buildx gives a pinned platform to one node
# only (pinning linux/amd64 on B too unpins it from A; without a pin on B,
# linux/arm64 goes to A, the first node whose workers list it), so its B is
# pinned to linux/arm64; lambdaimg reads B's platforms from its workers.
# POOL=full: both daemons unrestricted and no platform named to either tool:
# each reads the daemons' workers (amd64 native, arm64 emulated on both).
#
# CLIENT_CACHE: what lambdaimg's own user cache (LAMBDAIMG_CACHE_DIR, here
# $WORK/lambdaimg-cache: base images' inventories, layer scans) holds at a
# cold run. empty (default): emptied before each cold run, with the
# daemons' state and the store: truly cold. kept: filled by one build
# before the measured runs and kept: cold builders and store, as a
# scheduled CI run with a cached ~/.cache, or a workstation, sees them.
#
# CLIENT_CORE: shared (default): the tools' clients, the daemons and the
# local registry share the machine's CPUs, as when the builders run on the
# machine of the client. own: the clients run on CPU 1 alone and
# everything else on CPU 0 (taskset), as when the builders are remote: what
# a client does with its CPU (lambdaimg's verify gate and package record)
# then takes nothing from the builders, and the builders have one CPU.
#
# Env: POOL, CLIENT_CACHE, CLIENT_CORE, PORTS (default "12741 12742"), RUNS (default 3),
# TARGETS, BENCH_BASES (see common.sh). The daemons are stopped and their
# state deleted on exit.
set -euo pipefail
shopt -s inherit_errexit # a failing tool inside $(timeit ...) stops the run
CLIENT_CORE=${CLIENT_CORE:-shared}
case $CLIENT_CORE in
shared) PIN=() ;;
own)
	if [ "$(nproc --all)" -lt 2 ]; then
		echo "bench: CLIENT_CORE=own needs 2 CPUs" >&2
		exit 2
	fi
	# this script, and so the daemons and the registry, on CPU 0
	if [ -z "${BENCH_PINNED:-}" ]; then BENCH_PINNED=1 exec taskset -c 0 "$0" "$@"; fi
	PIN=(taskset -c 1)
	;;
*) echo "bench: CLIENT_CORE is shared or own, not $CLIENT_CORE" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/../.."
ROOT=$PWD
RUNS=${RUNS:-3}
POOL=${POOL:-split}
CLIENT_CACHE=${CLIENT_CACHE:-empty}
PORTS=${PORTS:-12741 12742}
WORK=${WORK:-$ROOT/.cache/bench-pool}
rm -rf "$WORK" && mkdir -p "$WORK"

# shellcheck source=scripts/bench/common.sh
. scripts/bench/common.sh

case $CLIENT_CACHE in
empty | kept) ;;
*) echo "bench: CLIENT_CACHE is empty or kept, not $CLIENT_CACHE" >&2; exit 2 ;;
esac
export LAMBDAIMG_CACHE_DIR=$WORK/lambdaimg-cache

read -r port_a port_b <<<"$PORTS"
A=tcp://127.0.0.1:$port_a
B=tcp://127.0.0.1:$port_b
# a_flags: A's daemon flags; A_/B_ the builder specs for lambdaimg;
# a_bake/b_bake: buildx create flags of each node.
case $POOL in
split)
	a_flags=(--oci-worker-platform linux/amd64)
	A_=$A,platform=linux/amd64 B_=$B
	a_bake=(--platform linux/amd64) b_bake=(--platform linux/arm64)
	;;
full) a_flags=() A_=$A B_=$B a_bake=() b_bake=() ;;
*) echo "bench: POOL is split or full, not $POOL" >&2; exit 2 ;;
esac

start_daemon() { # NAME ADDR FLAGS...
	local name=$1 addr=$2 root=$WORK/buildkitd-$1
	shift 2
	if ss -ltn | awk '{print $4}' | grep -qx "${addr#tcp://}"; then
		echo "bench: ${addr#tcp://} is taken; set PORTS" >&2
		return 1
	fi
	ON_EXIT+=("scripts/stop-buildkitd.sh --root $root; rm -rf $root")
	scripts/start-buildkitd.sh --root "$root" --addr "$addr" -- "$@" >/dev/null
	echo "bench: buildkitd $name at $addr, state $root${*:+, $*}" >&2
}
start_daemon a "$A" "${a_flags[@]}"
start_daemon b "$B"

"$BUILDX" create --name bench-one --driver remote "$B" >/dev/null
"$BUILDX" create --name bench-pool --node a --driver remote "${a_bake[@]}" "$A" >/dev/null
"$BUILDX" create --name bench-pool --append --node b --driver remote "${b_bake[@]}" "$B" >/dev/null

run_lambdaimg() { # BUILDER... ; the report goes to $WORK/report.json
	local b builders=()
	for b in "$@"; do builders+=(--builder "$b"); done
	"${PIN[@]}" "$BIN" build "${SEL[@]}" "${builders[@]}" --store "$WORK/store" --registry-mirror "docker.io=$host" \
		--rie .cache/rie --progress quiet -o json >"$WORK/report.json" 2>>"$WORK/lambdaimg.log"
}
run_bake() { # BUILDX-BUILDER
	"${PIN[@]}" "$BUILDX" --builder "$1" bake -f "$WORK/docker-bake.json" --progress quiet >>"$WORK/bake.log" 2>&1
}
# cpu NAME CMD...: runs CMD, appends "NAME USER SYS" (the client's CPU
# seconds: on 2 cores they are taken from the daemons) to $WORK/cpu.
cpu() {
	local TIMEFORMAT="$1 %U %S"
	shift
	{ time "$@"; } 2>>"$WORK/cpu"
}
prune() {
	buildctl --addr "$A" prune --all >/dev/null
	buildctl --addr "$B" prune --all >/dev/null
	rm -rf "$WORK/store"
	if [ "$CLIENT_CACHE" = empty ]; then rm -rf "$LAMBDAIMG_CACHE_DIR"; fi
}

# schedule NAME T0 T1: one line on the jobs, busy and idle time of each
# daemon between T0 and T1 (epoch seconds), from the daemons' histories.
schedule() {
	local name=$1 t0=$2 t1=$3 d
	for d in A B; do
		echo "== $d"
		buildctl --addr "${!d}" debug histories --format '{{json .}}'
	done >"$WORK/histories"
	python3 - "$name" "$t0" "$t1" "$WORK/histories" "$WORK/report.json" "$A" "$B" <<'PY'
import json, sys
from datetime import datetime
name, t0, t1, hist, report, addr_a, addr_b = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), *sys.argv[4:]

def ts(v):  # a protobuf Timestamp as JSON: RFC 3339 or {"seconds", "nanos"}
    if isinstance(v, dict):
        return int(v.get("seconds", 0)) + int(v.get("nanos", 0)) / 1e9
    return datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()

spans, d = {"A": [], "B": []}, None
for line in open(hist):
    line = line.strip()
    if line.startswith("== "):
        d = line[3:]
        continue
    if not line:
        continue
    r = json.loads(line)
    r = r.get("record") or r.get("Record") or r
    c = r.get("CreatedAt") or r.get("createdAt")
    e = r.get("CompletedAt") or r.get("completedAt")
    if c is None:
        continue
    s = ts(c)
    if t0 <= s <= t1:
        plat = (r.get("FrontendAttrs") or {}).get("platform", "?")
        spans[d].append((s, ts(e) if e else t1, plat.replace("linux/", "")))

wall = t1 - t0
out = []
for d in "AB":
    busy, end = 0.0, t0
    for s, e, _ in sorted(spans[d]):
        s, e = max(s, end), min(e, t1)
        if e > s:
            busy += e - s
            end = e
    plats = sorted(p for _, _, p in spans[d])
    what = " (" + " ".join(f"{plats.count(p)} {p}" for p in sorted(set(plats))) + ")" if plats else ""
    out.append(f"{d} {len(spans[d])} jobs{what}, busy {busy:.2f} s, idle {wall - busy:.2f} s")
line = f"{name}: wall {wall:.2f} s; " + "; ".join(out)

if name.startswith("lambdaimg"):  # the report's builder per image
    def results(v):
        if isinstance(v, dict):
            if "builder" in v and "platform" in v:
                yield v
            for x in v.values():
                yield from results(x)
        elif isinstance(v, list):
            for x in v:
                yield from results(x)
    names, per = {addr_a: "A", addr_b: "B"}, {"A": 0, "B": 0}
    for r in results(json.load(open(report))):
        k = names.get(r["builder"], r["builder"])
        per[k] = per.get(k, 0) + 1
    line += "; report: " + ", ".join(f"{k} {v}" for k, v in per.items())
    if any(per[d] != len(spans[d]) for d in "AB"):
        line += " (DISAGREES with the histories)"
print(line)
PY
}

# Cold: both daemons pruned and the store emptied before each run (and
# lambdaimg's user cache, unless CLIENT_CACHE=kept); warm:
# nothing changed since. Runs take turns so that a slow spell of the machine
# does not land on one only.
RUNNERS=(lambdaimg-1 lambdaimg-2 bake-1 bake-2)
declare -A cmd=(
	[lambdaimg-1]="run_lambdaimg $B_"
	[lambdaimg-2]="run_lambdaimg $A_ $B_"
	[bake-1]="run_bake bench-one"
	[bake-2]="run_bake bench-pool"
)
declare -A colds warms cold warm
: >"$WORK/schedule"
if [ "$CLIENT_CACHE" = kept ]; then # fill it; not measured
	prune
	run_lambdaimg "$B_"
fi
for i in $(seq 1 "$RUNS"); do
	for r in "${RUNNERS[@]}"; do
		prune
		t0=$(now)
		# shellcheck disable=SC2086 # cmd holds a function and its arguments
		t=$(timeit cpu "$r" ${cmd[$r]})
		colds[$r]+="$t "
		line=$(schedule "$r run $i" "$t0" "$(awk -v a="$t0" -v b="$t" 'BEGIN{printf "%.3f", a+b}')")
		echo "$line; client CPU $(tail -n1 "$WORK/cpu" | awk '{printf "%.2f s", $2+$3}')" | tee -a "$WORK/schedule" >&2
		# shellcheck disable=SC2086
		warms[$r]+="$(timeit ${cmd[$r]}) "
	done
done
for r in "${RUNNERS[@]}"; do
	cold[$r]=$(tr ' ' '\n' <<<"${colds[$r]}" | grep . | median)
	warm[$r]=$(tr ' ' '\n' <<<"${warms[$r]}" | grep . | median)
	echo "bench: $r cold ${colds[$r]}(median ${cold[$r]}) warm ${warms[$r]}(median ${warm[$r]})" >&2
done

images=$(wc -l <"$WORK/jobs")
printf '\n%d images (%s); POOL=%s, CLIENT_CACHE=%s, CLIENT_CORE=%s: A = %s (%s), B = %s (both platforms)\n\n' "$images" "${SEL[*]}" "$POOL" "$CLIENT_CACHE" "$CLIENT_CORE" "$A" \
	"$([ "$POOL" = split ] && echo linux/amd64 only || echo both platforms)" "$B"
printf '| run | builders | cold (s, median of %d) | warm no-op (s, median of %d) |\n|---|---|---:|---:|\n' "$RUNS" "$RUNS"
for r in "${RUNNERS[@]}"; do
	case $r in *-1) on=B ;; *) on="A + B" ;; esac
	printf '| %s | %s | %.2f | %.2f |\n' "${r%-*}" "$on" "${cold[$r]}" "${warm[$r]}"
done
printf '\ncold: lambdaimg one/two builders = %sx; bake one/two = %sx\n' \
	"$(ratio "${cold[lambdaimg-1]}" "${cold[lambdaimg-2]}")" "$(ratio "${cold[bake-1]}" "${cold[bake-2]}")"
printf 'cold, two builders: bake/lambdaimg = %sx (target >= 1)\n' "$(ratio "${cold[bake-2]}" "${cold[lambdaimg-2]}")"
printf 'warm, two builders: bake/lambdaimg = %sx\n' "$(ratio "${warm[bake-2]}" "${warm[lambdaimg-2]}")"
printf '\nschedule, cold runs (from the daemons'"'"' build histories):\n'
cat "$WORK/schedule"
