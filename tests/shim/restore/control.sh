#!/usr/bin/env bash
# CONTROL that must fail to detect: with detection disabled
# (--freeze-threshold=0: no timer; the identity file unchanged; no notify, no
# restore signal, no readyz probe) a real checkpoint/restore leaves no trace:
# generation 0, restore.last null, no restore event in the live status or in
# the report file, no <state-dir>/actor-id rewrite, no hook run.  It shows
# the other tests' detections come from the detectors, not from something
# that records a restore regardless.
# Positive counterpart in the same sandbox: `openshell-shim notify restore`
# afterwards is recorded as generation 1, reason "notify" (so the status read
# here would have shown a restore had there been one).
source "$OSS_SOURCE_DIR/tests/shim/restore/lib_e2e.sh"

hook=': >/out/hook.ran'
e2e_bundle "$OSS_TMP/b" -- --freeze-threshold=0 "--on-restore-exec=$hook"
id=$(oss_unique_name e2ex)
oss_runsc_run "$id" "$OSS_TMP/b"
oss_wait_for "[[ -s '$E2E_OUT/counter' ]]" 20 || oss_fail "counter never wrote: $(tail -n 5 "$(oss_runsc_err "$id")")"
oss_wait_for "e2e_status $id >/dev/null" 10 || oss_fail "no status"
oss_assert_eq 0 "$(e2e_status "$id" | e2e_json - 'd["restore"]["freeze_threshold_ms"]')" "timer disabled"
aid_mtime=$(stat -c %Y.%Z "$E2E_OUT/state/actor-id" 2>/dev/null || echo none)
token=$(e2e_counter_field token)

e2e_checkpoint_frozen "$id" "$OSS_TMP/img" 4
oss_runsc_restore "$id" "$OSS_TMP/b" "$OSS_TMP/img"
oss_wait_for "(( \$(e2e_counter_field count) > 0 ))" 5 || true
sleep 4 # several would-be timer periods
oss_assert_eq "$token" "$(e2e_counter_field token)" "the sandbox was restored (same token)"
st=$(e2e_status "$id")
oss_assert_eq 0 "$(e2e_json - 'd["restore"]["generation"]' <<<"$st")" "generation with detection disabled"
oss_assert_eq null "$(e2e_json - 'd["restore"]["last"]' <<<"$st")" "restore.last with detection disabled"
oss_assert_eq 0 "$(e2e_json - 'len([e for e in d["events"] if e["kind"] == "restore"])' <<<"$st")" "restore events (live)"
oss_assert_eq 0 "$(e2e_json "$E2E_OUT/report.json" 'len([e for e in d["events"] if e["kind"] == "restore"])')" \
    "restore events (report file)"
oss_assert_eq "$aid_mtime" "$(stat -c %Y.%Z "$E2E_OUT/state/actor-id" 2>/dev/null || echo none)" "actor-id untouched"
[[ -e "$E2E_OUT/hook.ran" ]] && oss_fail "the restore hook ran with detection disabled"

# positive counterpart: an explicit notification is recorded
out=$(oss_runsc exec --user "$E2E_UID:$E2E_UID" "$id" "$E2E_SHIM" notify restore --state-dir=/out/state 2>&1) || oss_fail "notify restore: $out"
oss_assert_match '^ok generation=1' "$out" "notify reply"
e2e_wait_generation "$id" 1 10 || oss_fail "notified restore not recorded"
oss_assert_eq notify "$(e2e_status "$id" | e2e_json - 'd["restore"]["last"]["reason"]')" "reason of the notified restore"
oss_wait_for "[[ -e '$E2E_OUT/hook.ran' ]]" 10 || oss_fail "hook did not run after notify"
oss_runsc_kill "$id" KILL || true
echo PASS
