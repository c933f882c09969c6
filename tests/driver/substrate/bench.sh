#!/usr/bin/env bash
# Benchmark (not a test): ListActors over N actors (default 10,000, plus 500
# in another atespace that must be filtered out) through the backend against
# the FAKE ate-api-server; prints the median of 5 runs and the process's
# resident memory.  Run from a build tree:
#   OSS_BUILD_DIR=build OSS_SOURCE_DIR=$PWD tests/driver/substrate/bench.sh
set -uo pipefail
source "$(dirname "$0")/fakes_lib.sh"
"$bin" bench
OSS_IT_BENCH_N=${OSS_IT_BENCH_CREATES:-21} "$bin" create-bench
