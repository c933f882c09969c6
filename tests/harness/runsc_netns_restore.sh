#!/usr/bin/env bash
# (c) Networked mode (docs/platform/gvisor.md, "Networking under
# Debian's runsc"): a container with --network=sandbox
# (netstack, as Substrate runs it) in network namespace A serves oss-counter's
# TCP port; it is checkpointed and restored into namespace B with a different
# address, and answers there at once with the same memory (token, count
# continued).  Controls: after the restore, A's address no longer answers;
# before the checkpoint, B's address does not answer.
# Also: the workload's server lets the client close first, so a checkpoint
# right after a client connection succeeds (TIME_WAIT: docs/platform/gvisor.md,
# "Checkpoint and restore").
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
source "$OSS_SOURCE_DIR/tests/lib/runsc.sh"
oss_runsc_require
oss_require_cmd ip nsenter unshare
export OSS_RUNSC_NETWORK=sandbox

# Per-test /30s in 10.234.0.0/16 (third octet from the pid), so parallel
# tests do not collide.
o3=$(($$ % 64 * 4))
na=$(oss_unique_name ossna 15) nb=$(oss_unique_name ossnb 15) nc=$(oss_unique_name ossnc 15)
addr_a=10.234.$o3.2 gw_a=10.234.$o3.1
addr_b=10.234.$((o3 + 1)).2 gw_b=10.234.$((o3 + 1)).1
addr_c=10.234.$((o3 + 2)).2 gw_c=10.234.$((o3 + 2)).1
oss_testnet_make "$na" "$addr_a/30" "$gw_a"
oss_testnet_make "$nb" "$addr_b/30" "$gw_b"
oss_testnet_make "$nc" "$addr_c/30" "$gw_c"
port=8080

mkdir -p "$OSS_TMP/out"
common=(--bind "$OSS_HELPERS_DIR:/helpers:ro" --bind "$OSS_TMP/out:/out")
argv=(/helpers/oss-counter --file /out/counter --period-ms 20 --port "$port" --bind 0.0.0.0)
oss_bundle_make "$OSS_TMP/ba" "${common[@]}" --netns "$(oss_testnet_path "$na")" -- "${argv[@]}"
oss_bundle_make "$OSS_TMP/bb" "${common[@]}" --netns "$(oss_testnet_path "$nb")" -- "${argv[@]}"

id=$(oss_unique_name netc)
oss_procsys_copy
rc=0
oss_runsc run -detach -bundle "$OSS_TMP/ba" "$id" >"$OSS_TMP/run.out" 2>&1 </dev/null || rc=$?
if ((rc != 0)); then
    oss_skip "runsc --network=sandbox cannot run here even with the /proc/sys workaround: $(tail -n 3 "$OSS_TMP/run.out" | tr '\n' ' ')"
fi

oss_wait_for "oss_tcp_line $addr_a $port" 20 || oss_fail "no answer on $addr_a:$port: $(cat "$OSS_TMP/run.out")"
line=$(oss_tcp_line "$addr_a" "$port")
oss_log "namespace A: $line"
token=$(sed -n 's/.*token=\([0-9a-f]*\).*/\1/p' <<<"$line")
count_a=$(sed -n 's/.*count=\([0-9]*\).*/\1/p' <<<"$line")
[[ -n "$token" && -n "$count_a" ]] || oss_fail "bad line '$line'"
if oss_tcp_line "$addr_b" "$port" 1 >/dev/null 2>&1; then
    oss_fail "control: $addr_b answered before the sandbox moved there"
fi

# Several clients right before the checkpoint: must not block it.
for _ in 1 2 3; do oss_tcp_line "$addr_a" "$port" >/dev/null; done
t0=$(oss_now_ms)
oss_runsc_checkpoint "$id" "$OSS_TMP/img"
t1=$(oss_now_ms)
oss_runsc_restore "$id" "$OSS_TMP/bb" "$OSS_TMP/img"
t2=$(oss_now_ms)
oss_wait_for "oss_tcp_line $addr_b $port 1" 20 || oss_fail "no answer on $addr_b:$port after restore"
t3=$(oss_now_ms)
line_b=$(oss_tcp_line "$addr_b" "$port")
oss_log "namespace B: $line_b"
oss_assert_eq "$token" "$(sed -n 's/.*token=\([0-9a-f]*\).*/\1/p' <<<"$line_b")" "token after restore in B"
count_b=$(sed -n 's/.*count=\([0-9]*\).*/\1/p' <<<"$line_b")
((count_b >= count_a && count_b < count_a + 2000)) || oss_fail "count $count_a -> $count_b"
if oss_tcp_line "$addr_a" "$port" 1 >/dev/null 2>&1; then
    oss_fail "control: $addr_a still answers after the move"
fi
# The restored sandbox uses B's interface: its address is B's.
oss_runsc_exec "$id" ip -4 addr show dev eth0 >"$OSS_TMP/addr.txt" 2>&1 ||
    oss_fail "runsc exec ip addr: $(cat "$OSS_TMP/addr.txt")"
oss_assert_file_contains "$OSS_TMP/addr.txt" "inet $addr_b/30" "eth0 address inside the restored sandbox"

# Control for the client-closes-first rule: the same workload in a third
# namespace C (runsc takes eth0's addresses and routes away from the namespace
# it uses, so A is spent), but closing each connection itself, cannot be checkpointed right after one
# client (its side of the connection sits in TIME_WAIT), exactly as
# docs/platform/gvisor.md, "Checkpoint and restore", says for Debian's runsc.
oss_bundle_make "$OSS_TMP/bc" "${common[@]}" --netns "$(oss_testnet_path "$nc")" -- \
    /helpers/oss-counter --file /out/counter2 --period-ms 20 --port "$port" --bind 0.0.0.0 \
    --server-close-first 1
# Measured: this almost always fails with "connected state", but now and then
# the server-side endpoint is already gone when runsc saves (a race inside
# runsc's netstack), so the control gets three fresh tries and must see the
# refusal at least once.
refused=0
for try in 1 2 3; do
    idc=$(oss_unique_name "netctl$try")
    oss_runsc_run "$idc" "$OSS_TMP/bc"
    # The client reads until EOF, so the server surely closes first.
    oss_wait_for "oss_tcp_line $addr_c $port 1 eof" 20 ||
        oss_fail "control workload does not answer: $(cat "$(oss_runsc_err "$idc")")"
    rc=0
    oss_runsc checkpoint -image-path "$OSS_TMP/imgc$try" "$idc" >"$OSS_TMP/ckc.out" 2>&1 || rc=$?
    oss_runsc_kill "$idc" KILL >/dev/null 2>&1 || true
    oss_runsc_delete "$idc"
    if ((rc != 0)); then
        oss_assert_file_contains "$OSS_TMP/ckc.out" "connected state" "control checkpoint error"
        refused=1
        break
    fi
    oss_log "control try $try: checkpoint with a server-closed connection succeeded; trying again"
done
((refused)) || oss_fail "control: three checkpoints with a server-closed connection all succeeded (runsc now saves TIME_WAIT endpoints? then docs/platform/gvisor.md \"Checkpoint and restore\" is outdated)"

echo "bench.net_checkpoint_ms=$((t1 - t0))"
echo "bench.net_restore_ms=$((t2 - t1))"
echo "bench.net_restore_to_answer_ms=$((t3 - t1))"
echo "bench.procsys_copy=$(find "$OSS_PROCSYS_COPY" -type f | wc -l) files"
oss_runsc_kill "$id" KILL || true
echo PASS
