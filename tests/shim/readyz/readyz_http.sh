#!/bin/bash
# The readyz server over real sockets: readiness transitions, routes, limits,
# who closes first (no TIME_WAIT on the server side), the idle timeout, and a
# flood of idle connections that must not stall the loop.
. "$(dirname "$0")/lib.sh"
command -v ss >/dev/null || { echo "SKIP: ss (iproute2) absent"; exit 77; }

start_harness --ready-file "$T/ready" --identity-file "$T/id" --freeze-threshold 0 \
    --state-dir "$T/state" --supervisor "exec sleep 600"

$PY - "$PORT" "$T" <<'PY'
import json, os, socket, sys, time
from rz import *
port, T = int(sys.argv[1]), sys.argv[2]

st, h, b = get(port, "/readyz")
check(st == 503 and b == b"waiting for ready file\n", f"503 before ready ({st} {b!r})")
check(h.get("connection") == "close", "Connection: close on every response")
open(f"{T}/ready", "w").close()
time.sleep(0.15)  # the condition is cached for 100 ms
st, h, b = get(port, "/readyz")
check(st == 200 and b == b"ok\n", f"200 once the ready file exists ({st} {b!r})")
st, h, b = get(port, "/readyz", "HEAD")
check(st == 200 and h.get("content-length") == "3", "HEAD /readyz: 200, length, no body")
st, h, b = get(port, "/healthz")
check(st == 200, "/healthz 200")
st, h, b = get(port, "/status")
check(st == 200 and h.get("content-type") == "application/json", "/status is JSON")
j = json.loads(b)
check(j["restore"]["generation"] == 0 and j["readyz"]["accepted"] >= 5, "/status carries the report")
st, _, _ = get(port, "/nope")
check(st == 404, "unknown path 404")
st, _, _ = get(port, "/readyz", "POST")
check(st == 405, "POST 405")

def rejected(raw, want, what):
    s = connect(port)
    s.sendall(raw)
    st, h, b = read_response(s)
    s.close()
    check(st == want and h.get("connection") == "close", f"{what}: {want} ({st}) and closed")

