#!/bin/sh
# Long fuzz run of the hardening properties (issue 7): the same tests as CI,
# with many more hypothesis examples per property (default 5000; CI uses 120).
#
#   bench/fuzz_long.sh            # 5000 examples per property
#   bench/fuzz_long.sh 20000      # more
#
# Prints hypothesis statistics (examples run, how many were rejected) per test.
set -eu
cd "$(dirname "$0")/.."
PYTEST="${PYTEST:-/tmp/devvenv/bin/pytest}"
CHUTES_BUILD_FUZZ_EXAMPLES="${1:-5000}" exec "$PYTEST" -q -p no:cacheprovider \
    --hypothesis-show-statistics tests/hardening
