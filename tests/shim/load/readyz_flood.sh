#!/usr/bin/env bash
# A readyz flood against the shim (2,000 requests from 50 concurrent clients
# on loopback) while signals are forwarded and orphans reaped: each forwarded
# SIGUSR1 must reach the child, and each burst of orphans must be reaped,
# within a bound, during the flood.  The shim runs as a child subreaper.
# Controls: with the shim stopped (SIGSTOP) a signal is NOT delivered and the
# zombies DO pile up, so both checks can fail; every request gets an answer.
#   LOAD_REQUESTS (2000), LOAD_CLIENTS (50), LOAD_SIGNALS (20)
OSS_TEST_NAME=load_readyz_flood
source "$OSS_SOURCE_DIR/tests/lib/common.sh" || { echo "FAIL: cannot load tests/lib/common.sh" >&2; exit 1; }
oss_require_root # the shim's report/state live in $OSS_TMP; root for /proc of all
SHIM="$OSS_BUILD_DIR/shim/openshell-shim"
[[ -x "$SHIM" ]] || oss_fail "shim not built at $SHIM"
ORPH=$(oss_helper oss-orphans)
ZC="$OSS_SOURCE_DIR/tests/shim/count_zombies.sh"
REQ=${LOAD_REQUESTS:-2000} CLI=${LOAD_CLIENTS:-50} NSIG=${LOAD_SIGNALS:-20}
SIG_BOUND_MS=1000 REAP_BOUND_S=5

