#!/usr/bin/env bash
# Networked restore (--network=sandbox, runsc's netstack as Substrate uses it,
# through the harness's /proc/sys workaround, docs/platform/gvisor.md,
# "Networking under Debian's runsc") with readyz served
# to the host:
#  1. the sandbox runs in namespace A (address a), readyz answers 200 from the
#     host; it is checkpointed (after the probe's client closed first) and
#     restored into namespace B with another address b, and another identity:
#     the restore record's network delta shows a's address removed and b's
#     added, identity changed, and readyz answers 200 on b (503 "restoring"
#     never leaks a 200 before the handling is done);
#  2. restore-to-readyz-200 is measured over 6 restores (the first into B, five
#     more back into B after re-addressing it) and printed as a median;
#  3. control: a restore into a namespace with the SAME address shows no
#     IPv4 or link change in the delta (it is not constant noise), and the
#     generation counts every restore.
# If runsc cannot run networked here, the test says why and skips (77).
source "$OSS_SOURCE_DIR/tests/shim/restore/lib_e2e.sh"
oss_require_cmd ip nsenter unshare curl
export OSS_RUNSC_NETWORK=sandbox

o3=$(($$ % 64 * 4))
na=$(oss_unique_name e2ena 15) nb=$(oss_unique_name e2enb 15)
addr_a=10.236.$o3.2 gw_a=10.236.$o3.1
addr_b=10.236.$((o3 + 1)).2 gw_b=10.236.$((o3 + 1)).1
oss_testnet_make "$na" "$addr_a/30" "$gw_a"
oss_testnet_make "$nb" "$addr_b/30" "$gw_b"
port=8181
flags=(--readyz-port=$port --freeze-threshold=2s)
e2e_bundle "$OSS_TMP/ba" --netns "$(oss_testnet_path "$na")" -- "${flags[@]}"
e2e_bundle "$OSS_TMP/bb" --netns "$(oss_testnet_path "$nb")" -- "${flags[@]}"

# HTTP code of one request; curl closes first after Connection: close.
rz() { curl -s -o /dev/null -w '%{http_code}' --max-time 0.5 "http://$1:$port${2:-/readyz}" 2>/dev/null || true; }
status_of() { curl -s --max-time 2 "http://$1:$port/status"; }

id=$(oss_unique_name e2en)
oss_procsys_copy
rc=0
oss_runsc run -detach -bundle "$OSS_TMP/ba" "$id" >"$OSS_TMP/run.out" 2>&1 </dev/null || rc=$?
if ((rc != 0)); then
    oss_skip "runsc --network=sandbox cannot run here even with the /proc/sys workaround: $(tail -n 3 "$OSS_TMP/run.out" | tr '\n' ' ')"
fi
oss_wait_for "[[ \$(rz $addr_a) == 200 ]]" 30 0.05 ||
    oss_fail "readyz never 200 on $addr_a (last $(rz "$addr_a")): $(tail -n 5 "$(oss_runsc_err "$id")")"
oss_assert_eq 0 "$(status_of "$addr_a" | e2e_json - 'd["restore"]["generation"]')" "generation before"
token=$(e2e_counter_field token)
if [[ $(rz "$addr_b") == 200 ]]; then oss_fail "control: $addr_b answered before the move"; fi

# measure: runsc restore start -> first readyz 200 on ADDR; also the codes seen
declare -a lat=() lat_after=()
restore_and_time() {
    local bundle=$1 img=$2 addr=$3 t0 code seen=""
    t0=$(oss_now_ms)
    oss_runsc_restore "$id" "$bundle" "$img"
    E2E_RESTORE_CMD_MS=$(($(oss_now_ms) - t0))
    for ((i = 0; i < 600; i++)); do
        code=$(rz "$addr")
        [[ "$seen" == *"$code"* ]] || seen+="$code "
        [[ $code == 200 ]] && break
        sleep 0.01
    done
    [[ $code == 200 ]] || oss_fail "readyz not 200 on $addr within 6 s after restore (saw: $seen)"
    E2E_LAT=$(($(oss_now_ms) - t0))
    E2E_SEEN=$seen
}

