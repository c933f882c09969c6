#!/bin/bash
# The stand-in supervisor under gVisor (runsc --network=none) as the container
# process, in each upstream variant's mode, with Substrate's three
# capabilities and with all: what each variant does on this runtime.  The
# outcome table in docs/testing.md ("Test doubles") is this test's.
set -u
SB="$OSS_BUILD_DIR/tests/standin/openshell-sandbox-standin"
command -v runsc >/dev/null || { echo "SKIP: runsc not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: runsc needs root here"; exit 77; }
[ "${OSS_SANITIZE:-0}" = 1 ] && { echo "SKIP: sanitizer build; runs on the plain build"; exit 77; }
[ -x "$SB" ] || { echo "FAIL: $SB not built"; exit 1; }

work=$(mktemp -d /tmp/oss-standin-runsc.XXXXXX)
root="$work/root"
ids=()
cleanup() {
    for id in "${ids[@]}"; do runsc --root "$root" delete -force "$id" >/dev/null 2>&1; done
    rm -rf "$work"
}
trap cleanup EXIT

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
POL="--env OPENSHELL_POLICY_RULES=$OSS_SOURCE_DIR/tests/standin/policy/sandbox.rego"
POL+=" --env OPENSHELL_POLICY_DATA=$OSS_SOURCE_DIR/tests/standin/policy/policy.yaml"

# run NAME "BUNDLE OPTIONS" ARGV... -> $work/NAME.out (stdout+stderr), prints rc
run() {
    local name=$1 opts=$2; shift 2
    local id="oss-standin-$$-$name"
    ids+=("$id"); mkdir -p "$work/$name"
    # shellcheck disable=SC2086
    /usr/bin/python3 "$OSS_SOURCE_DIR/tests/lib/oci_bundle.py" "$work/$name" $POL $opts -- "$@" || return
    timeout 120 runsc --root "$root" --network=none run -bundle "$work/$name" "$id" 2>&1 | cat >"$work/$name.out"
    echo "${PIPESTATUS[0]}"
}
line() { grep -q "\"step\":\"$2\",\"result\":\"$3\",\"errno\":$4" "$work/$1.out"; }
has() { grep -q "$2" "$work/$1.out"; }
show() { echo "--- $1"; cat "$work/$1.out"; }

WL=(sh -c 'env | grep -ci proxy; exit 4')
RUNAS=(--run-as 65534:65534)

# ---- Substrate's three capabilities, uid 0.
rc=$(run main "" "$SB" "${RUNAS[@]}" -- "${WL[@]}")
[ "$rc" = 1 ] && line main netns fatal '"EPERM"' && ! has main '"step":"privdrop"' \
    && ok "main: exit 1 at netns (EPERM), no switch" || { fail "main rc=$rc"; show main; }

rc=$(run p49 "" env OPENSHELL_STANDIN_VARIANT=pr1549 "$SB" "${RUNAS[@]}" -- "${WL[@]}")
[ "$rc" = 1 ] && line p49 netns fatal '"EPERM"' \
    && ok "pr1549 without the skip: exit 1 at netns (control)" || { fail "pr1549 rc=$rc"; show p49; }

rc=$(run p49s "--env OPENSHELL_SKIP_BOOTSTRAP=netns" env OPENSHELL_STANDIN_VARIANT=pr1549 "$SB" "${RUNAS[@]}" -- "${WL[@]}")
[ "$rc" = 1 ] && line p49s netns skipped null && line p49s supervisor_seccomp ok null \
    && line p49s privdrop fatal '"EPERM"' && has p49s 'initgroups to 65534' \
    && ok "pr1549 skipping netns: exit 1 at the privilege drop (initgroups EPERM)" || { fail "pr1549 skip rc=$rc"; show p49s; }

rc=$(run p48 "--env OPENSHELL_BEST_EFFORT_FAILURES=1" env OPENSHELL_STANDIN_VARIANT=pr1548 "$SB" "${RUNAS[@]}" -- "${WL[@]}")
[ "$rc" = 1 ] && line p48 netns degraded '"EPERM"' && line p48 privdrop fatal '"EPERM"' \
    && ok "pr1548 best effort: netns degraded, exit 1 at the privilege drop" || { fail "pr1548 rc=$rc"; show p48; }

# ---- The container already runs as the sandbox identity (runAsUser, the
#      shape of Substrate's securityContext): pull request 1549's fast path.
rc=$(run p49u "--user 65534:65534 --env OPENSHELL_SKIP_BOOTSTRAP=netns" env OPENSHELL_STANDIN_VARIANT=pr1549 \
    "$SB" "${RUNAS[@]}" -- "${WL[@]}")
[ "$rc" = 4 ] && line p49u privdrop ok null && line p49u landlock degraded '"ENOSYS"' \
    && line p49u workload_seccomp ok null && has p49u '^0$' \
    && ok "pr1549, skip netns, container as 65534: the workload runs (no proxy env)" || { fail "pr1549 runAsUser rc=$rc"; show p49u; }
rc=$(run mainu "--user 65534:65534" "$SB" "${RUNAS[@]}" -- "${WL[@]}")
[ "$rc" = 1 ] && line mainu netns fatal '"EPERM"' \
    && ok "main as 65534: still exit 1 at netns" || { fail "main runAsUser rc=$rc"; show mainu; }

# ---- All capabilities: gVisor itself refuses the veth; with the skip the
#      drop works.
rc=$(run amain "--all-caps" "$SB" "${RUNAS[@]}" -- "${WL[@]}")
[ "$rc" = 1 ] && line amain netns fatal '"EOPNOTSUPP"' \
    && ok "all caps, main: exit 1 at netns (veth EOPNOTSUPP)" || { fail "all caps main rc=$rc"; show amain; }
rc=$(run ap49 "--all-caps --env OPENSHELL_SKIP_BOOTSTRAP=netns" env OPENSHELL_STANDIN_VARIANT=pr1549 "$SB" "${RUNAS[@]}" -- "${WL[@]}")
[ "$rc" = 4 ] && line ap49 privdrop ok null && line ap49 workload_seccomp ok null \
    && ok "all caps, pr1549 skipping netns: the workload runs" || { fail "all caps pr1549 rc=$rc"; show ap49; }

[ $fails = 0 ] && { echo PASS; exit 0; }
exit 1
