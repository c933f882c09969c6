#!/usr/bin/env bash
# Everything CI runs, on a fresh Debian 12 machine as root:
#   install dependencies, check formatting, build with -Werror, run every
#   test (units, host integration, runsc, checkpoint/restore), then the
#   sanitizer suite and the fuzz targets for a bounded number of runs.
# Exit status: non-zero if any step fails.  Tests that need something absent
# here skip with 77 and say why (ctest lists them as "Not Run"/skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc)

step() { printf '\n=== %s ===\n' "$*"; }

step "dependencies"
bash scripts/install-deps.sh

step "format"
bash scripts/check-format.sh

step "build (-Werror)"
cmake -S . -B build -DOSS_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"

step "tests"
# Serial on purpose: the runsc and namespace tests share the host's network
# stack and two cores; parallel runs only add timing noise.
(cd build && ctest --output-on-failure --timeout 900)

if [[ -x tests/sanitize/run.sh ]]; then
    step "sanitizers (ASan + UBSan + LSan)"
    bash tests/sanitize/run.sh
fi

if [[ -x tests/fuzz/run.sh ]]; then
    step "fuzz targets (bounded)"
    bash tests/fuzz/run.sh
fi

step "done"
