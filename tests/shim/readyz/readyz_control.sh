#!/bin/bash
# The control socket and `notify restore`: root gets "ok generation=N" and a
# restore happens; the directory is 0700 and the socket 0600; an unprivileged
# client is refused by the directory, and, with the directory deliberately
# opened up, still refused by the SO_PEERCRED check; a stale socket file is
# replaced; `notify` says clearly when no shim is running.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (setpriv to another uid)"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: setpriv absent"; exit 77; }
NOTIFY() { "$HARNESS" notify "$@"; }

echo "== not running"
set +e
out=$(NOTIFY restore --state-dir "$T/state" 2>&1); rc=$?
set -e
[ "$rc" = 2 ] && grep -q "not running" <<<"$out" || { echo "FAIL: rc=$rc $out"; exit 1; }
echo "ok: notify without a shim: exit 2, '$out'"

echo "== stale socket replaced"
mkdir -p "$T/state"
$PY -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$T/state/control.sock"
[ -S "$T/state/control.sock" ]
start_harness --identity-file "$T/id" --freeze-threshold 0 --state-dir "$T/state" --events "$T/events"
for _ in $(seq 50); do NOTIFY status --state-dir "$T/state" >/dev/null 2>&1 && break; sleep 0.05; done
echo "ok: the harness started over a stale socket"
[ "$(stat -c %a "$T/state")" = 700 ] || { echo "FAIL: state dir mode $(stat -c %a "$T/state")"; exit 1; }
[ "$(stat -c %a "$T/state/control.sock")" = 600 ] || { echo "FAIL: socket mode"; exit 1; }
echo "ok: state dir 0700, socket 0600"

echo "== root notify"
out=$(NOTIFY restore --state-dir "$T/state")
[ "$out" = "ok generation=1" ] || { echo "FAIL: '$out'"; exit 1; }
out=$(NOTIFY restore --state-dir "$T/state")
[ "$out" = "ok generation=2" ] || { echo "FAIL: '$out'"; exit 1; }
$PY - "$T" <<'PY'
import sys
from rz import *
ev = wait_events(f"{sys.argv[1]}/events", 2, 3)
check([e["reason"] for e in ev] == ["notify", "notify"], "two restores, reason notify")
PY
NOTIFY status --state-dir "$T/state" | $PY -c 'import json,sys; j=json.load(sys.stdin); assert j["restore"]["generation"]==2, j' 
echo "ok: status over the control socket shows generation 2"
set +e
out=$(NOTIFY reboot --state-dir "$T/state" 2>&1); rc=$?
set -e
[ "$rc" = 125 ] || { echo "FAIL: unknown notify event rc=$rc"; exit 1; }
echo "ok: unknown event refused by the client ($out)"
out=$($PY -c "
import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'shutdown\n'); print(s.recv(100).decode().strip())" "$T/state/control.sock")
[ "$out" = "error unknown command" ] || { echo "FAIL: '$out'"; exit 1; }
echo "ok: unknown command answered with an error"

echo "== unprivileged client"
set +e
out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$HARNESS" notify restore --state-dir "$T/state" 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && grep -q "Permission denied" <<<"$out" || { echo "FAIL: rc=$rc $out"; exit 1; }
echo "ok: uid 65534 stopped by the 0700 directory: $out"
# Defence in depth: open the directory and socket up, the peer check still refuses.
chmod 0711 "$T" "$T/state"; chmod 0666 "$T/state/control.sock"
set +e
out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$HARNESS" notify restore --state-dir "$T/state" 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && grep -q "permission denied" <<<"$out" || { echo "FAIL: rc=$rc $out"; exit 1; }
echo "ok: uid 65534 refused by SO_PEERCRED: $out"
out=$(NOTIFY status --state-dir "$T/state" | $PY -c 'import json,sys; print(json.load(sys.stdin)["restore"]["generation"])')
[ "$out" = 2 ] || { echo "FAIL: a refused client changed the generation to $out"; exit 1; }
echo "ok: no restore from the refused clients (generation still 2)"
stop_harness
[ ! -e "$T/state/control.sock" ] || { echo "FAIL: socket left behind"; exit 1; }
echo "ok: socket removed on stop"
echo PASS
