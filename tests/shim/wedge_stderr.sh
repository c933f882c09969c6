#!/usr/bin/env bash
# A PID 1 that cannot be wedged by a blocking stderr.  The child shares the
# shim's stderr (a pipe here, as under a container runtime); it fills the
# pipe while the reader stalls.  With -w every reaped orphan is a log line,
# so the shim has lines to write into the full pipe.  The shim must keep
# reaping, answer /healthz, take SIGTERM and exit, and count the lines it
# dropped in its report.
# Control: the pipe really is full (a write to it from the test would block),
# and the stalled reader has read nothing.
# OSS_SHIM_UNDER_TEST runs another build of the shim (see docs/bench.md).
OSS_TEST_NAME=shim_wedge_stderr
source "$OSS_SOURCE_DIR/tests/lib/common.sh" || { echo "FAIL: cannot load tests/lib/common.sh" >&2; exit 1; }
SHIM="${OSS_SHIM_UNDER_TEST:-$OSS_BUILD_DIR/shim/openshell-shim}"
[[ -x "$SHIM" ]] || oss_fail "shim not built at $SHIM"
ORPH=$(oss_helper oss-orphans)
ZC="$OSS_SOURCE_DIR/tests/shim/count_zombies.sh"
BOUND_S=5

PORT=$("$OSS_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
FIFO="$OSS_TMP/stderr.fifo"
mkfifo "$FIFO"
# The stalled reader: holds the read end open and never reads.
sleep 600 <"$FIFO" &
READER=$!
oss_on_exit "kill -KILL $READER 2>/dev/null"
F="$OSS_TMP/child.log"
: >"$F"
# The child: a background writer fills the shared stderr; SIGUSR2 makes a
# burst of orphans (each one a -w warning line from the shim).
"$SHIM" --probes=none --report="$OSS_TMP/report.json" --state-dir="$OSS_TMP/state" \
    --readyz-port="$PORT" --ready-tcp=none --stop-timeout=1s -g -w -- \
    bash -c "trap '$ORPH 1000 >/dev/null; echo burst >> $F' USR2
             trap 'exit 0' TERM
             (exec head -c 1000000 /dev/zero >&2) &
             echo up >> $F
             while :; do sleep 1 & wait \$!; done" \
    >"$OSS_TMP/shim.out" 2>"$FIFO" </dev/null &
SHIM_PID=$!
oss_on_exit "kill -KILL $SHIM_PID 2>/dev/null"
oss_wait_for "grep -q up '$F'" 10 || oss_fail "child did not start"
CHILD=$(pgrep -P "$SHIM_PID" -x bash | head -n 1)
[[ -n "$CHILD" ]] || oss_fail "no child bash under the shim"

# Control: the pipe is full -- a non-blocking write to it fails with EAGAIN.
full=$("$OSS_PYTHON" - "$FIFO" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
for _ in range(100):
    try:
        os.write(fd, b"x")
        time.sleep(0.05)
    except BlockingIOError:
        print("full"); break
else:
    print("not-full")
PY
)
oss_assert_eq full "$full" "control: the shared stderr pipe is full"
oss_log "ok: control: stderr pipe full, reader stalled"

healthz() {
    "$OSS_PYTHON" - "$PORT" <<'PY'
import sys, urllib.request
try:
    print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=1).status)
except Exception:
    print("dead")
PY
}
kill -USR2 "$CHILD"
oss_wait_for "grep -q burst '$F'" 20 0.02 || oss_fail "the orphan burst did not run"
if ! oss_wait_for "[[ \$('$ZC' $SHIM_PID) == zombies=0 ]]" "$BOUND_S" 0.05; then
    oss_fail "wedged: $("$ZC" "$SHIM_PID") under the shim ${BOUND_S}s after 1000 orphans (healthz: $(healthz))"
fi
oss_assert_eq 200 "$(healthz)" "healthz with stderr full"
status=$("$OSS_PYTHON" - "$PORT" <<'PY'
import json, sys, urllib.request
r = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/status", timeout=2))
print(r.get("log", {}).get("dropped_lines", -1))
PY
)
((status > 0)) || oss_fail "the report counts no dropped log lines ($status)"
oss_log "ok: 1000 orphans reaped and healthz 200 with stderr full; report counts $status dropped lines"

kill -TERM "$SHIM_PID"
if ! oss_wait_for "! kill -0 $SHIM_PID 2>/dev/null" $((1 + BOUND_S)) 0.05; then
    oss_fail "wedged: the shim ignored SIGTERM with stderr full"
fi
rc=0
wait "$SHIM_PID" || rc=$?
oss_assert_eq 0 "$rc" "exit status after SIGTERM"
echo "shim_wedge_stderr: pass"
