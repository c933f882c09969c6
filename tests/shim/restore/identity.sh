#!/usr/bin/env bash
# Restore as ANOTHER actor, as Substrate does it: the golden actor's identity
# file (bind-mounted read-only at /run/ate/actor-id) is rewritten before
# `runsc restore`.  The shim must report the new id (identity_changed, reason
# "identity" or "timer" when its timer tick saw the freeze first), write it to
# <state-dir>/actor-id, and run the --on-restore-exec hook with the details in
# its environment (the hook writes its env to a bind-mounted file).
# Control: restoring the same image with the same file again changes nothing
# about the id: the second restore is detected by the timer with
# identity_changed false, and the hook sees old == new.
source "$OSS_SOURCE_DIR/tests/shim/restore/lib_e2e.sh"

new_id="actor-$(oss_unique_name n 20)"
hook='env | grep ^OPENSHELL_RESTORE_ | sort > /out/hook.$OPENSHELL_RESTORE_GENERATION.env'
e2e_bundle "$OSS_TMP/b" -- --freeze-threshold=2s "--on-restore-exec=$hook" --on-restore-timeout=5s
id=$(oss_unique_name e2ei)
oss_runsc_run "$id" "$OSS_TMP/b"
oss_wait_for "[[ -s '$E2E_OUT/counter' ]]" 20 || oss_fail "counter never wrote: $(tail -n 5 "$(oss_runsc_err "$id")")"
oss_wait_for "e2e_status $id >/dev/null" 10 || oss_fail "no status"
oss_assert_eq "$E2E_GOLDEN_ID" "$(e2e_status "$id" | e2e_json - 'd["restore"]["identity"]["id"]')" "identity of the golden actor"
token=$(e2e_counter_field token)

# --- restore as another actor -------------------------------------------
e2e_checkpoint_frozen "$id" "$OSS_TMP/img" 4
e2e_set_identity "$new_id"
oss_runsc_restore "$id" "$OSS_TMP/b" "$OSS_TMP/img"
e2e_wait_generation "$id" 1 10 || oss_fail "no restore recorded within 10 s: $(e2e_status "$id")"
last=$(e2e_status "$id" | e2e_json - 'd["restore"]["last"]')
oss_log "restore record: $(cut -c1-600 <<<"$last")"
oss_assert_match '^(identity|timer)$' "$(e2e_json - 'd["reason"]' <<<"$last")" "detector"
oss_assert_eq true "$(e2e_json - 'd["identity_changed"]' <<<"$last")" "identity_changed"
oss_assert_eq "$E2E_GOLDEN_ID" "$(e2e_json - 'd["identity_before"]["id"]' <<<"$last")" "identity_before"
oss_assert_eq "$new_id" "$(e2e_json - 'd["identity_after"]["id"]' <<<"$last")" "identity_after"
oss_assert_eq "$new_id" "$(e2e_status "$id" | e2e_json - 'd["restore"]["identity"]["id"]')" "live identity"
oss_assert_eq "$new_id" "$(cat "$E2E_OUT/state/actor-id")" "<state-dir>/actor-id"
oss_wait_for "[[ -s '$E2E_OUT/hook.1.env' ]]" 10 || oss_fail "the restore hook did not run"
oss_log "hook env: $(tr '\n' ' ' <"$E2E_OUT/hook.1.env")"
oss_assert_file_contains "$E2E_OUT/hook.1.env" "^OPENSHELL_RESTORE_ACTOR_ID_NEW=$new_id\$" "hook: new id"
oss_assert_file_contains "$E2E_OUT/hook.1.env" "^OPENSHELL_RESTORE_ACTOR_ID_OLD=$E2E_GOLDEN_ID\$" "hook: old id"
oss_assert_file_contains "$E2E_OUT/hook.1.env" "^OPENSHELL_RESTORE_GENERATION=1\$" "hook: generation"
oss_assert_file_contains "$E2E_OUT/hook.1.env" "^OPENSHELL_RESTORE_REASON=(identity|timer)\$" "hook: reason"
oss_wait_for "e2e_status $id | e2e_json - 'd[\"restore\"][\"last\"][\"hook\"]' | grep -q '\"exit\": 0'" 10 ||
    oss_fail "hook exit not recorded: $(e2e_status "$id" | e2e_json - 'd["restore"]["last"]')"
oss_assert_eq "$token" "$(e2e_counter_field token)" "counter token (same memory, new identity)"

# --- control: same identity file again -> timer, nothing changed ---------
e2e_checkpoint_frozen "$id" "$OSS_TMP/img2" 4
oss_runsc_restore "$id" "$OSS_TMP/b" "$OSS_TMP/img2"
e2e_wait_generation "$id" 2 10 || oss_fail "second restore not recorded: $(e2e_status "$id")"
last=$(e2e_status "$id" | e2e_json - 'd["restore"]["last"]')
oss_assert_eq timer "$(e2e_json - 'd["reason"]' <<<"$last")" "detector with the same identity file"
oss_assert_eq false "$(e2e_json - 'd["identity_changed"]' <<<"$last")" "identity_changed (same file)"
oss_assert_eq "$new_id" "$(e2e_json - 'd["identity_after"]["id"]' <<<"$last")" "identity after the second restore"
oss_wait_for "[[ -s '$E2E_OUT/hook.2.env' ]]" 10 || oss_fail "the hook did not run after the second restore"
oss_assert_file_contains "$E2E_OUT/hook.2.env" "^OPENSHELL_RESTORE_ACTOR_ID_OLD=$new_id\$" "hook 2: old id"
oss_assert_file_contains "$E2E_OUT/hook.2.env" "^OPENSHELL_RESTORE_ACTOR_ID_NEW=$new_id\$" "hook 2: new id"
oss_assert_file_contains "$E2E_OUT/hook.2.env" "^OPENSHELL_RESTORE_REASON=timer\$" "hook 2: reason"
oss_assert_eq "$new_id" "$(cat "$E2E_OUT/state/actor-id")" "<state-dir>/actor-id after the second restore"
oss_runsc_kill "$id" KILL || true
echo PASS
