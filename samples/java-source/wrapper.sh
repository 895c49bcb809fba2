#!/bin/sh
# lambdaimg's sample AWS_LAMBDA_EXEC_WRAPPER: marks the environment, then
# runs the runtime's command, which it gets as its arguments.
[ $# -gt 0 ] || { echo "wrapper.sh: no runtime command given" >&2; exit 1; }
export LAMBDAIMG_WRAPPED=yes
exec "$@"
