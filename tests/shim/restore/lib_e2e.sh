# shellcheck shell=bash
# Shared pieces of the checkpoint/restore end-to-end tests (docs/readyz.md):
# the real openshell-shim as the container process of a Substrate-shaped
# bundle, the stand-in supervisor as its child and oss-counter as the
# stand-in's workload:
#
#   openshell-shim --degrade=all [flags] -- openshell-sandbox-standin -- oss-counter --file /out/counter
#
# The stand-in runs in the mode of an upstream variant that can start its
# workload under Substrate's three capabilities: pull request 1549 (default)
# or 1548 (OSS_STANDIN_VARIANT), with the container already running as the
# sandbox identity 65534:65534 (the runAsUser shape), so the supervisor finds
# its privilege drop done.  main cannot start a workload there (netns has no
# switch; docs/probes.md), and as uid 0 no variant can (the drop).
#
# with the identity file bind-mounted read-only at /run/ate/actor-id (as
# Substrate does) and /out a writable bind of $E2E_OUT for the report, the
# shim's state directory, the counter file and hook output.
#
#   e2e_bundle DIR [BUNDLE_OPTS...] -- [SHIM_FLAGS...] [--- WORKLOAD...]
#   e2e_status ID                  live report JSON (control socket via runsc exec)
#   e2e_json FILE|- PYEXPR         evaluate PYEXPR on the JSON as `d`
#   e2e_ps ID                      "pid ppid stat comm" lines inside, ps itself excluded
#   e2e_counter_field KEY          token/count/pid from /out/counter
#   e2e_set_identity ID            rewrite the identity file as Substrate does (new file + rename)
#   e2e_checkpoint_frozen ID IMG SECS   checkpoint, stay frozen SECS in total
source "$OSS_SOURCE_DIR/tests/lib/common.sh" || { echo "FAIL: cannot load tests/lib/common.sh" >&2; exit 1; }
source "$OSS_SOURCE_DIR/tests/lib/runsc.sh"

if [[ "${OSS_SANITIZE:-0}" == 1 ]]; then
    oss_skip "sanitizer build: the runsc end-to-end tests run on the plain build (ASan's shadow memory under gVisor checkpoint/restore is out of scope)"
fi
oss_runsc_require

E2E_SHIM="$OSS_BUILD_DIR/shim/openshell-shim"
E2E_STANDIN="$OSS_BUILD_DIR/tests/standin/openshell-sandbox-standin"
E2E_COUNTER=$(oss_helper oss-counter)
[[ -x "$E2E_SHIM" ]] || oss_fail "shim not built at $E2E_SHIM"
[[ -x "$E2E_STANDIN" ]] || oss_fail "stand-in supervisor not built at $E2E_STANDIN"

E2E_OUT="$OSS_TMP/out"
E2E_ATE="$OSS_TMP/ate"
mkdir -p "$E2E_OUT" "$E2E_ATE"
chmod 0777 "$E2E_OUT"
E2E_VARIANT="${OSS_STANDIN_VARIANT:-pr1549}"
E2E_UID=65534
E2E_GOLDEN_ID="ate-golden/$(cat /proc/sys/kernel/random/uuid)"
printf '%s\n' "$E2E_GOLDEN_ID" >"$E2E_ATE/actor-id"

e2e_bundle() {
    local dir=$1
    shift
    local -a bopts=() sflags=() wl=()
    while (($#)) && [[ "$1" != -- ]]; do bopts+=("$1") && shift; done
    [[ "${1:-}" == -- ]] && shift
    while (($#)) && [[ "$1" != --- ]]; do sflags+=("$1") && shift; done
    [[ "${1:-}" == --- ]] && shift
    wl=("$@")
    ((${#wl[@]})) || wl=("$E2E_COUNTER" --file /out/counter --period-ms 20)
    oss_bundle_make "$dir" --bind "$E2E_ATE:/run/ate:ro" --bind "$E2E_OUT:/out" \
        --user "$E2E_UID:$E2E_UID" --env "OPENSHELL_STANDIN_VARIANT=$E2E_VARIANT" \
        --env "OPENSHELL_POLICY_RULES=$OSS_SOURCE_DIR/tests/standin/policy/sandbox.rego" \
        --env "OPENSHELL_POLICY_DATA=$OSS_SOURCE_DIR/tests/standin/policy/policy.yaml" "${bopts[@]}" -- \
        "$E2E_SHIM" --degrade=all --run-as="$E2E_UID:$E2E_UID" --report=/out/report.json \
        --state-dir=/out/state "${sflags[@]}" \
        -- "$E2E_STANDIN" --run-as "$E2E_UID:$E2E_UID" -- "${wl[@]}"
}

# The live report through the shim's control socket (`notify status`): the
# supervisor state and restore block as they are now, not as last written.
# A Unix socket does not stop a checkpoint (only TCP endpoints do).
e2e_status() {
    oss_runsc exec --user "$E2E_UID:$E2E_UID" "$1" "$E2E_SHIM" notify status --state-dir=/out/state 2>/dev/null
}

e2e_json() {
    local src=$1 expr=$2
    if [[ "$src" == - ]]; then
        "$OSS_PYTHON" -c "import json,sys; d=json.load(sys.stdin); v=($expr); print(json.dumps(v) if isinstance(v,(dict,list,bool)) or v is None else v)"
    else
        "$OSS_PYTHON" -c "import json,sys; d=json.load(open(sys.argv[1])); v=($expr); print(json.dumps(v) if isinstance(v,(dict,list,bool)) or v is None else v)" "$src"
    fi
}

# Processes inside the sandbox, sorted, without the ps of this call.
e2e_ps() {
    oss_runsc exec "$1" ps -e -o pid=,ppid=,stat=,comm= 2>/dev/null |
        awk '$4 != "ps" {print $1, $2, substr($3,1,1), $4}' | sort -n
}

e2e_counter_field() {
    sed -n "s/.*$1=\([0-9a-f]*\).*/\1/p" "$E2E_OUT/counter" 2>/dev/null
}

# Substrate rewrites /run/ate/actor-id before every resume.  A new file and
# rename, like an atomic writer; the bind mount is of the directory, so the
# sandbox sees the new file.
e2e_set_identity() {
    printf '%s\n' "$1" >"$E2E_ATE/actor-id.tmp"
    mv -f "$E2E_ATE/actor-id.tmp" "$E2E_ATE/actor-id"
}

# Checkpoint, then keep the sandbox frozen until SECS have passed since the
# checkpoint began: a suspended actor is frozen for seconds at least, and the
# shim's timer detector needs a freeze longer than --freeze-threshold
# (a bare checkpoint + restore here freezes the sandbox for only ~1.5 s).
e2e_checkpoint_frozen() {
    local id=$1 img=$2 secs=$3 t0 left
    t0=$(oss_now_ms)
    oss_runsc_checkpoint "$id" "$img"
    E2E_CKPT_MS=$(($(oss_now_ms) - t0))
    left=$((secs * 1000 - E2E_CKPT_MS))
    ((left > 0)) && sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"
    return 0
}

# e2e_wait_generation ID N TIMEOUT_S: until the live status says generation N
# and the restore handling is done.
e2e_wait_generation() {
    local id=$1 n=$2 t=$3
    oss_wait_for "e2e_status $id | e2e_json - 'd[\"restore\"][\"generation\"] == $n and not d[\"restore\"][\"busy\"]' | grep -qx true" "$t" 0.2
}
