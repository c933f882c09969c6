#!/bin/bash
# Restore detection and handling, driven on the integration harness:
#  - SIGSTOP for 3 s is a freeze the 1 s timer sees (threshold 2 s), with the
#    supervisor signalled, the hook run with its environment, the state
#    written; CONTROL: with threshold 0 the same freeze is not detected;
#  - a readyz request queued during the freeze is answered only after the
#    restore began (503 "restoring"), never a stale 200;
#  - an identity file change is a restore with old/new ids and actor-id rewritten;
#    the file written again with the same id is a restore too (control: a
#    request with the file untouched records none);
#  - the hook is killed (with its process group) at its time limit;
#  - the restore signal triggers a restore;
#  - with the netns library: an address added during the freeze is in the delta.
# In a network and mount namespace of its own (tests/lib/private_netns.sh):
# the network deltas must not see links other tests add meanwhile.
. "$(dirname "$0")/../../lib/private_netns.sh"
oss_in_private_netns "$0" "$@"
. "$(dirname "$0")/lib.sh"

SUP='trap "echo usr1 >> '"$T"'/sup.signals" USR1; while :; do sleep 0.1; done'
HOOK='env | grep ^OPENSHELL_RESTORE_ | sort > '"$T"'/hook.env.$OPENSHELL_RESTORE_GENERATION; sleep 0.3'

echo "== freeze by SIGSTOP, threshold 2 s"
# Remember the network as the harness's baseline sees it (run as non-root
# this is the host's, where other tests may add and remove interfaces).
{ ip -o link; ip -o addr; ip route; } > "$T/net.before" 2>/dev/null
echo "actor-a" > "$T/id"
touch "$T/ready"
start_harness --ready-file "$T/ready" --identity-file "$T/id" --freeze-threshold 2000 \
    --state-dir "$T/state" --events "$T/events" --supervisor "$SUP" --on-restore-signal 10 \
    --on-restore-exec "$HOOK" --on-restore-timeout 5000 --restore-signal 12
sleep 1.3
$PY - "$PORT" "$T" "$HPID" <<'PY'
import os, signal, socket, sys, time, json
from rz import *
port, T, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
check(get(port, "/readyz")[0] == 200, "ready before the freeze")
check(open(f"{T}/state/actor-id").read() == "actor-a\n", "actor-id written at start")
import subprocess
def host_net():
    return "".join(subprocess.run(c, capture_output=True, text=True).stdout
                   for c in (["ip", "-o", "link"], ["ip", "-o", "addr"], ["ip", "route"]))
net_before = open(f"{T}/net.before").read()
os.kill(pid, signal.SIGSTOP)
t0 = time.monotonic()
s = connect(port)  # completes in the kernel's backlog while the harness is stopped
s.sendall(b"GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n")
time.sleep(3.0 - (time.monotonic() - t0))
os.kill(pid, signal.SIGCONT)
st, h, b = read_response(s)
s.close()
check(st == 503 and b == b"restoring\n", f"the request queued during the freeze got {st} {b!r}")
ev = wait_events(f"{T}/events", 1, 5)
check(len(ev) == 1, "one restore recorded")
e = ev[0]
check(e["reason"] in ("timer", "readyz"), f"detected by lateness ({e['reason']})")
check(1900 <= e["frozen_ms"] <= 3600, f"frozen_ms {e['frozen_ms']} for a 3 s stop (lower bound, 1 s resolution)")
check(e["generation"] == 1, "generation 1")
check(e["identity_before"]["id"] == "actor-a" and not e["identity_changed"], "identity unchanged")
check(e["hook"]["ran"] and e["hook"]["exit"] == 0 and not e["hook"]["timed_out"], "hook ran and exited 0")
check(e["duration_ms"] >= 300, f"busy until the hook finished ({e['duration_ms']} ms)")
check(e["reprobe"] == {"harness": True}, "reprobe hook output recorded")
env = read_env(f"{T}/hook.env.1")
check(env["OPENSHELL_RESTORE_GENERATION"] == "1" and env["OPENSHELL_RESTORE_REASON"] == e["reason"]
      and env["OPENSHELL_RESTORE_FROZEN_MS"] == str(e["frozen_ms"])
      and env["OPENSHELL_RESTORE_ACTOR_ID_OLD"] == "actor-a" == env["OPENSHELL_RESTORE_ACTOR_ID_NEW"],
      f"hook environment {env}")
