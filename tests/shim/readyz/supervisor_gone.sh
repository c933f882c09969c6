#!/usr/bin/env bash
# /readyz says when the supervisor is gone for good: "supervisor gone: <why>"
# once it ended and the restart policy starts no other (the shim stays up
# with --stay-alive), so a caller can stop waiting, as on "bootstrap refused"
# (docs/readyz.md).  Control: while a restart is pending the body stays
# "supervisor not running".
OSS_TEST_NAME=readyz_supervisor_gone
source "$OSS_SOURCE_DIR/tests/lib/common.sh" || { echo "FAIL: cannot load tests/lib/common.sh" >&2; exit 1; }
SHIM="${OSS_SHIM_UNDER_TEST:-$OSS_BUILD_DIR/shim/openshell-shim}"
[[ -x "$SHIM" ]] || oss_fail "shim not built at $SHIM"

readyz() { # PORT -> "CODE BODY"
    "$OSS_PYTHON" - "$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=2)
    print(r.status, r.read().decode().strip())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode().strip())
except Exception as e:
    print("dead", repr(e))
PY
}
free_port() { "$OSS_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start() { # DIR ARGS... -> PORT, PID
    local d=$1
    shift
    mkdir -p "$d"
    PORT=$(free_port)
    "$SHIM" --probes=none --state-dir="$d/state" --report="$d/report.json" --readyz-port="$PORT" \
        --ready-tcp=none --freeze-threshold=0 --identity-file="$d/none" --stay-alive "$@" \
        2>"$d/err" </dev/null &
    PID=$!
    oss_on_exit "kill -KILL $PID 2>/dev/null"
}

# ---- gone for good: the child exits 3, no restart -----------------------------
D="$OSS_TMP/gone"
start "$D" --restart=never -- sh -c 'exit 3'
oss_wait_for "[[ \$(readyz $PORT) == 503\ supervisor\ gone* ]]" 10 ||
    oss_fail "readyz never said gone: $(readyz "$PORT"); $(tail -n 3 "$D/err")"
r=$(readyz "$PORT")
oss_log "readyz once the child is gone: $r"
oss_assert_match '^503 supervisor gone: .*exit.*3.* \(see /status\)$' "$r" "the reason names the exit"
kill -TERM "$PID"
wait "$PID" 2>/dev/null || true

# ---- control: a restart pending is not gone ------------------------------------
D="$OSS_TMP/backoff"
start "$D" --restart=always --backoff-initial=5s --backoff-max=5s -- sh -c 'exit 3'
oss_wait_for "[[ \$(readyz $PORT) == 503* ]]" 10 || oss_fail "no 503: $(readyz "$PORT")"
sleep 0.5 # the child has exited and the restart waits its 5 s backoff
oss_assert_eq "503 supervisor not running" "$(readyz "$PORT")" "control: restart pending"
kill -TERM "$PID"
wait "$PID" 2>/dev/null || true
echo PASS
