#!/usr/bin/env bash
# Benchmark (not an assertion on time): how long after `runsc run` the
# golden actor's readyz answers 200, with the real shim as PID 1 of a
# Substrate-shaped bundle, --degrade=all, the stand-in supervisor and its
# default ready condition (its proxy accepting on 127.0.0.1:3128).  Substrate
# cuts the golden snapshot when readyz passes, or after a fixed 20 s when a
# container declares no readyz (docs/platform/substrate.md,
# "Golden actors"): this prints both.
#
# Networked mode (--network=sandbox in a namespace made per run), because
# Substrate probes readyz from outside the sandbox.  Each run: a fresh
# namespace, `runsc run -detach`, a host client polling /readyz every ~10 ms
# (curl, 500 ms timeout), then the container is killed.
#   OSS_BENCH_RUNS   number of runs (default 5, at least 1)
# Output: bench.* lines and a Markdown table row for the README.
source "$OSS_SOURCE_DIR/tests/shim/restore/lib_e2e.sh"
oss_require_cmd ip nsenter unshare curl
export OSS_RUNSC_NETWORK=sandbox
runs=${OSS_BENCH_RUNS:-5}
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || oss_fail "OSS_BENCH_RUNS must be a positive integer"
((runs <= 50)) || oss_fail "OSS_BENCH_RUNS at most 50"
port=8181
o3=$(($$ % 32 * 8))
oss_procsys_copy

declare -a ready=() runcmd=()
for ((r = 0; r < runs; r++)); do
    ns=$(oss_unique_name e2etr 15)
    addr=10.237.$((o3 + r % 8)).2 gw=10.237.$((o3 + r % 8)).1
    oss_testnet_make "$ns" "$addr/30" "$gw"
    rm -f "$E2E_OUT/counter"
    e2e_bundle "$OSS_TMP/b$r" --netns "$(oss_testnet_path "$ns")" -- --readyz-port=$port
    id=$(oss_unique_name e2etr)
    t0=$(oss_now_ms)
    rc=0
    oss_runsc run -detach -bundle "$OSS_TMP/b$r" "$id" >"$OSS_TMP/run$r.out" 2>&1 </dev/null || rc=$?
    if ((rc != 0)); then
        oss_skip "runsc --network=sandbox cannot run here even with the /proc/sys workaround: $(tail -n 3 "$OSS_TMP/run$r.out" | tr '\n' ' ')"
    fi
    t1=$(oss_now_ms)
    code=
    for ((i = 0; i < 3000; i++)); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 0.5 "http://$addr:$port/readyz" 2>/dev/null || true)
        [[ $code == 200 ]] && break
        sleep 0.01
    done
    t2=$(oss_now_ms)
    [[ $code == 200 ]] || oss_fail "run $r: readyz never 200 (last $code): $(tail -n 5 "$(oss_runsc_err "$id")")"
    ready+=($((t2 - t0)))
    runcmd+=($((t1 - t0)))
    oss_log "run $r: runsc run -detach returned after $((t1 - t0)) ms, readyz 200 after $((t2 - t0)) ms"
    oss_runsc_kill "$id" KILL || true
    oss_runsc_delete "$id"
done

med=$(oss_median "${ready[@]}")
sorted=$(printf '%s\n' "${ready[@]}" | sort -n | tr '\n' ' ')
lo=$(printf '%s\n' "${ready[@]}" | sort -n | head -n 1)
hi=$(printf '%s\n' "${ready[@]}" | sort -n | tail -n 1)
echo "bench.time_to_ready_ms_median=$med"
echo "bench.time_to_ready_ms_all=${sorted% }"
echo "bench.runsc_run_detach_ms_median=$(oss_median "${runcmd[@]}")"
echo "bench.substrate_fixed_wait_ms=20000"
echo "bench.golden_snapshot_earlier_by_ms=$((20000 - med))"
echo "| runsc run -> readyz 200 (shim + stand-in, --network=sandbox, n=$runs) | $med ms median ($lo-$hi) | Substrate without readyz: fixed 20000 ms |"
