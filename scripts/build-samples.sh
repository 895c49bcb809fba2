#!/usr/bin/env bash
# build-samples.sh OUTDIR: builds what of lambdaimg's samples needs building,
# on this machine:
#   OUTDIR/java    the Java sample function (classes compiled for Java 17, the
#                  wrapper, and the lambdaimg-sample marker that makes
#                  `lambdaimg test --handler OUTDIR/java` run its checks)
#   OUTDIR/layer   the sample layer laid out for --extension: python/,
#                  nodejs/node_modules/, java/lib/lambdaimg-sample-layer.jar and
#                  an empty extensions/
# Then: lambdaimg test --runtime java21 --os debian --handler OUTDIR/java \
#         --extension OUTDIR/layer
#
# Needs a JDK 17 or newer (javac, jar) and Maven, which fetches
# aws-lambda-java-core from Maven Central (the function compiles against its
# interfaces; at run time the image's Runtime Interface Client provides
# them). Rebuilds every time (a few seconds). Env: JAVA_CORE_VERSION.
set -euo pipefail

JAVA_CORE_VERSION="${JAVA_CORE_VERSION:-1.4.0}"

log() { echo "build-samples: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
command -v javac >/dev/null || die "javac not found (a JDK 17 or newer is needed)"
command -v jar >/dev/null || die "jar not found (a JDK 17 or newer is needed)"
command -v mvn >/dev/null || die "mvn not found (Maven fetches aws-lambda-java-core)"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/build-samples.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# The API jar, by Maven (which checks Maven Central's checksums).
mvn -B -q -ntp dependency:copy -Dartifact="com.amazonaws:aws-lambda-java-core:$JAVA_CORE_VERSION" \
	-DoutputDirectory="$WORK/lib" >"$WORK/mvn.log" 2>&1 || { cat "$WORK/mvn.log" >&2; die "fetching aws-lambda-java-core $JAVA_CORE_VERSION"; }
core="$WORK/lib/aws-lambda-java-core-$JAVA_CORE_VERSION.jar"
[ -s "$core" ] || die "no $core after mvn dependency:copy"

rm -rf "$OUT/java" "$OUT/layer"
mkdir -p "$OUT/java" "$OUT/layer/extensions" "$OUT/layer/java/lib" "$WORK/layer-classes"
# The layer first: the function's classes refer to it, as code using a layer does.
javac --release 17 -encoding UTF-8 -d "$WORK/layer-classes" \
	$(find "$ROOT/samples/layer/java-source" -name '*.java' | sort)
jar --create --file "$OUT/layer/java/lib/lambdaimg-sample-layer.jar" -C "$WORK/layer-classes" .
javac --release 17 -encoding UTF-8 -cp "$core:$WORK/layer-classes" -d "$OUT/java" \
	$(find "$ROOT/samples/java-source" -name '*.java' | sort)
install -m 0755 "$ROOT/samples/java-source/wrapper.sh" "$OUT/java/wrapper.sh"
echo "lambdaimg's Java sample, built by scripts/build-samples.sh" >"$OUT/java/lambdaimg-sample"
(cd "$ROOT/samples/layer" && tar --exclude=./java-source -cf - .) | (cd "$OUT/layer" && tar -xf -)
log "built $OUT/java and $OUT/layer"
