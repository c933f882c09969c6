# Shared setup for the readyz script tests.
set -euo pipefail
: "${OSS_BUILD_DIR:?}" "${OSS_SOURCE_DIR:?}"
HARNESS=$OSS_BUILD_DIR/tests/shim/readyz/readyz_harness
PY=/usr/bin/python3
export PYTHONPATH=$OSS_SOURCE_DIR/tests/shim/readyz
[ -x "$HARNESS" ] || { echo "SKIP: $HARNESS not built"; exit 77; }
[ -x "$PY" ] || { echo "SKIP: /usr/bin/python3 absent"; exit 77; }
T=$(mktemp -d /tmp/readyz-test.XXXXXX)
HPID=""
cleanup() {
    if [ -n "$HPID" ] && kill -0 "$HPID" 2>/dev/null; then
        kill -CONT "$HPID" 2>/dev/null || true
        kill "$HPID" 2>/dev/null || true
        wait "$HPID" 2>/dev/null || true
    fi
    rm -rf "$T"
}
trap cleanup EXIT

# start_harness ARGS...: runs the harness in the background, sets HPID/PORT.
start_harness() {
    rm -f "$T/port"
    # OSS_WRAP: a command prefix such as valgrind (tests/sanitize/run.sh)
    ${OSS_WRAP:-} "$HARNESS" --port 0 --port-file "$T/port" "$@" 2>>"$T/harness.log" &
    HPID=$!
    for _ in $(seq 100); do
        [ -s "$T/port" ] && break
        kill -0 "$HPID" 2>/dev/null || { cat "$T/harness.log"; echo "harness died"; exit 1; }
        sleep 0.05
    done
    PORT=$(cat "$T/port")
}

# Stops the harness with SIGTERM; it must exit 0 (under ASan: no leaks).
stop_harness() {
    local rc=0
    kill "$HPID" 2>/dev/null || true
    wait "$HPID" || rc=$?
    HPID=""
    if [ "$rc" != 0 ] || grep -q "Sanitizer" "$T/harness.log"; then
        cat "$T/harness.log"
        echo "FAIL: harness exited $rc"
        exit 1
    fi
}
