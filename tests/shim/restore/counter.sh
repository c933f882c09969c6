#!/usr/bin/env bash
# Checkpoint/restore of the real shim under runsc (--network=none), Substrate
# shape, stand-in supervisor, oss-counter as the workload, readyz enabled,
# the SAME identity file before and after:
#  - the counter continues (same token, same pid, count >= before, advancing);
#  - the shim detects the restore by its timer: generation 1, reason "timer",
#    frozen_ms >= the freeze threshold, identity unchanged, recorded in the
#    live status and in the report file (bind-mounted), with a restore event;
#  - the process list inside is the same before and after (same pids, no
#    zombie, no extra process), the supervisor still "running", started once.
# Controls:
#  - why the shim's loop uses poll(): on this runsc a TCP listener registered
#    with epoll (what the shim's readyz did before) cannot be checkpointed
#    ("endpoint still has waiters upon save"), a poll()ed one can;
#  - a cold start of the same bundle is generation 0 with another token.
source "$OSS_SOURCE_DIR/tests/shim/restore/lib_e2e.sh"

# --- control: epoll vs poll on a TCP listener (why shim/loop.c polls) ----
for mode in epoll poll; do
    oss_bundle_make "$OSS_TMP/ep-$mode" -- "$OSS_PYTHON" -c '
import select, socket, sys
s = socket.socket(); s.bind(("0.0.0.0", 8181)); s.listen()
if sys.argv[1] == "epoll":
    e = select.epoll(); e.register(s.fileno(), select.EPOLLIN)
    while True: e.poll(1.0)
p = select.poll(); p.register(s, select.POLLIN)
while True: p.poll(1000)' "$mode"
    cid=$(oss_unique_name "ep$mode")
    oss_runsc_run "$cid" "$OSS_TMP/ep-$mode"
    sleep 0.5
    rc=0
    oss_runsc checkpoint -image-path "$OSS_TMP/img-ep-$mode" "$cid" >"$OSS_TMP/ck-$mode.out" 2>&1 || rc=$?
    oss_runsc_delete "$cid"
    if [[ $mode == epoll ]]; then
        if ((rc == 0)); then
            oss_log "note: this runsc checkpoints an epoll-registered TCP listener (newer gVisor?)"
        else
            oss_assert_file_contains "$OSS_TMP/ck-$mode.out" "waiters upon save" "epoll control error"
            oss_log "control: epoll-registered TCP listener cannot be checkpointed here (as expected)"
        fi
    else
        ((rc == 0)) || oss_fail "a poll()ed TCP listener could not be checkpointed: $(grep -m1 -i error "$OSS_TMP/ck-$mode.out")"
    fi
done

# --- the shim -------------------------------------------------------------
e2e_bundle "$OSS_TMP/b" -- --readyz-port=8181 --freeze-threshold=2s
id=$(oss_unique_name e2ec)
oss_runsc_run "$id" "$OSS_TMP/b"
oss_wait_for "[[ -s '$E2E_OUT/counter' ]]" 20 || oss_fail "counter never wrote: $(tail -n 5 "$(oss_runsc_err "$id")")"
oss_wait_for "e2e_status $id | e2e_json - 'd[\"supervisor\"][\"state\"]' | grep -qx running" 10 ||
    oss_fail "supervisor not running: $(e2e_status "$id")"
st0=$(e2e_status "$id")
oss_assert_eq 0 "$(e2e_json - 'd["restore"]["generation"]' <<<"$st0")" "generation before"
oss_assert_eq "$E2E_GOLDEN_ID" "$(e2e_json - 'd["restore"]["identity"]["id"]' <<<"$st0")" "identity before"
ps0=$(e2e_ps "$id")
oss_log "processes before: $(tr '\n' ';' <<<"$ps0")"
(($(wc -l <<<"$ps0") == 3)) || oss_fail "expected shim, stand-in, counter; got: $ps0"
token=$(e2e_counter_field token)
cpid=$(e2e_counter_field pid)

e2e_checkpoint_frozen "$id" "$OSS_TMP/img" 4
count_ck=$(e2e_counter_field count)
oss_log "checkpoint ${E2E_CKPT_MS} ms, count at checkpoint $count_ck"
t_r=$(oss_now_ms)
oss_runsc_restore "$id" "$OSS_TMP/b" "$OSS_TMP/img"
e2e_wait_generation "$id" 1 10 || oss_fail "no restore recorded within 10 s: $(e2e_status "$id")"
oss_log "restore detected and handled $(($(oss_now_ms) - t_r)) ms after runsc restore began"

