#!/usr/bin/env bash
# The readyz flood benchmark: what fraction of prober requests succeed (HTTP
# 200, the whole request within 250 ms, as Substrate's prober counts) while
# the readyz port is under attack, for this build's shim and, when given,
# another build's (the one before a change), in the same run.  Prints a
# markdown table (docs/bench.md).
#
#   sudo tests/bench/readyz_flood.sh [OTHER_SHIM [OTHER_LABEL]] > table.md
#
# Attacks (tests/shim/load/readyz_attack.py): none; a slowloris of 200 connections
# trickling a byte a second and reconnecting when reset; bursts of 1,000
# idle connections held 1 s, repeated.  Each cell is the median of
# FLOOD_RUNS (3) runs of FLOOD_S (10) seconds of probing, one probe every
# 50 ms.  Loopback only; bounded in time (about 2 x 3 x 3 x 12 s).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${OSS_BUILD_DIR:-$SRC/build}
RUNS=${FLOOD_RUNS:-3}
SECS=${FLOOD_S:-10}
ATK="$SRC/tests/shim/load/readyz_attack.py"
SHIMS=("this build|$BUILD/shim/openshell-shim")
if [[ -n "${1:-}" ]]; then
    SHIMS+=("${2:-other build}|$1")
fi
for row in "${SHIMS[@]}"; do
    [[ -x "${row#*|}" ]] || { echo "readyz_flood: ${row#*|} not built" >&2; exit 77; }
done
WORK=$(mktemp -d /tmp/oss-flood.XXXXXX)
cleanup() {
    local p
    for p in $(jobs -p); do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

one_run() { # SHIM ATTACK -> the prober's JSON
    local shim=$1 attack=$2 port spid apid=
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    touch "$WORK/ready"
    "$shim" --probes=none --report="$WORK/r.json" --state-dir="$WORK/state" --readyz-port="$port" \
        --ready-tcp=none --ready-file="$WORK/ready" -- sleep 600 </dev/null >/dev/null 2>&1 &
    spid=$!
    for _ in $(seq 50); do
        python3 "$ATK" probe "$port" 0 1000 50 | grep -q '"ok": 1' && break
        sleep 0.1
    done
    if [[ "$attack" != none ]]; then
        python3 "$ATK" "$attack" "$port" $((SECS + 2)) >/dev/null &
        apid=$!
        sleep 1
    fi
    python3 "$ATK" probe "$port" "$SECS" 250 50
    [[ -z "$apid" ]] || wait "$apid" || true
    kill -TERM "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
}

echo "### readyz under a flood: prober success within 250 ms (median of $RUNS runs of $SECS s)"
echo
echo "| shim | attack | success | p50 ms | p99 ms | failures (of the median run) |"
echo "|---|---|---|---|---|---|"
for row in "${SHIMS[@]}"; do
    label=${row%%|*} shim=${row#*|}
    for attack in none slowloris burst; do
        for ((i = 0; i < RUNS; i++)); do one_run "$shim" "$attack"; done >"$WORK/runs"
        python3 - "$WORK/runs" "$label" "$attack" <<'PY'
import json, sys
runs = sorted((json.loads(l) for l in open(sys.argv[1]) if l.strip()), key=lambda r: r["rate"])
m = runs[len(runs) // 2]
errs = ", ".join(f"{k} {v}" for k, v in sorted(m["errors"].items())) or "none"
print(f"| {sys.argv[2]} | {sys.argv[3]} | {m['rate'] * 100:.1f} % ({m['ok']}/{m['attempts']}) "
      f"| {m['p50_ms']} | {m['p99_ms']} | {errs} |")
PY
    done
done
echo