# --- 1. A -> B, another address and another identity -----------------------
new_id="actor-$(oss_unique_name m 20)"
sleep 0.3 # the last probe's connection is fully closed on the server side
e2e_checkpoint_frozen "$id" "$OSS_TMP/img1" 4
e2e_set_identity "$new_id"
restore_and_time "$OSS_TMP/bb" "$OSS_TMP/img1" "$addr_b"
lat+=("$E2E_LAT")
lat_after+=($((E2E_LAT - E2E_RESTORE_CMD_MS)))
oss_log "restore into B: runsc restore ${E2E_RESTORE_CMD_MS} ms, readyz 200 after ${E2E_LAT} ms (codes seen: $E2E_SEEN)"
st=$(status_of "$addr_b")
last=$(e2e_json - 'd["restore"]["last"]' <<<"$st")
oss_log "network delta: $(e2e_json - 'd["network"]' <<<"$last")"
oss_assert_eq 1 "$(e2e_json - 'd["generation"]' <<<"$last")" "generation after the move"
oss_assert_eq true "$(e2e_json - 'd["identity_changed"]' <<<"$last")" "identity changed"
oss_assert_eq "$new_id" "$(e2e_json - 'd["identity_after"]["id"]' <<<"$last")" "new identity"
oss_assert_eq true "$(e2e_json - "any(a['cidr'] == '$addr_a/30' for a in d['network']['delta']['addrs_removed'])" <<<"$last")" \
    "A's address in addrs_removed"
oss_assert_eq true "$(e2e_json - "any(a['cidr'] == '$addr_b/30' for a in d['network']['delta']['addrs_added'])" <<<"$last")" \
    "B's address in addrs_added"
oss_assert_eq true "$(e2e_json - "any(r.get('gateway') == '$gw_b' for r in d['network']['delta']['routes_added'])" <<<"$last")" \
    "B's default route in routes_added"
if [[ $(rz "$addr_a") == 200 ]]; then oss_fail "control: $addr_a still answers after the move"; fi
oss_assert_eq "$token" "$(e2e_counter_field token)" "counter token after the move"

# --- 2./3. five more restores back into B (same address) ----------------
for n in 2 3 4 5 6; do
    sleep 0.3
    e2e_checkpoint_frozen "$id" "$OSS_TMP/img$n" 3
    oss_testnet_readdress "$nb" "$addr_b/30" "$gw_b" # runsc took eth0's address with it
    restore_and_time "$OSS_TMP/bb" "$OSS_TMP/img$n" "$addr_b"
    lat+=("$E2E_LAT")
    lat_after+=($((E2E_LAT - E2E_RESTORE_CMD_MS)))
    oss_log "restore $n: readyz 200 after ${E2E_LAT} ms (codes seen: $E2E_SEEN)"
    last=$(status_of "$addr_b" | e2e_json - 'd["restore"]["last"]')
    oss_assert_eq "$n" "$(e2e_json - 'd["generation"]' <<<"$last")" "generation after restore $n"
    # IPv4 only: `ip addr flush` in the re-addressing also drops eth0's IPv6
    # link-local address, which the delta then rightly reports
    oss_assert_eq 0 "$(e2e_json - "sum(1 for k in ('addrs_added','addrs_removed','routes_added','routes_removed') for x in d['network']['delta'][k] if x['family'] == 'inet') + len(d['network']['delta']['links_added']) + len(d['network']['delta']['links_removed'])" <<<"$last")" \
        "IPv4/link changes when restored at the same address (control), delta $(e2e_json - 'd["network"]' <<<"$last")"
done
st=$(status_of "$addr_b")
oss_assert_eq running "$(e2e_json - 'd["supervisor"]["state"]' <<<"$st")" "supervisor after 6 restores"
oss_assert_eq 1 "$(e2e_json - 'd["supervisor"]["starts"]' <<<"$st")" "supervisor never restarted"

med=$(oss_median "${lat[@]}")
echo "bench.restore_to_readyz_200_ms_median=$med"
echo "bench.restore_to_readyz_200_ms_all=${lat[*]}"
echo "bench.restore_returned_to_readyz_200_ms_median=$(oss_median "${lat_after[@]}")"
echo "bench.restore_returned_to_readyz_200_ms_all=${lat_after[*]}"
echo "bench.note=from the start of 'runsc restore' to the first 200 seen by a host client polling every ~10 ms (curl); includes runsc restore itself"
oss_runsc_kill "$id" KILL || true
echo PASS
