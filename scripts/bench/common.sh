# shellcheck shell=bash
# common.sh: sourced by scripts/bench/build.sh and scripts/bench/pool.sh.
# What both need to build the same generated images with lambdaimg and with
# buildx bake, offline: the tools (lambdaimg, buildkit, the RIE, a pinned
# buildx), bases served by a local registry (internal/cmd/localregistry) that
# the builds reach through registry mirrors, the generated contexts, one line
# per image, a bake file over them, and timing helpers.
#
# The caller sets ROOT (the repository, current directory) and WORK (a fresh
# scratch directory) before sourcing, and may put commands to run on exit in
# the array ON_EXIT. Env: TARGETS (lambdaimg selector flags, default two
# provided runtimes on Debian for both architectures), BENCH_BASES (base
# tarballs to make, as scripts/make-test-bases.sh names them; default all).
#
# Sets BIN, BUILDX, host (the local registry), SEL, EPOCH; writes
# $WORK/targets.json, $WORK/jobs, $WORK/docker-bake.json.

BIN=$ROOT/bin/lambdaimg
ON_EXIT+=()

make -s build
scripts/install-buildkit.sh >/dev/null
scripts/install-rie.sh .cache/rie >/dev/null
# shellcheck disable=SC2086 # BENCH_BASES is a list of names
scripts/make-test-bases.sh .cache/bases ${BENCH_BASES:-} >/dev/null
BUILDX=$(scripts/install-buildx.sh)

go build -o .cache/localregistry ./internal/cmd/localregistry
.cache/localregistry -bases .cache/bases -ready "$WORK/registry" >/dev/null &
ON_EXIT+=("kill $!")
bench_exit() {
	local c
	for c in "${ON_EXIT[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
}
trap bench_exit EXIT
for _ in $(seq 1 600); do [ -s "$WORK/registry" ] && break; sleep 0.1; done
host=$(cat "$WORK/registry")
# buildx keeps its builders here, not in the user's ~/.docker
export BUILDX_CONFIG=$WORK/buildx

# shellcheck disable=SC2206 # TARGETS is a list of flags
SEL=(${TARGETS:---runtime provided.al2023 --runtime provided.al2 --os debian})
EPOCH=$(date -u -d "$(sed -n 's/^  sourceDate: //p' runtimes.yaml)" +%s)
"$BIN" generate "${SEL[@]}" --dir "$WORK/contexts" -o json >"$WORK/targets.json" 2>/dev/null

# One line per image: context dir, platform, arch, bake-safe target name.
python3 - "$WORK/targets.json" >"$WORK/jobs" <<'PY'
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

# buildx bake file over the same contexts: one target per image, OCI tarball
# outputs with the layers lambdaimg exports (Docker media types, gzip), no
# provenance.
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
		printf '"output": ["type=oci,dest=%s/bake-%s-%s.tar,rewrite-timestamp=true,oci-mediatypes=false,compression=gzip"], "attest": ["type=provenance,disabled=true"]}' "$WORK" "$name" "$arch"
	done <"$WORK/jobs"
	echo '}}'
} >"$WORK/docker-bake.json"

now() { date +%s.%N; }
# timeit CMD...: runs CMD, prints its wall time in seconds.
timeit() { local s; s=$(now); "$@" || { echo "bench: $1 failed; see $WORK/*.log" >&2; return 1; }; awk -v a="$(now)" -v b="$s" 'BEGIN{printf "%.3f", a-b}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