json.loads(env["OPENSHELL_RESTORE_NET_DELTA"])
time.sleep(0.2)
check(open(f"{T}/sup.signals").read() == "usr1\n", "supervisor's group got SIGUSR1 once")
check(not e["network"].get("error"), f"network snapshot taken ({e['network']})")
if host_net() == net_before:
    check(e["network"]["changes"] == 0, "same namespace: empty network delta")
else:  # something else on this host changed its links meanwhile (another test)
    check(e["network"]["changes"] > 0, "the host's network changed during the freeze and the delta shows it")
check(get(port, "/readyz")[0] == 200, "ready again after the restore")
st = json.loads(get(port, "/status")[2])
check(st["restore"]["generation"] == 1 and st["restore"]["last"]["generation"] == 1, "/status shows generation 1")
PY
grep -q '"class_uid":6002' "$T/harness.log" || { echo "FAIL: no OCSF line on stderr"; exit 1; }
[ "$(grep -c '"class_uid":6002' "$T/harness.log")" = 1 ] || { echo "FAIL: expected exactly one OCSF line"; exit 1; }
echo "ok: one OCSF restore event on stderr"

echo "== identity change -> restore with old/new ids"
echo "actor-b" > "$T/id"
$PY - "$PORT" "$T" <<'PY'
import sys
from rz import *
port, T = int(sys.argv[1]), sys.argv[2]
ev = wait_events(f"{T}/events", 2, 4)
check(len(ev) == 2, "a second restore recorded")
e = ev[1]
check(e["reason"] == "identity" and e["frozen_ms"] is None, f"reason identity ({e['reason']})")
check(e["identity_before"]["id"] == "actor-a" and e["identity_after"]["id"] == "actor-b"
      and e["identity_changed"], "old and new ids")
check(open(f"{T}/state/actor-id").read() == "actor-b\n", "state/actor-id rewritten")
env = read_env(f"{T}/hook.env.2")
check(env["OPENSHELL_RESTORE_ACTOR_ID_OLD"] == "actor-a" and env["OPENSHELL_RESTORE_ACTOR_ID_NEW"] == "actor-b",
      "hook sees old and new ids")
PY

echo "== invalid identity is never written raw"
printf 'evil"; rm -rf /\n' > "$T/id"
$PY - "$PORT" "$T" <<'PY'
import sys
from rz import *
port, T = int(sys.argv[1]), sys.argv[2]
ev = wait_events(f"{T}/events", 3, 4)
check(len(ev) == 3 and ev[2]["identity_after"]["valid"] is False and ev[2]["identity_after"]["id"] is None,
      "invalid identity recorded as invalid")
check(open(f"{T}/state/actor-id").read() == "", "actor-id emptied, not written raw")
check("rm -rf" not in open(f"{T}/events").read(), "the raw content is nowhere in the report")
PY

echo "== restore signal"
kill -USR2 "$HPID"
$PY - "$T" <<'PY'
import sys
from rz import *
ev = wait_events(f"{sys.argv[1]}/events", 4, 4)
check(len(ev) == 4 and ev[3]["reason"] == "signal" and ev[3]["generation"] == 4, "SIGUSR2 triggered restore 4")
PY
stop_harness

echo "== CONTROL: threshold 0, the same freeze goes unnoticed"
rm -f "$T/events"
echo "actor-a" > "$T/id"
start_harness --ready-file "$T/ready" --identity-file "$T/id" --freeze-threshold 0 \
    --state-dir "$T/state" --events "$T/events" --supervisor "exec sleep 600" --on-restore-exec "$HOOK"
$PY - "$PORT" "$T" "$HPID" <<'PY'
import os, signal, sys, time, json
from rz import *
port, T, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
os.kill(pid, signal.SIGSTOP); time.sleep(3); os.kill(pid, signal.SIGCONT)
check(get(port, "/readyz")[0] == 200, "threshold 0: 200 right after the freeze")
time.sleep(1.5)
check(events(f"{T}/events") == [], "threshold 0: no restore recorded (the detector is what catches it)")
# No timer at all: the harness sleeps in epoll_wait with nothing armed.
fds = os.listdir(f"/proc/{pid}/fd")
timers = []
for fd in fds:
    try:
        if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:[timerfd]":
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = f.read()
            timers.append("it_value: (0, 0)" in info)
    except OSError:
        pass
