#!/usr/bin/env bash
# Runs the libFuzzer targets over their seed corpora and fails on any crash,
# leak, sanitizer report or timeout.
#
#   tests/fuzz/run.sh [RUNS|SECONDSs] [NAME...]
#     RUNS       inputs per target (default 20000: the CI smoke run)
#     SECONDSs   e.g. 600s: each target fuzzes for that long (the long mode)
#     NAME       control_line, shim_cli, ... (default: every built target)
#
# Without OSS_BUILD_DIR it configures and builds build-fuzz/ (clang,
# -DOSS_FUZZ=ON).  Inputs a run discovers are kept in
# $OSS_BUILD_DIR/fuzz-corpus/<name>/ so long runs resume where they stopped;
# a crash leaves $OSS_BUILD_DIR/fuzz-artifacts/<name>/crash-* (reproduce with
# `build-fuzz/tests/fuzz/fuzz_<name> FILE`).  Turn a crash into a regression
# by fixing the bug and copying the file into tests/fuzz/corpus/<name>/.
set -euo pipefail
SRC=${OSS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

limit=(-runs=20000)
if [[ "${1:-}" == --runs ]]; then # the form ctest uses
    limit=(-runs="$2")
    shift 2
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then
    limit=(-runs="$1")
    shift
elif [[ "${1:-}" =~ ^([0-9]+)s$ ]]; then
    limit=(-max_total_time="${BASH_REMATCH[1]}")
    shift
fi

if [[ -z "${OSS_BUILD_DIR:-}" ]]; then
    OSS_BUILD_DIR="$SRC/build-fuzz"
    command -v clang >/dev/null || { echo "SKIP: clang is not installed" >&2; exit 77; }
    cmake -S "$SRC" -B "$OSS_BUILD_DIR" -DOSS_FUZZ=ON -DCMAKE_C_COMPILER=clang >/dev/null
    make -C "$OSS_BUILD_DIR" -j2 --no-print-directory -s
fi
BIN="$OSS_BUILD_DIR/tests/fuzz"

if (($# == 0)); then
    for f in "$BIN"/fuzz_*; do
        [[ -x "$f" ]] && set -- "$@" "${f##*/fuzz_}"
    done
    (($# > 0)) || { echo "FAIL: no fuzz targets in $BIN (configure with -DOSS_FUZZ=ON)" >&2; exit 1; }
fi

failed=()
for name in "$@"; do
    exe="$BIN/fuzz_$name"
    seeds="$SRC/tests/fuzz/corpus/$name"
    [[ -x "$exe" ]] || { echo "FAIL: $exe not built" >&2; exit 1; }
    [[ -d "$seeds" ]] || { echo "FAIL: no seed corpus $seeds" >&2; exit 1; }
    corpus="$OSS_BUILD_DIR/fuzz-corpus/$name"
    art="$OSS_BUILD_DIR/fuzz-artifacts/$name"
    mkdir -p "$corpus" "$art"
    log="$art/last.log"
    # The first dir receives new inputs; the seeds in the tree stay as they are.
    if "$exe" "${limit[@]}" -timeout=10 -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$art/" "$corpus" "$seeds" >"$log" 2>&1; then
        echo "ok: fuzz_$name $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') runs, corpus $(find "$corpus" -type f | wc -l) files"
    else
        echo "FAIL: fuzz_$name; artifacts in $art:" >&2
        ls "$art" >&2
        grep -E 'ERROR|SUMMARY|runtime error|deadly|Test unit written' "$log" | head -n 20 >&2 || tail -n 30 "$log" >&2
        failed+=("$name")
    fi
done
if ((${#failed[@]})); then
    echo "FAIL: ${failed[*]}" >&2
    exit 1
fi
