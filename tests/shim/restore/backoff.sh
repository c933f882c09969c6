#!/usr/bin/env bash
# Checkpoint while the supervisor is NOT running: the shim supervises with
# --restart=always, the stand-in's workload crashes twice (exit 3), and the
# sandbox is checkpointed while the shim sits in the BACKOFF state before the
# third start.  After the restore the shim must be consistent: it answers
# status (generation 1, restore handled), leaves BACKOFF and starts the
# supervisor again (starts 3, state running, the workload counts), reaps the
# crashed children (no zombie inside) and /readyz answers 200 once the
# stand-in's proxy is up again.
# Control: in the checkpointed state readyz's condition was not met (status
# says "backoff"), so the 200 at the end is the restarted supervisor's.
source "$OSS_SOURCE_DIR/tests/shim/restore/lib_e2e.sh"
oss_require_cmd curl

wl=(/bin/sh -c 'c=$0; set -- /out/crash.*
if [ -e "$2" ]; then exec "$c" --file /out/counter --period-ms 20; fi
: >/out/crash.$$; exit 3' "$E2E_COUNTER")
e2e_bundle "$OSS_TMP/b" -- --readyz-port=8181 --freeze-threshold=2s --restart=always \
    --backoff-initial=3s --backoff-max=30s --restart-max=10 --- "${wl[@]}"
id=$(oss_unique_name e2eb)
oss_runsc_run "$id" "$OSS_TMP/b"
oss_wait_for "e2e_status $id | e2e_json - 'd[\"supervisor\"][\"starts\"] == 2 and d[\"supervisor\"][\"state\"] == \"backoff\"' | grep -qx true" 20 0.1 ||
    oss_fail "never in backoff after the second crash: $(e2e_status "$id" | e2e_json - 'd.get("supervisor")')"
st=$(e2e_status "$id")
oss_log "before checkpoint: supervisor $(e2e_json - 'd["supervisor"]' <<<"$st")"
[[ -e "$E2E_OUT/counter" ]] && oss_fail "control: the workload already runs before the checkpoint"

e2e_checkpoint_frozen "$id" "$OSS_TMP/img" 4
oss_log "checkpointed in backoff (${E2E_CKPT_MS} ms)"
oss_runsc_restore "$id" "$OSS_TMP/b" "$OSS_TMP/img"
e2e_wait_generation "$id" 1 10 || oss_fail "restore not handled: $(e2e_status "$id")"
oss_wait_for "e2e_status $id | e2e_json - 'd[\"supervisor\"][\"state\"] == \"running\" and d[\"supervisor\"][\"starts\"] == 3' | grep -qx true" 15 0.2 ||
    oss_fail "supervisor not restarted after the restore: $(e2e_status "$id" | e2e_json - 'd.get("supervisor")')"
oss_wait_for "[[ -s '$E2E_OUT/counter' ]]" 10 || oss_fail "the restarted workload does not count"
st=$(e2e_status "$id")
oss_assert_eq timer "$(e2e_json - 'd["restore"]["last"]["reason"]' <<<"$st")" "detector"
oss_assert_eq 1 "$(e2e_json - 'd["generation"]' <<<"$st")" "generation"
oss_assert_eq 3 "$(e2e_json - 'len([e for e in d["events"] if e["kind"] == "start"])' <<<"$st")" "start events"
oss_assert_eq 1 "$(e2e_json - 'len([e for e in d["events"] if e["kind"] == "restore"])' <<<"$st")" "restore events"
ps1=$(e2e_ps "$id")
oss_log "processes after: $(tr '\n' ';' <<<"$ps1")"
if grep -q ' Z ' <<<"$ps1"; then oss_fail "zombie after restore: $ps1"; fi
(($(wc -l <<<"$ps1") == 3)) || oss_fail "expected shim, stand-in, counter after the restart; got: $ps1"
# readyz from inside (no host network here); the restored sandbox is not
# checkpointed again, so the client's TIME_WAIT inside does not matter
oss_wait_for "[[ \$(oss_runsc exec $id curl -s -o /dev/null -w '%{http_code}' --max-time 1 http://127.0.0.1:8181/readyz 2>/dev/null) == 200 ]]" 10 0.2 ||
    oss_fail "readyz not 200 after the restart: $(oss_runsc exec "$id" curl -s --max-time 1 http://127.0.0.1:8181/readyz)"
oss_runsc_kill "$id" KILL || true
echo PASS
