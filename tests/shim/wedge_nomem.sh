#!/usr/bin/env bash
# A PID 1 that does not die of a failed allocation after its child started.
# liboss-failalloc.so (tests/helpers) makes every malloc/calloc/realloc of
# the shim fail with ENOMEM while a trigger file exists.  The child crash-
# loops under --restart=always, so the shim builds events (exit, restart,
# start), log lines and report rewrites all the while.  With the trigger on,
# the shim must stay alive and keep restarting the child; once it is off,
# its report counts the events it lost, and SIGTERM ends it cleanly.
# Control: the trigger really fails allocations in the shim -- the report
# shows lost events (a library that failed nothing would leave 0).
# OSS_SHIM_UNDER_TEST runs another build of the shim (see docs/bench.md).
OSS_TEST_NAME=shim_wedge_nomem
source "$OSS_SOURCE_DIR/tests/lib/common.sh" || { echo "FAIL: cannot load tests/lib/common.sh" >&2; exit 1; }
SHIM="${OSS_SHIM_UNDER_TEST:-$OSS_BUILD_DIR/shim/openshell-shim}"
[[ -x "$SHIM" ]] || oss_fail "shim not built at $SHIM"
LIB="$OSS_BUILD_DIR/tests/helpers/liboss-failalloc.so"
[[ -f "$LIB" ]] || oss_skip "liboss-failalloc.so not built (sanitizer builds have none)"
[[ "${OSS_SANITIZE:-0}" != 1 ]] || oss_skip "the allocation injector bypasses ASan's allocator"
ON_S=2

PORT=$("$OSS_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TRIG="$OSS_TMP/fail-now"
status() { # KEY of /status (supervisor.starts or events_lost_nomem), or "dead"
    "$OSS_PYTHON" - "$PORT" "$1" <<'PY'
import json, sys, urllib.request
try:
    r = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/status", timeout=2))
except Exception:
    print("dead"); sys.exit()
v = r
for k in sys.argv[2].split("."):
    v = v.get(k, {}) if isinstance(v, dict) else {}
print(v if v != {} else 0)
PY
}
OSS_FAILALLOC_FILE="$TRIG" LD_PRELOAD="$LIB" \
    "$SHIM" --probes=none --report="$OSS_TMP/report.json" --state-dir="$OSS_TMP/state" \
    --readyz-port="$PORT" --ready-tcp=none --stop-timeout=1s -v -v \
    --restart=always --restart-max=1000000 --restart-window=1s \
    --backoff-initial=20ms --backoff-max=40ms -- \
    sh -c 'sleep 0.05; exit 3' >"$OSS_TMP/shim.out" 2>"$OSS_TMP/shim.err" </dev/null &
SHIM_PID=$!
oss_on_exit "kill -KILL $SHIM_PID 2>/dev/null"
oss_wait_for "[[ \$(status supervisor.starts) != dead ]] && (( \$(status supervisor.starts) >= 3 ))" 10 ||
    oss_fail "the child is not crash-looping under the shim: $(tail -n 3 "$OSS_TMP/shim.err")"
before=$(status supervisor.starts)

touch "$TRIG"
sleep "$ON_S"
alive=1
kill -0 "$SHIM_PID" 2>/dev/null || alive=0
rm -f "$TRIG"
if ((alive == 0)); then
    rc=0
    wait "$SHIM_PID" || rc=$?
    oss_fail "the shim died (exit $rc) while allocations failed: $(tail -n 2 "$OSS_TMP/shim.err")"
fi
oss_wait_for "[[ \$(status supervisor.starts) != dead ]]" 5 || oss_fail "the shim no longer serves /status"
after=$(status supervisor.starts)
lost=$(status events_lost_nomem)
((lost > 0)) || oss_fail "control: no event lost while allocations failed ($lost): the injector failed nothing?"
((after > before)) || oss_fail "the child was not restarted ($before -> $after starts)"
oss_log "ok: shim alive through ${ON_S}s of failing allocations; $lost events lost and counted; starts $before -> $after"

kill -TERM "$SHIM_PID"
oss_wait_for "! kill -0 $SHIM_PID 2>/dev/null" 10 0.05 || oss_fail "the shim did not stop on SIGTERM"
rc=0
wait "$SHIM_PID" || rc=$?
# the child may be in backoff (the shim exits with the last status, 3) or
# running (it dies of SIGTERM: 143); either is the child's status
[[ "$rc" == 3 || "$rc" == 143 ]] || oss_fail "exit status $rc is not the child's"
echo "shim_wedge_nomem: pass"