st1=$(e2e_status "$id")
last=$(e2e_json - 'd["restore"]["last"]' <<<"$st1")
oss_log "restore record: $last"
oss_assert_eq timer "$(e2e_json - 'd["reason"]' <<<"$last")" "detector (same identity file)"
frozen=$(e2e_json - 'd["frozen_ms"]' <<<"$last")
[[ "$frozen" =~ ^[0-9]+$ ]] && ((frozen >= 2000 && frozen < 30000)) || oss_fail "frozen_ms '$frozen' not in [2000, 30000)"
oss_assert_eq false "$(e2e_json - 'd["identity_changed"]' <<<"$last")" "identity_changed"
oss_assert_eq "$E2E_GOLDEN_ID" "$(e2e_json - 'd["identity_after"]["id"]' <<<"$last")" "identity after"
oss_assert_eq 1 "$(e2e_json - 'd["generation"]' <<<"$st1")" "top-level generation"
oss_assert_eq running "$(e2e_json - 'd["supervisor"]["state"]' <<<"$st1")" "supervisor state after"
oss_assert_eq 1 "$(e2e_json - 'd["supervisor"]["starts"]' <<<"$st1")" "supervisor starts (no restart)"
# the report file on the bind mount was rewritten with the restore event
oss_wait_for "[[ \$(e2e_json '$E2E_OUT/report.json' 'd[\"generation\"]') == 1 ]]" 5 ||
    oss_fail "report file not updated: generation $(e2e_json "$E2E_OUT/report.json" 'd["generation"]')"
oss_assert_eq 1 "$(e2e_json "$E2E_OUT/report.json" 'len([e for e in d["events"] if e["kind"] == "restore"])')" \
    "restore events in the report file"
oss_assert_eq "$frozen" "$(e2e_json "$E2E_OUT/report.json" '[e for e in d["events"] if e["kind"] == "restore"][0]["data"]["frozen_ms"]')" \
    "frozen_ms in the report file"

# memory survived: same token and pid, count continued and advances
oss_assert_eq "$token" "$(e2e_counter_field token)" "counter token after restore"
oss_assert_eq "$cpid" "$(e2e_counter_field pid)" "counter pid after restore"
c1=$(e2e_counter_field count)
((c1 >= count_ck)) || oss_fail "count went back: $count_ck -> $c1"
oss_wait_for "(( \$(e2e_counter_field count) > $c1 ))" 5 || oss_fail "counter stopped after restore at $c1"

# same processes, no zombie, nothing extra
ps1=$(e2e_ps "$id")
oss_log "processes after: $(tr '\n' ';' <<<"$ps1")"
# running, sleeping or in a short uninterruptible wait (D: the counter's
# first file write through the gofer after the restore) is whatever the
# moment of sampling caught; a zombie (Z) or a stopped process (T) is not
norm() { sed -E 's/^([0-9]+ [0-9]+) [RSD] /\1 alive /' <<<"$1"; }
oss_assert_eq "$(norm "$ps0")" "$(norm "$ps1")" "process list (pid ppid state comm) before vs after restore"
if grep -q ' Z ' <<<"$ps1"; then oss_fail "zombie after restore: $ps1"; fi

# restore readiness stays intact: the shim still answers healthz-like status
oss_assert_eq running "$(oss_runsc_status "$id")" "container status"
du_kib=$(du -sk "$OSS_TMP/img" | cut -f1)
echo "bench.e2e_checkpoint_ms=$E2E_CKPT_MS"
echo "bench.e2e_image_kib=$du_kib"
oss_runsc_kill "$id" KILL || true
oss_runsc_delete "$id"

# --- control: a cold start is a different sandbox --------------------------
rm -f "$E2E_OUT/counter" "$E2E_OUT/report.json"
id2=$(oss_unique_name e2ecold)
oss_runsc_run "$id2" "$OSS_TMP/b"
oss_wait_for "[[ -s '$E2E_OUT/counter' ]]" 20 || oss_fail "cold start: counter never wrote"
oss_assert_ne "$token" "$(e2e_counter_field token)" "cold start token (control)"
oss_wait_for "e2e_status $id2 >/dev/null" 10 || oss_fail "cold start: no status"
oss_assert_eq 0 "$(e2e_status "$id2" | e2e_json - 'd["restore"]["generation"]')" "cold start generation (control)"
echo PASS
