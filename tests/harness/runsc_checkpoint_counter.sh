#!/usr/bin/env bash
# (b) oss-counter under runsc survives checkpoint/restore with its memory:
# the same token, the same pid, and the count continues from where it was.
# Also measures (OSS_BENCH_CYCLES cycles, default 5): checkpoint time, restore
# time, image size; and `runsc run` to exit of /bin/true.  Figures are printed
# as `bench.<name>=<value>` lines (docs/testing.md records them).
# Controls: while checkpointed the count must not move (the sandbox is really
# gone); a cold start of the same bundle must give a different token (so a
# restore that silently re-ran the workload would be caught).
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
source "$OSS_SOURCE_DIR/tests/lib/runsc.sh"
oss_runsc_require

cycles=${OSS_BENCH_CYCLES:-5}
oss_helper oss-counter >/dev/null # built? (the bundle uses it via /helpers)
mkdir -p "$OSS_TMP/out"
f="$OSS_TMP/out/counter"
oss_bundle_make "$OSS_TMP/b" --bind "$OSS_HELPERS_DIR:/helpers:ro" --bind "$OSS_TMP/out:/out" \
    -- /helpers/oss-counter --file /out/counter --period-ms 20
id=$(oss_unique_name counter)

count_of() { oss_kv "$f" count; }

oss_runsc_run "$id" "$OSS_TMP/b"
oss_wait_for "[[ \$(oss_kv '$f' count) -ge 5 ]]" 20 || oss_fail "counter did not start: $(cat "$f" 2>&1)"
token=$(oss_kv "$f" token)
pid=$(oss_kv "$f" pid)
oss_assert_eq 1 "$pid" "counter is the container's pid 1"

ckpt_ms=() rest_ms=() sizes=() app_sizes=()
for ((i = 1; i <= cycles; i++)); do
    img="$OSS_TMP/img$i"
    before=$(count_of)
    t0=$(oss_now_ms)
    oss_runsc_checkpoint "$id" "$img"
    t1=$(oss_now_ms)
    ckpt_ms+=($((t1 - t0)))
    sizes+=("$(du -sk "$img" | cut -f1)")
    app_sizes+=("$(du -sk --apparent-size "$img" | cut -f1)")
    frozen=$(count_of)
    sleep 0.3
    oss_assert_eq "$frozen" "$(count_of)" "count while checkpointed (cycle $i)"
    ((frozen >= before)) || oss_fail "count went back before checkpoint"

    t0=$(oss_now_ms)
    oss_runsc_restore "$id" "$OSS_TMP/b" "$img"
    t1=$(oss_now_ms)
    rest_ms+=($((t1 - t0)))
    oss_wait_for "[[ \$(oss_kv '$f' count) -gt $frozen ]]" 20 ||
        oss_fail "count did not continue after restore $i ($(cat "$f"))"
    oss_assert_eq "$token" "$(oss_kv "$f" token)" "token after restore $i"
    oss_assert_eq "$pid" "$(oss_kv "$f" pid)" "pid after restore $i"
    now=$(count_of)
    # Continued, not restarted: a restart would begin again near 0.
    ((now > frozen && now < frozen + 1000)) || oss_fail "count $now after $frozen"
    oss_log "cycle $i: count $frozen -> $now, checkpoint ${ckpt_ms[-1]} ms, restore ${rest_ms[-1]} ms, image ${sizes[-1]} KiB"
    rm -rf "$img"
done
oss_runsc_kill "$id" KILL || true
oss_runsc_delete "$id"

# Control: a cold start of the same bundle is a different process memory.
id2=$(oss_unique_name cold)
oss_runsc_run "$id2" "$OSS_TMP/b"
oss_wait_for "[[ \$(oss_kv '$f' token) != '$token' && -n \$(oss_kv '$f' token) ]]" 20 ||
    oss_fail "control: a cold start kept the token ($token)"
oss_runsc_kill "$id2" KILL || true
oss_runsc_delete "$id2"

# runsc run to exit of /bin/true.
oss_bundle_make "$OSS_TMP/bt" -- /bin/true
true_ms=()
for ((i = 1; i <= cycles; i++)); do
    t0=$(oss_now_ms)
    oss_runsc_run_fg "$(oss_unique_name true)" "$OSS_TMP/bt" || oss_fail "/bin/true failed"
    true_ms+=($(($(oss_now_ms) - t0)))
done

echo "bench.runsc_version=$("$OSS_RUNSC" --version | head -n 1)"
echo "bench.cycles=$cycles"
echo "bench.run_true_ms_median=$(oss_median "${true_ms[@]}") (${true_ms[*]})"
echo "bench.checkpoint_ms_median=$(oss_median "${ckpt_ms[@]}") (${ckpt_ms[*]})"
echo "bench.restore_ms_median=$(oss_median "${rest_ms[@]}") (${rest_ms[*]})"
echo "bench.image_kib_median=$(oss_median "${sizes[@]}") (${sizes[*]})"
echo "bench.image_apparent_kib_median=$(oss_median "${app_sizes[@]}") (${app_sizes[*]})"
echo PASS
