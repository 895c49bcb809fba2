#!/usr/bin/env bash
# start-buildkitd.sh [--root DIR] [--addr ADDR] [-- EXTRA_BUILDKITD_FLAGS...]
#
# Starts a rootful buildkitd (OCI worker via runc, containerd worker off) in
# the background for tests and demos, unless ADDR already answers. Waits until
# `buildctl debug workers` answers (60 s) and prints the address on stdout.
#   BUILDKITD_ROOT  state dir (default /var/lib/lambdaimg-buildkit);
#                   log: $BUILDKITD_ROOT/buildkitd.log, pid: $BUILDKITD_ROOT/buildkitd.pid
#   BUILDKITD_ADDR  listen address (default unix:///run/lambdaimg/buildkitd.sock)
#   BUILDKITD_SNAPSHOTTER  overlayfs|native|auto (default auto = overlayfs when
#                   the kernel/filesystem allows it, else native)
#   BUILDKITD_FLAGS extra flags (word-split)
# Install buildkitd/buildctl/runc first with scripts/install-buildkit.sh.
set -euo pipefail

ROOT="${BUILDKITD_ROOT:-/var/lib/lambdaimg-buildkit}"
ADDR="${BUILDKITD_ADDR:-unix:///run/lambdaimg/buildkitd.sock}"
SNAPSHOTTER="${BUILDKITD_SNAPSHOTTER:-auto}"
EXTRA=()
# shellcheck disable=SC2206
[ -n "${BUILDKITD_FLAGS:-}" ] && EXTRA=(${BUILDKITD_FLAGS})
TIMEOUT=60

log() { echo "start-buildkitd: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	--root) ROOT="$2"; shift 2 ;;
	--root=*) ROOT="${1#*=}"; shift ;;
	--addr) ADDR="$2"; shift 2 ;;
	--addr=*) ADDR="${1#*=}"; shift ;;
	--) shift; EXTRA+=("$@"); break ;;
	*) die "unknown argument $1" ;;
	esac
done

command -v buildkitd >/dev/null || die "buildkitd not on PATH (run scripts/install-buildkit.sh)"
command -v buildctl >/dev/null || die "buildctl not on PATH (run scripts/install-buildkit.sh)"
command -v runc >/dev/null || die "runc not on PATH (run scripts/install-buildkit.sh)"

answers() { timeout 10 buildctl --addr "$ADDR" debug workers >/dev/null 2>&1; }

if answers; then
	echo "$ADDR"
	exit 0
fi

[ "$(id -u)" -eq 0 ] || die "must run as root (rootful runc worker)"
mkdir -p "$ROOT"
LOGFILE="$ROOT/buildkitd.log"
PIDFILE="$ROOT/buildkitd.pid"

# A daemon we started earlier that is alive but not answering (yet)?
if [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null &&
	grep -qa buildkitd "/proc/$(cat "$PIDFILE")/cmdline" 2>/dev/null; then
	log "buildkitd pid $(cat "$PIDFILE") is running; waiting for $ADDR"
else
	case "$ADDR" in
	unix://*)
		sock="${ADDR#unix://}"
		mkdir -p "$(dirname "$sock")"
		rm -f "$sock" # stale socket from a dead daemon
		;;
	esac
	flags=(
		--root "$ROOT"
		--addr "$ADDR"
		--oci-worker=true
		--oci-worker-snapshotter="$SNAPSHOTTER"
		--containerd-worker=false
		"${EXTRA[@]}"
	)
	log "starting buildkitd ${flags[*]} (log: $LOGFILE)"
	echo "--- $(date -u +%FT%TZ) buildkitd ${flags[*]}" >>"$LOGFILE"
	# setsid + nohup: keep running after this script (and its session) ends
	setsid nohup buildkitd "${flags[@]}" >>"$LOGFILE" 2>&1 </dev/null &
	echo $! >"$PIDFILE"
fi

pid="$(cat "$PIDFILE")"
deadline=$((SECONDS + TIMEOUT))
until answers; do
	if ! kill -0 "$pid" 2>/dev/null; then
		tail -n 30 "$LOGFILE" >&2 || true
		die "buildkitd (pid $pid) exited; see $LOGFILE"
	fi
	if [ $SECONDS -ge $deadline ]; then
		tail -n 30 "$LOGFILE" >&2 || true
		die "buildkitd did not answer on $ADDR within ${TIMEOUT}s; see $LOGFILE"
	fi
	sleep 0.5
done
log "buildkitd pid $pid ready"
echo "$ADDR"