rejected(b"GET /readyz HTTP/1.1\r\nHost: t\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 431, "9 KB head")
rejected(b"GET /readyz HTTP/1.1\r\nHost: t\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(40)) + b"\r\n",
         431, "40 header fields")
rejected(b"GET /readyz HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n", 413, "declared body")
rejected(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, "TLS hello")
rejected(b"GET /readyz HTTP/1.1\r\n\r\n", 400, "HTTP/1.1 without Host")

# Who closes first: the server must wait for the client's FIN.
s = connect(port)
s.sendall(b"GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n")
st, _, _ = read_response(s)
check(not server_closes_first(s, 0.5), "after the response the server waits for the client to close")
s.close()
time.sleep(0.2)
tw = time_wait_on(port)
check(tw == [], f"no TIME_WAIT on the server side after ~20 requests ({tw})")

# CONTROL: a server that closes first does leave TIME_WAIT, so the check above can fail.
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(1)
cport = ls.getsockname()[1]
c = socket.create_connection(("127.0.0.1", cport)); a, _ = ls.accept()
a.close(); time.sleep(0.1); c.close(); time.sleep(0.1)
check(len(time_wait_on(cport)) == 1, "control: a close-first server leaves TIME_WAIT (check can fail)")

# Head deadline: a client silent after connecting is reset, without
# TIME_WAIT, after SHIM_READYZ_HEAD_TIMEOUT_MS plus one 100 ms sweep (the
# listener does not defer accept: shim/readyz/server.c says why).
s = connect(port)
t0 = time.monotonic()
closed = server_closes_first(s, 5.0)
dt = time.monotonic() - t0
check(closed and 0.45 <= dt <= 3.0, f"silent connection dropped after {dt:.2f} s (head deadline)")
# A client that sent part of its head is accepted at once: reset after ~0.5 s.
s = connect(port)
s.sendall(b"GET /rea")
t0 = time.monotonic()
closed = server_closes_first(s, 4.0)
dt = time.monotonic() - t0
check(closed and 0.45 <= dt <= 1.2, f"partial head dropped after {dt:.2f} s (head deadline)")
s.close()
check(time_wait_on(port) == [], "the timeout reset leaves no TIME_WAIT")
PY

# A flood of 200 idle connections: the cap rejects the excess at once, the
# loop keeps serving (the control socket answers during the flood), and
# readyz answers again once the idle ones time out.
$PY - "$PORT" "$T" "$HARNESS" <<'PY'
import json, socket, subprocess, sys, time
from rz import *
port, T, harness = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def status():
    r = subprocess.run([harness, "notify", "status", "--state-dir", f"{T}/state"],
                       capture_output=True, text=True, timeout=5)
    return r.returncode, (json.loads(r.stdout)["readyz"] if r.returncode == 0 else None)
_, base = status()
flood = []
for i in range(200):
    try:
        flood.append(socket.create_connection(("127.0.0.1", port), timeout=2))
    except OSError:
        pass
t0 = time.monotonic()
rc, st = status()
dt = time.monotonic() - t0
check(rc == 0 and dt < 1.0, f"control socket answers during the flood ({dt*1000:.0f} ms)")
# The flood may still sit in the listen backlog: sample until all is accepted.
max_active = st["active"]
for _ in range(80):
    if st["accepted"] - base["accepted"] >= len(flood):
        break
    time.sleep(0.05)
    st = status()[1]
    max_active = max(max_active, st["active"])
rej = st["rejected_over_cap"] - base["rejected_over_cap"]
ev = st["evicted"] - base["evicted"]
tmo = st["timed_out"] - base["timed_out"]
check(max_active <= 64, f"at most 64 connections held (max seen {max_active})")
check(ev >= 1 and rej + ev + tmo + st["active"] >= len(flood),
      f"every flood connection was evicted for a newcomer ({ev}), reset over the cap ({rej}), "
      f"timed out ({tmo}) or is held ({st['active']})")
deadline = time.monotonic() + 4
ok = False
while time.monotonic() < deadline and not ok:
    try:
        ok = get(port, "/healthz")[0] == 200
    except OSError:
        time.sleep(0.1)
dt = time.monotonic() - t0
check(ok, f"/healthz answered again {dt:.2f} s after the flood")
for s in flood:
    s.close()
PY
kill -0 "$HPID" || { echo "FAIL: harness died"; cat "$T/harness.log"; exit 1; }
stop_harness

echo "== --ready-tcp: ready when the address accepts a connection"
TCP_PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_harness --ready-tcp "127.0.0.1:$TCP_PORT" --identity-file "$T/id" --freeze-threshold 0 \
    --state-dir "$T/state" --supervisor "exec sleep 600"
$PY - "$PORT" "$TCP_PORT" <<'PY'
import socket, subprocess, sys, time
from rz import *
port, tport = int(sys.argv[1]), int(sys.argv[2])
def tw_to_tport():
    out = subprocess.run(["ss", "-Htan", "state", "time-wait", f"( dport = :{tport} )"],
                         capture_output=True, text=True).stdout
    return set(l.split()[-2] for l in out.splitlines() if l.strip())  # local addr:port
# TIME_WAIT entries to this port number that predate the probes (the earlier
# harness may have listened on the same number) are not the probe's.
tw_before = tw_to_tport()
st, h, b = get(port, "/readyz")
check(st == 503 and b == b"waiting for ready-tcp endpoint\n", f"503 while nothing listens ({st} {b!r})")
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", tport)); ls.listen(8)
time.sleep(0.15)
t0 = time.monotonic()
codes = [get(port, "/readyz")[0] for _ in range(20)]
el = time.monotonic() - t0
check(codes == [200] * 20, "200 once the address accepts")
ls.settimeout(0.2)
probes = 0
try:
    while True:
        ls.accept()[0].close()
        probes += 1
except socket.timeout:
    pass
check(1 <= probes <= min(int(el / 0.1) + 2, 10),
      f"20 readyz requests in {el*1000:.0f} ms cost {probes} probe connection(s) (100 ms cache)")
new_tw = tw_to_tport() - tw_before
check(not new_tw, f"the probe connection left no TIME_WAIT (closed with a reset): {new_tw}")
ls.close()
time.sleep(0.15)
check(get(port, "/readyz")[0] == 503, "503 again when the endpoint goes away")
PY
stop_harness
echo PASS
