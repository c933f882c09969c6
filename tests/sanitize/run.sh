#!/usr/bin/env bash
# The sanitizer and valgrind runs (docs/bench.md, "Sanitizers and valgrind").
#
#   tests/sanitize/run.sh asan       build build-asan/ with clang,
#                                    -DOSS_SANITIZE=ON (ASan+UBSan+LSan),
#                                    -DOSS_WERROR=ON, and run all of ctest there
#   tests/sanitize/run.sh valgrind   run the shim's integration cases (the
#                                    PID-1 suite in subreaper mode, the readyz/
#                                    restore/control harness tests) under
#                                    valgrind --leak-check=full on the plain
#                                    build (OSS_BUILD_DIR, default build/)
#   tests/sanitize/run.sh            both
#
# Any sanitizer report fails the test that saw it (ASan/UBSan abort, LSan
# exits non-zero); any valgrind error or definite leak makes the wrapped
# program exit 99, which fails the case, and the logs are checked as well.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
what=${1:-all}
rc=0

run_asan() {
    local b=$SRC/build-asan
    command -v clang >/dev/null || { echo "SKIP: clang not installed"; return 77; }
    cmake -S "$SRC" -B "$b" -DOSS_SANITIZE=ON -DOSS_WERROR=ON -DCMAKE_C_COMPILER=clang >/dev/null
    make -C "$b" -j2 -s
    # detect_leaks: LSan at exit of every sanitized program; halt on UBSan.
    (cd "$b" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure)
}

run_valgrind() {
    local b=${OSS_BUILD_DIR:-$SRC/build} vg
    command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed"; return 77; }
    [[ -x "$b/shim/openshell-shim" ]] || { echo "FAIL: build $b first"; return 1; }
    vg=$(mktemp -d /tmp/oss-valgrind.XXXXXX)
    chmod 0755 "$vg"
    local -a VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
        --show-leak-kinds=definite --track-fds=no --log-file="$vg/vg.%p.log")
    # The PID-1 suite's init, wrapped: same defaults as lib_pid1.sh gives the
    # bare shim (probes off, report and state in a private directory).
    cat >"$vg/shim" <<WRAP
#!/bin/sh
d=$vg/run.\$\$
mkdir -p "\$d"
exec ${VG[*]} "$b/shim/openshell-shim" --probes=none --report="\$d/report.json" --state-dir="\$d/state" "\$@"
WRAP
    chmod 0755 "$vg/shim"
    local r=0
    # Control: the same valgrind options fail a program with a definite leak
    # and one with an invalid read, so a silent run means something.
    printf '%s\n' '#include <stdlib.h>' '#include <string.h>' \
        'int main(int c, char **v) { char *p = malloc(32); p[0] = v[0][0];' \
        'if (c > 1) return p[40]; p = 0; return 0; }' >"$vg/bad.c"
    cc -O0 -g -o "$vg/bad" "$vg/bad.c"
    local crc=0 irc=0
    "${VG[@]/--log-file=*/--log-file=$vg/control.log}" "$vg/bad" >/dev/null 2>&1 || crc=$?
    "${VG[@]/--log-file=*/--log-file=$vg/control.log}" "$vg/bad" x >/dev/null 2>&1 || irc=$?
    rm -f "$vg/control.log"
    if ((crc != 99 || irc != 99)); then
        echo "FAIL: control: valgrind exited $crc (leak) and $irc (invalid read), expected 99"
        return 1
    fi
    echo "control: valgrind exits 99 on a definite leak and on an invalid read"
    echo "== pid1 suite (subreaper) under valgrind"
    # P1_SETTLE: under valgrind the shim takes longer to start the child, so
    # the suite waits longer before signalling a child that must first set
    # its own traps
    OSS_BUILD_DIR=$b OSS_SOURCE_DIR=$SRC P1_MODE=subreaper P1_INIT=$vg/shim P1_SETTLE=2 \
        bash "$SRC/tests/shim/pid1_suite.sh" || r=1
    for t in readyz_http readyz_restore readyz_control; do
        echo "== $t under valgrind"
        OSS_BUILD_DIR=$b OSS_SOURCE_DIR=$SRC OSS_WRAP="${VG[*]}" bash "$SRC/tests/shim/readyz/$t.sh" || r=1
    done
    # The probe runners: valgrind runs the light runner's CLONE_VM|CLONE_VFORK
    # child as a plain fork, which its shared mapping must survive.  An error
    # in the parent makes valgrind exit 99; one in a child makes that child
    # exit 99, which the runner reports and the test fails on.  The logs are
    # kept apart: they hold valgrind's notes on seccomp(2), which it does not
    # implement, and on the overflow test's deliberate SIGSEGV.
    echo "== probe runners under valgrind"
    mkdir -p "$vg/runner"
    if "${VG[@]/--log-file=*/--log-file=$vg/runner/%p.log}" "$b/tests/shim/probe/test_probes_runner" \
        >"$vg/runner/out" 2>&1; then
        echo "probe runners: $(grep -c '^\[       OK \]' "$vg/runner/out") tests ok under valgrind"
    else
        echo "FAIL: probe runners under valgrind:"
        tail -n 30 "$vg/runner/out"
        r=1
    fi
    # valgrind -q writes only errors: any non-empty log is a finding.
    local logs
    logs=$(find "$vg" -path "$vg/runner" -prune -o -name 'vg.*.log' -size +0 -print | head -n 20)
    if [[ -n "$logs" ]]; then
        echo "FAIL: valgrind reported errors:"
        for l in $logs; do echo "--- $l"; head -n 60 "$l"; done
        r=1
    else
        echo "valgrind: $(find "$vg" -name 'vg.*.log' | wc -l) processes checked, no error, no definite leak"
    fi
    rm -rf "$vg"
    return "$r"
}

case "$what" in
asan) run_asan || rc=$? ;;
valgrind) run_valgrind || rc=$? ;;
all)
    run_asan || rc=$?
    run_valgrind || rc=$?
    ;;
*) echo "usage: $0 [asan|valgrind|all]" >&2; exit 2 ;;
esac
exit "$rc"
