#!/usr/bin/env bash
# A PID 1 that cannot be wedged by its stop drain.  The child sets up what an
# unprivileged workload can: a zombie in the child's process group whose
# parent lives outside the group and never reaps it.  Such a zombie keeps the
# group "alive" (kill(-pgid, 0) succeeds) and no SIGKILL removes it; the shim
# cannot wait for it either (it is not the shim's child).  After SIGTERM and
# the stop timeout the shim must still exit, with the child's status, saying
# so -- and /healthz must answer while it waits.
# Control: the zombie really is there and really is in the group while the
# shim drains (so the test exercises the wedge, not an easy stop).
# OSS_SHIM_UNDER_TEST runs another build of the shim (see docs/bench.md).
OSS_TEST_NAME=shim_wedge_stop_drain
source "$OSS_SOURCE_DIR/tests/lib/common.sh" || { echo "FAIL: cannot load tests/lib/common.sh" >&2; exit 1; }
SHIM="${OSS_SHIM_UNDER_TEST:-$OSS_BUILD_DIR/shim/openshell-shim}"
[[ -x "$SHIM" ]] || oss_fail "shim not built at $SHIM"
STOP_S=1 DRAIN_S=2 SLACK_S=6

PORT=$("$OSS_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
INFO="$OSS_TMP/pids"
# The child (process group P): forks H, which moves to a group of its own and
# forks Z; Z joins group P and exits.  H never reaps and ignores SIGTERM.
cat >"$OSS_TMP/child.py" <<'PY'
import os, signal, sys, time
info = sys.argv[1]
pgid = os.getpgrp()
r, w = os.pipe()
h = os.fork()
if h == 0:
    os.setpgid(0, 0)                 # H: outside the child's group
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    z = os.fork()
    if z == 0:
        os.setpgid(0, pgid)          # Z: back into the child's group
        os._exit(0)                  # ... and a zombie H never reaps
    with open(info, "w") as f:
        f.write(f"{pgid} {os.getpid()} {z}\n")
    os.close(w)
    for _ in range(600):
        time.sleep(1)
    os._exit(0)
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
for _ in range(600):
    time.sleep(1)
PY
"$SHIM" --probes=none --report="$OSS_TMP/report.json" --state-dir="$OSS_TMP/state" \
    --readyz-port="$PORT" --ready-tcp=none --stop-timeout=${STOP_S}s -v -v -- \
    "$OSS_PYTHON" "$OSS_TMP/child.py" "$INFO" >"$OSS_TMP/shim.out" 2>"$OSS_TMP/shim.err" </dev/null &
SHIM_PID=$!
oss_on_exit "kill -KILL $SHIM_PID 2>/dev/null"
oss_wait_for "[[ -s '$INFO' ]]" 10 || oss_fail "child did not set up: $(tail -n 5 "$OSS_TMP/shim.err")"
read -r PG H Z <"$INFO"
oss_on_exit "kill -KILL $H 2>/dev/null"
oss_wait_for "[[ \$(ps -o stat= -p $Z 2>/dev/null) == Z* ]]" 5 || oss_fail "control: no zombie $Z"
zpg=$(ps -o pgid= -p "$Z" | tr -d ' ')
hpg=$(ps -o pgid= -p "$H" | tr -d ' ')
oss_assert_eq "$PG" "$zpg" "control: the zombie's group"
oss_assert_ne "$PG" "$hpg" "control: its parent's group"
oss_log "ok: control: zombie $Z in group $PG, its parent $H in group $hpg"

healthz() {
    "$OSS_PYTHON" - "$PORT" <<'PY'
import sys, urllib.request
try:
    print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=1).status)
except Exception as e:
    print("dead")
PY
}
oss_assert_eq 200 "$(healthz)" "healthz before the stop"

t0=$(oss_now_ms)
kill -TERM "$SHIM_PID"
# Past the stop timeout, inside the drain: the zombie is still in the group
# and the shim still answers.
sleep $((STOP_S + 1))
[[ $(ps -o stat= -p "$Z" 2>/dev/null) == Z* ]] || oss_fail "control: the zombie went away during the drain"
if kill -0 "$SHIM_PID" 2>/dev/null; then
    oss_assert_eq 200 "$(healthz)" "healthz during the stop drain"
fi
if ! oss_wait_for "! kill -0 $SHIM_PID 2>/dev/null" $((STOP_S + DRAIN_S + SLACK_S)) 0.05; then
    oss_log "shim stderr: $(tail -n 5 "$OSS_TMP/shim.err")"
    oss_fail "wedged: the shim has not exited $((STOP_S + DRAIN_S + SLACK_S))s after SIGTERM (healthz: $(healthz))"
fi
rc=0
wait "$SHIM_PID" || rc=$?
took=$(($(oss_now_ms) - t0))
oss_assert_eq 0 "$rc" "exit status (the child's: it exited 0 on SIGTERM)"
grep -q "still has members" "$OSS_TMP/shim.err" || oss_fail "the shim did not say why it left a group member: $(tail -n 3 "$OSS_TMP/shim.err")"
oss_log "ok: shim exited $rc ${took}ms after SIGTERM with a foreign zombie in the group, and said so"
echo "shim_wedge_stop_drain: pass"