PORT=$("$OSS_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
F="$OSS_TMP/sig.log" B="$OSS_TMP/burst.log"
: >"$F"
: >"$B"
touch "$OSS_TMP/ready"
# The child: records each SIGUSR1 (CLOCK_REALTIME ns), makes a burst of 300
# orphans on SIGUSR2 (re-parented to the shim, the subreaper).
"$SHIM" --probes=none --report="$OSS_TMP/report.json" --state-dir="$OSS_TMP/state" \
    --readyz-port="$PORT" --ready-tcp=none --ready-file="$OSS_TMP/ready" --stop-timeout=2s -- \
    bash -c "trap 'date +%s%N >> $F' USR1
             trap '$ORPH 300 >/dev/null; echo burst >> $B' USR2
             trap 'exit 0' TERM
             echo ready >> $F
             while :; do sleep 1 & wait \$!; done" \
    >"$OSS_TMP/shim.out" 2>"$OSS_TMP/shim.err" </dev/null &
SHIM_PID=$!
oss_on_exit "kill -CONT $SHIM_PID 2>/dev/null; kill -KILL $SHIM_PID 2>/dev/null"
oss_wait_for "grep -q ready '$F'" 10 || oss_fail "child did not start: $(cat "$OSS_TMP/shim.err")"
: >"$F"
CHILD=$(pgrep -P "$SHIM_PID" -x bash | head -n 1)
[[ -n "$CHILD" ]] || oss_fail "no child bash under the shim"

sig_roundtrip() { # -> latency in ms, or fails after SIG_BOUND_MS
    local before t0 t1
    before=$(wc -l <"$F")
    t0=$(date +%s%N)
    kill -USR1 "$SHIM_PID"
    oss_wait_for "[[ \$(wc -l <'$F') -gt $before ]]" "$((SIG_BOUND_MS / 1000)).$((SIG_BOUND_MS % 1000))" 0.002 ||
        return 1
    t1=$(tail -n 1 "$F")
    echo $(((t1 - t0) / 1000000))
}
burst_reaped() { # trigger a burst (through the shim), wait for 0 zombies -> ms
    local before t0
    before=$(wc -l <"$B")
    t0=$(oss_now_ms)
    kill -USR2 "$SHIM_PID"
    oss_wait_for "[[ \$(wc -l <'$B') -gt $before ]]" 20 0.01 || oss_fail "orphan burst did not run"
    # every orphan (alive or zombie) is the shim's child until reaped
    oss_wait_for "[[ \$(pgrep -P $SHIM_PID | grep -cvx $CHILD) == 0 ]]" "$REAP_BOUND_S" 0.02 || return 1
    echo $(($(oss_now_ms) - t0))
}

# ---- controls: a stopped shim forwards nothing and reaps nothing ----------
kill -STOP "$SHIM_PID"
kill -USR1 "$SHIM_PID"
sleep 0.5
[[ ! -s "$F" ]] || oss_fail "control: a stopped shim delivered a signal?"
kill -USR2 "$CHILD" # straight to the child: a burst the stopped shim cannot reap
oss_wait_for "[[ -s '$B' ]]" 20 0.01 || oss_fail "control burst did not run"
sleep 0.3
z=$("$ZC" "$SHIM_PID")
[[ "$z" != zombies=0 ]] || oss_fail "control: no zombie under a stopped shim ($z): the reaping check cannot fail"
kill -CONT "$SHIM_PID"
oss_wait_for "[[ -s '$F' ]]" 2 0.01 || oss_fail "SIGUSR1 not delivered after SIGCONT"
oss_wait_for "[[ \$('$ZC' $SHIM_PID) == zombies=0 ]]" "$REAP_BOUND_S" 0.05 || oss_fail "zombies not reaped after SIGCONT"
oss_log "ok: control: stopped shim delivered nothing and left $z; after SIGCONT both happened"

# ---- baseline, then the same under the flood -------------------------------
base=$(sig_roundtrip) || oss_fail "baseline signal not delivered within ${SIG_BOUND_MS}ms"
# rounds of REQ requests until the measurements below are done (at most 30)
"$OSS_PYTHON" "$OSS_SOURCE_DIR/tests/shim/load/flood.py" "$PORT" "$REQ" "$CLI" "$OSS_TMP/flood.stop" \
    >"$OSS_TMP/flood.json" 2>&1 &
FLOOD=$!
oss_on_exit "kill $FLOOD 2>/dev/null"
lats=() reaps=()
for ((i = 0; i < NSIG; i++)); do
    kill -0 "$FLOOD" 2>/dev/null || break # flood over (its round cap): checked below
    l=$(sig_roundtrip) || oss_fail "signal $i not delivered within ${SIG_BOUND_MS}ms during the flood"
    lats+=("$l")
    if ((i % 5 == 0)); then
        r=$(burst_reaped) || oss_fail "burst $i not reaped within ${REAP_BOUND_S}s during the flood"
        reaps+=("$r")
    fi
done
touch "$OSS_TMP/flood.stop"
wait "$FLOOD" || oss_fail "flood client failed: $(cat "$OSS_TMP/flood.json")"
((${#lats[@]} >= 3)) || oss_fail "the flood ended before 3 signals were measured (${#lats[@]}); raise LOAD_REQUESTS"
((${#reaps[@]} >= 1)) || oss_fail "no burst measured during the flood"
"$OSS_PYTHON" - "$OSS_TMP/flood.json" "$REQ" <<'PY' || oss_fail "flood: $(cat "$OSS_TMP/flood.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["errors"] == 0, r
assert r["status"].get("200", 0) == r["sent"], r
assert r["sent"] >= int(sys.argv[2]), r
PY
kill -0 "$SHIM_PID" || oss_fail "shim died during the flood: $(tail -n 5 "$OSS_TMP/shim.err")"
max_l=$(printf '%s\n' "${lats[@]}" | sort -n | tail -n 1)
oss_log "ok: flood $(cat "$OSS_TMP/flood.json")"
oss_log "ok: ${#lats[@]} signals during the flood: median $(oss_median "${lats[@]}") ms, max $max_l ms (baseline ${base} ms, bound ${SIG_BOUND_MS} ms)"
oss_log "ok: ${#reaps[@]} bursts of 300 orphans reaped during the flood in $(printf '%s ' "${reaps[@]}")ms (bound ${REAP_BOUND_S}s)"

# ---- after the flood: the shim still serves and stops cleanly --------------
code=$("$OSS_PYTHON" - "$PORT" <<'PY'
import sys, urllib.request
print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=5).status)
PY
)
oss_assert_eq 200 "$code" "readyz after the flood"
kill -TERM "$SHIM_PID"
rc=0
wait "$SHIM_PID" || rc=$?
oss_assert_eq 0 "$rc" "shim exit status after SIGTERM"
echo "load_readyz_flood: pass"
