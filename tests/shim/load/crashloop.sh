#!/usr/bin/env bash
# The supervisor crash-looping under the shim: it exits 3 at once, forever,
# under --restart=always with a 10 ms..40 ms backoff and a cap no run
# reaches.  For LOAD_CRASHLOOP_S seconds (default 20; 60 for a full
# minute) it checks that
#   - backoff holds: every gap between two starts is at least the policy's
#     delay for that restart, and the number of starts is within the range
#     the policy allows for the elapsed time;
#   - no fd growth: /proc/<shim>/fd has the same count at the end as after
#     the first second;
#   - no memory growth: VmRSS at the end is within 32 KiB of the value after
#     WARM seconds, once the report's bounded event ring is full (samples
#     every second are logged).
# Controls: the same gap check applied to a loop with no backoff (the shim
# with --backoff-initial=1ms --backoff-max=1ms) fails, so it can catch a
# shim that ignores its backoff; the growth check fails on a process that
# leaks fds and memory.
OSS_TEST_NAME=load_crashloop
source "$OSS_SOURCE_DIR/tests/lib/common.sh" || { echo "FAIL: cannot load tests/lib/common.sh" >&2; exit 1; }
SHIM="$OSS_BUILD_DIR/shim/openshell-shim"
[[ -x "$SHIM" ]] || oss_fail "shim not built at $SHIM"
DUR=${LOAD_CRASHLOOP_S:-20}
# 10..40 ms: the report's ring of SHIM_REPORT_MAX_EVENTS (256) events, which
# grows by design until full, fills within WARM seconds; memory is compared
# from then on.
INIT_MS=10 MAX_MS=40 WARM=8
((DUR >= WARM + 5)) || oss_fail "LOAD_CRASHLOOP_S must be at least $((WARM + 5))"

# sample PID SECONDS NAME [ERRFILE]: NAME.samples gets "t fds rss_kib" once a
# second; fails if PID ends early.
sample() {
    local pid=$1 secs=$2 name=$3 errf=${4:-/dev/null} i st
    : >"$OSS_TMP/$name.samples"
    for ((i = 1; i <= secs; i++)); do
        sleep 1
        st="/proc/$pid/status"
        [[ -r "$st" ]] || oss_fail "$name: process gone after ${i}s: $(tail -n 3 "$errf")"
        echo "$i $(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l) $(awk '/^VmRSS:/ {print $2}' "$st")" \
            >>"$OSS_TMP/$name.samples"
    done
}

# growth NAME WARM: fails (message on stdout) if NAME.samples shows fd growth
# (the lowest count in the first WARM samples vs in the last WARM; a sample
# may catch the exec-status pipe a spawn holds for a moment) or VmRSS growth
# above 32 KiB from sample WARM to the last.
growth() {
    local f="$OSS_TMP/$1.samples" warm=$2 fd0 fd1 maxfd rss0 rss1
    fd0=$(head -n "$warm" "$f" | awk '{print $2}' | sort -n | head -n 1)
    fd1=$(tail -n "$warm" "$f" | awk '{print $2}' | sort -n | head -n 1)
    maxfd=$(awk '{print $2}' "$f" | sort -n | tail -n 1)
    read -r _ _ rss0 < <(sed -n "${warm}p" "$f")
    read -r _ _ rss1 < <(tail -n 1 "$f")
    local bad=0 out="fds $fd0 -> $fd1 (max $maxfd), VmRSS $rss0 -> $rss1 KiB from sample $warm on"
    ((fd1 == fd0 && maxfd <= fd0 + 2)) || { bad=1 out="fd count grew: $fd0 -> $fd1 (max $maxfd); $out"; }
    if [[ "${OSS_SANITIZE:-0}" == 1 && "$1" == loop ]]; then
        # ASan keeps freed memory in its quarantine (up to 256 MiB): RSS grows by design
        out="$out (VmRSS not compared in the sanitizer build; LSan checks leaks at exit)"
    elif ((rss1 - rss0 > 32)); then
        bad=1 out="VmRSS grew by $((rss1 - rss0)) KiB; $out"
    fi
    echo "$out"
    return "$bad"
}

