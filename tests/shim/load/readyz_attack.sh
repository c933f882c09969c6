#!/usr/bin/env bash
# readyz under attack (tests/shim/load/readyz_attack.py): a fresh prober
# connection is served while the connection table is full of slowloris
# connections, and while bursts of 1,000 idle connections arrive.  This is
# the functional property; the success rate within Substrate's 250 ms is a
# timing figure and lives in the benchmark (tests/bench/readyz_flood.sh,
# docs/bench.md).  Every one of PROBES probes must get a 200 within 2 s.
# Control: the table really is full (the shim's /status shows 64 active
# connections and evictions during the slowloris), so a server that resets
# newcomers over the cap fails this test.
# OSS_SHIM_UNDER_TEST runs another build of the shim (see docs/bench.md).
OSS_TEST_NAME=load_readyz_attack
source "$OSS_SOURCE_DIR/tests/lib/common.sh" || { echo "FAIL: cannot load tests/lib/common.sh" >&2; exit 1; }
SHIM="${OSS_SHIM_UNDER_TEST:-$OSS_BUILD_DIR/shim/openshell-shim}"
[[ -x "$SHIM" ]] || oss_fail "shim not built at $SHIM"
ATK="$OSS_SOURCE_DIR/tests/shim/load/readyz_attack.py"
PROBES=${LOAD_PROBES:-20}

PORT=$("$OSS_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
touch "$OSS_TMP/ready"
"$SHIM" --probes=none --report="$OSS_TMP/report.json" --state-dir="$OSS_TMP/state" \
    --readyz-port="$PORT" --ready-tcp=none --ready-file="$OSS_TMP/ready" -- sleep 600 \
    >"$OSS_TMP/shim.out" 2>"$OSS_TMP/shim.err" </dev/null &
SHIM_PID=$!
oss_on_exit "kill -KILL $SHIM_PID 2>/dev/null"
oss_wait_for "\"$OSS_PYTHON\" '$ATK' probe $PORT 0 1000 50 | grep -q '\"ok\": 1'" 10 ||
    oss_fail "readyz never answered 200: $(tail -n 3 "$OSS_TMP/shim.err")"

status_readyz() {
    "$OSS_PYTHON" - "$PORT" <<'PY'
import json, socket, sys
port = int(sys.argv[1])
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.settimeout(2)
    s.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf or len(buf.partition(b"\r\n\r\n")[2]) < int(
            [l.split(b":")[1] for l in buf.split(b"\r\n") if l.lower().startswith(b"content-length")][0]):
        d = s.recv(65536)
        if not d:
            break
        buf += d
    s.close()
    r = json.loads(buf.partition(b"\r\n\r\n")[2])["readyz"]
    print(r["active"], r["evicted"])
except Exception as e:
    print("dead", repr(e))
PY
}

for attack in slowloris burst; do
    "$OSS_PYTHON" "$ATK" "$attack" "$PORT" 30 >"$OSS_TMP/$attack.json" &
    APID=$!
    oss_on_exit "kill $APID 2>/dev/null"
    sleep 1
    if [[ "$attack" == slowloris ]]; then
        full=0
        for _ in $(seq 20); do
            read -r active evicted rest < <(status_readyz)
            [[ "$active" != dead ]] || oss_fail "a fresh connection (GET /status) was not served during the slowloris: $rest"
            # /status's own connection is one of the active ones
            if ((active >= 63 && evicted > 0)); then full=1 && break; fi
            sleep 0.1
        done
        ((full)) || oss_fail "control: the table never filled ($active active, $evicted evicted)"
        oss_log "ok: control: $active connections active, $evicted evicted: the table is full"
    fi
    ok=0 fails=()
    for ((i = 0; i < PROBES; i++)); do
        r=$("$OSS_PYTHON" "$ATK" probe "$PORT" 0 2000 0)
        if grep -q '"ok": 1' <<<"$r"; then ok=$((ok + 1)); else fails+=("$r"); fi
        sleep 0.1
    done
    kill "$APID" 2>/dev/null || true
    wait "$APID" 2>/dev/null || true
    ((ok == PROBES)) || oss_fail "$attack: $ok of $PROBES fresh probes got a 200 within 2 s; first failure ${fails[0]}"
    oss_log "ok: $attack: $ok of $PROBES fresh probes answered 200"
done
kill -0 "$SHIM_PID" || oss_fail "the shim died under the attacks"
echo "load_readyz_attack: pass"
