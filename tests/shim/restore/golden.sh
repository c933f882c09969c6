#!/usr/bin/env bash
# The golden boot under runsc, checkpointed and restored as Substrate does it
# (docs/readyz.md): the identity file holds the golden actor's UUID
# (raw, no newline) during the boot and our actor's name after the restore.
#  - --golden=hold: readyz 200 during the boot with the supervisor NOT
#    started; after the restore the supervisor starts and readyz answers 200
#    only once it is ready;
#  - --golden=run (the control): the supervisor runs during the boot (the
#    hold check can fail);
#  - both: the time from `runsc restore` to the first readyz 200, median of
#    OSS_BENCH_RUNS (3) restores each, printed as bench.* lines
#    (docs/bench.md has the figures; not asserted: timing).
# Networked (--network=sandbox in a namespace made per run): Substrate probes
# readyz from outside.  If runsc cannot run networked here, it skips (77).
source "$OSS_SOURCE_DIR/tests/shim/restore/lib_e2e.sh"
oss_require_cmd ip nsenter unshare curl
export OSS_RUNSC_NETWORK=sandbox
runs=${OSS_BENCH_RUNS:-3}
[[ "$runs" =~ ^[1-9][0-9]*$ ]] && ((runs <= 16)) || oss_fail "OSS_BENCH_RUNS: 1..16"
port=8181
o3=$(($$ % 8 * 32)) # 32 /30 networks per run of this test, one per restore
actor="sb-$(oss_unique_name a 20)"
oss_procsys_copy

rz() { curl -s -o /dev/null -w '%{http_code}' --max-time 0.5 "http://$1:$port/readyz" 2>/dev/null || true; }
status_of() { curl -s --max-time 2 "http://$1:$port/status"; }

declare -A lat=()
for mode in hold run; do
    for ((r = 0; r < runs; r++)); do
        ns=$(oss_unique_name e2eg 15)
        off=0; [[ $mode == run ]] && off=16; n=$((r + off))
        addr=10.238.$((o3 + n)).2 gw=10.238.$((o3 + n)).1
        oss_testnet_make "$ns" "$addr/30" "$gw"
        golden=$(cat /proc/sys/kernel/random/uuid)
        printf '%s' "$golden" >"$E2E_ATE/actor-id.tmp" && mv -f "$E2E_ATE/actor-id.tmp" "$E2E_ATE/actor-id"
        rm -f "$E2E_OUT/counter"
        e2e_bundle "$OSS_TMP/b-$mode-$r" --netns "$(oss_testnet_path "$ns")" -- \
            --readyz-port=$port --freeze-threshold=2s --actor="$actor" --golden="$mode"
        id=$(oss_unique_name e2eg)
        rc=0
        oss_runsc run -detach -bundle "$OSS_TMP/b-$mode-$r" "$id" >"$OSS_TMP/run.out" 2>&1 </dev/null || rc=$?
        ((rc == 0)) || oss_skip "runsc --network=sandbox cannot run here: $(tail -n 3 "$OSS_TMP/run.out" | tr '\n' ' ')"
        oss_wait_for "[[ \$(rz $addr) == 200 ]]" 30 0.02 ||
            oss_fail "$mode: readyz never 200 in the golden boot: $(tail -n 5 "$(oss_runsc_err "$id")")"
        st=$(status_of "$addr")
        sup=$(e2e_json - 'd["supervisor"]["state"]' <<<"$st")
        if [[ $mode == hold ]]; then
            oss_assert_eq not-started "$sup" "hold: supervisor during the golden boot"
            oss_assert_eq true "$(e2e_json - 'd["golden"]["holding"]' <<<"$st")" "hold: golden.holding"
            [[ ! -s "$E2E_OUT/counter" ]] || oss_fail "hold: the workload ran during the golden boot"
        else
            oss_assert_eq running "$sup" "control: run: supervisor during the golden boot"
        fi
        oss_assert_eq "$golden" "$(e2e_json - 'd["restore"]["identity"]["id"]' <<<"$st")" "identity in the golden boot"

        oss_runsc_checkpoint "$id" "$OSS_TMP/img-$mode-$r"
        oss_testnet_readdress "$ns" "$addr/30" "$gw" # runsc took eth0's address with it
        e2e_set_identity "$actor"
        t0=$(oss_now_ms)
        oss_runsc_restore "$id" "$OSS_TMP/b-$mode-$r" "$OSS_TMP/img-$mode-$r"
        seen=""
        for ((i = 0; i < 1500 && $(oss_now_ms) - t0 < 30000; i++)); do
            code=$(rz "$addr")
            [[ "$seen" == *"$code"* ]] || seen+="$code "
            [[ $code == 200 ]] && break
            sleep 0.01
        done
        t1=$(oss_now_ms)
        [[ $code == 200 ]] || oss_fail "$mode: readyz never 200 after the restore (seen: $seen): $(tail -n 5 "$(oss_runsc_err "$id")")"
        st=$(status_of "$addr")
        oss_assert_eq running "$(e2e_json - 'd["supervisor"]["state"]' <<<"$st")" "$mode: supervisor after the restore"
        oss_assert_eq "$actor" "$(e2e_json - 'd["restore"]["identity"]["id"]' <<<"$st")" "$mode: identity after the restore"
        oss_wait_for "[[ -s '$E2E_OUT/counter' ]]" 10 || oss_fail "$mode: the workload does not run after the restore"
        lat[$mode]+="$((t1 - t0)) "
        oss_log "$mode run $r: restore -> readyz 200 in $((t1 - t0)) ms (codes seen: $seen)"
        oss_runsc_kill "$id" KILL || true
        oss_runsc_delete "$id"
    done
done
for mode in hold run; do
    # shellcheck disable=SC2086
    echo "bench.golden_${mode}_restore_to_ready_ms_median=$(oss_median ${lat[$mode]})"
    echo "bench.golden_${mode}_restore_to_ready_ms_all=${lat[$mode]% }"
done
echo PASS