# crashloop NAME INIT MAX SECONDS: runs the loop, leaves NAME.runs (start
# times, ns) and NAME.samples ("t fds rss_kib" per second).
crashloop() {
    local name=$1 init=$2 max=$3 secs=$4 runs="$OSS_TMP/$1.runs" pid i st
    : >"$runs"
    "$SHIM" --probes=none --report="$OSS_TMP/$name.report.json" --state-dir="$OSS_TMP/state-$name" \
        --restart=always --restart-max=100000 --restart-window=60m \
        --backoff-initial="${init}ms" --backoff-max="${max}ms" -- \
        /bin/sh -c "date +%s%N >> $runs; exit 3" >/dev/null 2>"$OSS_TMP/$name.err" </dev/null &
    pid=$!
    oss_on_exit "kill -KILL $pid 2>/dev/null"
    sample "$pid" "$secs" "$name" "$OSS_TMP/$name.err"
    kill -TERM "$pid"
    wait "$pid" || true # the child's last status (3), or 143
    ! grep -q 'Sanitizer' "$OSS_TMP/$name.err" || oss_fail "$name: $(grep -A 20 Sanitizer "$OSS_TMP/$name.err")"
}

# gaps_ok NAME: every gap between consecutive starts >= the policy's delay
# (INIT_MS doubling, capped at MAX_MS), minus 2 ms of timer slack.
gaps_ok() {
    awk -v init="$INIT_MS" -v max="$MAX_MS" '
        NR > 1 { k = NR - 2; d = init; for (i = 0; i < k && d < max; i++) d *= 2; if (d > max) d = max
                 gap = ($1 - prev) / 1e6
                 if (gap < d - 2) { printf "restart %d came %.1f ms after the previous start, policy says >= %d ms\n", k + 1, gap, d; bad = 1 } }
        { prev = $1 }
        END { exit bad }' "$OSS_TMP/$1.runs"
}

crashloop loop "$INIT_MS" "$MAX_MS" "$DUR"
n=$(wc -l <"$OSS_TMP/loop.runs")
gaps_ok loop >"$OSS_TMP/gaps" || oss_fail "backoff violated: $(head -n 3 "$OSS_TMP/gaps")"
# Starts the policy allows in DUR s: the backoff alone (no time for the
# child to run) is the upper bound; the lower bound allows 50 ms per run on a
# busy machine.
read -r lo hi < <(awk -v init="$INIT_MS" -v max="$MAX_MS" -v T="$((DUR * 1000))" 'BEGIN {
    for (slack = 50; slack >= 0; slack -= 50) { t = 0; n = 1; d = init
        while (1) { t += d + slack; if (t > T) break; n++; if (d < max) { d *= 2; if (d > max) d = max } }
        printf "%d ", n }
    print "" }')
((n >= lo && n <= hi)) || oss_fail "$n starts in ${DUR}s; the policy allows $lo..$hi"
oss_log "ok: $n starts in ${DUR}s (policy: $lo..$hi), every gap >= the backoff delay"

oss_log "samples (s fds rss_kib): $(tr '\n' ';' <"$OSS_TMP/loop.samples")"
msg=$(growth loop "$WARM") || oss_fail "$msg over ${DUR}s"
oss_log "ok: $msg (${DUR}s)"

# ---- control: the growth check sees a process that leaks fds and memory ---
"$OSS_PYTHON" -c '
import os, time
keep = []
for _ in range(40):
    keep.append((os.open("/dev/null", os.O_RDONLY), bytearray(os.urandom(128 * 1024))))
    time.sleep(0.25)
' &
leaker=$!
oss_on_exit "kill -KILL $leaker 2>/dev/null"
sample "$leaker" 6 leaker
kill -KILL "$leaker" 2>/dev/null || true
msg=$(growth leaker 2) && oss_fail "control: a process leaking fds and 512 KiB/s passed the growth check ($msg)"
[[ "$msg" == *"fd count grew"* && "$msg" == *"VmRSS grew"* ]] ||
    oss_fail "control: the growth check missed one of the two leaks: $msg"
oss_log "ok: control: a leaking process fails the growth check ($msg)"

# ---- control: without backoff the gap check fails -------------------------
crashloop nobackoff 1 1 2
if gaps_ok nobackoff >/dev/null; then
    oss_fail "control: a loop with 1 ms backoff passed the ${INIT_MS}..${MAX_MS} ms gap check"
fi
oss_log "ok: control: $(wc -l <"$OSS_TMP/nobackoff.runs") starts in 2s with 1 ms backoff fail the gap check"
echo "load_crashloop: pass"