check(timers and all(timers), f"every timerfd is disarmed when idle ({timers})")
# With threshold 0, readyz still checks the identity before answering.
open(f"{T}/id", "w").write("actor-z\n")
st, h, b = get(port, "/readyz")
check(st == 503 and b == b"restoring\n", f"identity change seen by the readyz request itself ({st} {b!r})")
ev = wait_events(f"{T}/events", 1, 3)
check(len(ev) == 1 and ev[0]["identity_after"]["id"] == "actor-z", "restore for actor-z recorded")
# The file written again with the same id, atomically, as Substrate and the
# runsc backend do before every restore: a restore even without a freeze
# (a stop and start quicker than the threshold), identity unchanged.
# Control first: readyz with the file untouched records nothing.
time.sleep(0.3)
check(get(port, "/readyz")[0] == 200 and len(events(f"{T}/events")) == 1,
      "control: the file untouched, no restore")
open(f"{T}/id.tmp", "w").write("actor-z\n")
os.rename(f"{T}/id.tmp", f"{T}/id")
st, h, b = get(port, "/readyz")
check(st == 503 and b == b"restoring\n", f"the rewrite seen by the readyz request ({st} {b!r})")
ev = wait_events(f"{T}/events", 2, 3)
check(len(ev) == 2 and ev[1]["reason"] == "identity" and not ev[1]["identity_changed"]
      and ev[1]["identity_after"]["id"] == "actor-z",
      f"the same id written again is a restore, identity unchanged ({ev[-1] if ev else None})")
PY
stop_harness

echo "== hook time limit"
rm -f "$T/events"
start_harness --ready-file "$T/ready" --identity-file "$T/id" --freeze-threshold 0 \
    --state-dir "$T/state" --events "$T/events" --on-restore-timeout 2000 \
    --on-restore-exec "sleep 31.7 & sleep 31.5"
"$HARNESS" notify restore --state-dir "$T/state" >/dev/null
$PY - "$PORT" "$T" <<'PY'
import subprocess, sys, time
from rz import *
port, T = int(sys.argv[1]), sys.argv[2]
time.sleep(0.2)
check(get(port, "/readyz")[1].get("content-length") and get(port, "/readyz")[2] == b"restoring\n",
      "503 restoring while the hook runs")
ev = wait_events(f"{T}/events", 1, 8)
check(len(ev) == 1, "restore finished")
e = ev[0]
check(e["hook"]["timed_out"] and e["hook"]["exit"] == 137, f"hook killed at its limit ({e['hook']})")
check(1900 <= e["duration_ms"] <= 4500, f"busy for {e['duration_ms']} ms with a 2000 ms limit")
time.sleep(0.2)
left = subprocess.run(["pgrep", "-f", "^sleep 31.[57]"], capture_output=True, text=True).stdout.split()
check(left == [], f"the hook and its background child are gone ({left})")
ctl = subprocess.Popen(["sleep", "31.5"])
time.sleep(0.1)
found = subprocess.run(["pgrep", "-f", "^sleep 31.[57]"], capture_output=True, text=True).stdout.split()
ctl.kill(); ctl.wait()
check(found == [str(ctl.pid)], "control: the same pgrep does find a live 'sleep 31.5'")
check(get(port, "/readyz")[0] == 200, "ready after the hook was killed")
PY
stop_harness

echo "== network delta"
if ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
    echo "SKIP(network): unshare/ip absent"
else
    rm -f "$T/events"
    unshare -n "$HARNESS" --port 0 --port-file "$T/port" --identity-file "$T/id" \
        --freeze-threshold 0 --state-dir "$T/state" --events "$T/events" 2>>"$T/harness.log" &
    HPID=$!
    for _ in $(seq 100); do [ -S "$T/state/control.sock" ] && break; sleep 0.05; done
    nsenter -t "$HPID" -n ip addr add 10.9.9.9/32 dev lo
    "$HARNESS" notify restore --state-dir "$T/state" >/dev/null
    $PY - "$T" <<'PY'
import sys
from rz import *
ev = wait_events(f"{sys.argv[1]}/events", 1, 4)
check(len(ev) == 1, "restore recorded")
n = ev[0]["network"]
check(not n.get("error"), f"network snapshot taken ({n})")
d = n["delta"]
check(n["changes"] >= 1 and any("10.9.9.9" in str(x) for x in d.get("addrs_added", [])),
      f"the address added during the 'freeze' is in the delta ({d})")
PY
    stop_harness
fi
kill -0 "$$"
echo PASS
