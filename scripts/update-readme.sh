#!/usr/bin/env bash
# Rewrites the support matrix in README.md (between the matrix markers) from
# the catalog: `scripts/update-readme.sh [path/to/lambdaimg]`.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-bin/lambdaimg}
matrix=$("$bin" list -o markdown)
MATRIX="$matrix" python3 - <<'PY'
import os, re
p = "README.md"
s = open(p).read()
begin, end = "<!-- matrix:begin -->", "<!-- matrix:end -->"
i, j = s.index(begin) + len(begin), s.index(end)
open(p, "w").write(s[:i] + "\n" + os.environ["MATRIX"] + "\n" + s[j:])
PY
