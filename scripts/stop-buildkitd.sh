#!/usr/bin/env bash
# stop-buildkitd.sh [--root DIR]: stops the buildkitd that start-buildkitd.sh
# started (found through $BUILDKITD_ROOT/buildkitd.pid). Idempotent.
#   BUILDKITD_ROOT  state dir (default /var/lib/lambdaimg-buildkit)
set -euo pipefail

ROOT="${BUILDKITD_ROOT:-/var/lib/lambdaimg-buildkit}"
while [ $# -gt 0 ]; do
	case "$1" in
	--root) ROOT="$2"; shift 2 ;;
	--root=*) ROOT="${1#*=}"; shift ;;
	*) echo "stop-buildkitd: unknown argument $1" >&2; exit 1 ;;
	esac
done
PIDFILE="$ROOT/buildkitd.pid"

if [ ! -s "$PIDFILE" ]; then
	echo "stop-buildkitd: not running (no $PIDFILE)" >&2
	exit 0
fi
pid="$(cat "$PIDFILE")"
if ! kill -0 "$pid" 2>/dev/null || ! grep -qa buildkitd "/proc/$pid/cmdline" 2>/dev/null; then
	echo "stop-buildkitd: pid $pid is not a running buildkitd" >&2
	rm -f "$PIDFILE"
	exit 0
fi
kill -TERM "$pid"
for _ in $(seq 1 60); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.5
done
if kill -0 "$pid" 2>/dev/null; then
	echo "stop-buildkitd: pid $pid still running after 30s; sending SIGKILL" >&2
	kill -KILL "$pid" 2>/dev/null || true
fi
rm -f "$PIDFILE"
echo "stop-buildkitd: stopped pid $pid" >&2
