#!/bin/bash
# The stand-in supervisor under gVisor (runsc --network=none), as the
# container process, with all capabilities and with Substrate's three:
# the bootstrap meets gVisor's real refusals (docs/platform/gvisor.md,
# "Refusals during the supervisor's bootstrap"), fails hard
# without OPENSHELL_BEST_EFFORT_FAILURES and degrades with it.
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
source "$OSS_SOURCE_DIR/tests/netns/oci_bundle.sh"

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
SUBSTRATE_CAPS="CAP_AUDIT_WRITE CAP_KILL CAP_NET_BIND_SERVICE"

# run NAME CAPS ARGV... -> $work/NAME.out (stdout+stderr), prints rc
run() {
    local name=$1 caps=$2; shift 2
    local id="oss-standin-$$-$name"
    ids+=("$id"); mkdir -p "$work/$name"
    oci_bundle_config "$work/$name/config.json" "$caps" "$@"
    timeout 120 runsc --root "$root" --network=none run -bundle "$work/$name" "$id" >"$work/$name.out" 2>&1
    echo $?
}
has() { grep -q "$2" "$work/$1.out"; }
line() { grep -q "\"step\":\"$2\",\"result\":\"$3\",\"errno\":$4" "$work/$1.out"; }

WL=(sh -c 'env | grep -ci proxy; exit 4')

rc=$(run strict "$OCI_ALL_CAPS" "$SB" -- "${WL[@]}")
[ "$rc" = 1 ] && line strict netns fatal '"EOPNOTSUPP"' && has strict 'netns step veth' \
    && ok "all caps, strict: exit 1 at netns (veth EOPNOTSUPP)" || { fail "all caps strict rc=$rc"; cat "$work/strict.out"; }

rc=$(OCI_ENV="OPENSHELL_BEST_EFFORT_FAILURES=1" run be "$OCI_ALL_CAPS" "$SB" -- "${WL[@]}")
if [ "$rc" = 4 ] && line be netns degraded '"EOPNOTSUPP"' && line be supervisor_seccomp ok null \
    && line be landlock degraded '"ENOSYS"' && line be workload_seccomp ok null \
    && has be '"step":"proxy","result":"ok","errno":null,"detail":"127.0.0.1:3128"' \
    && has be '^0$'; then
    ok "all caps, best effort: netns degraded, seccomp ok, Landlock ENOSYS, no proxy env, exit 4"
else
    fail "all caps best effort rc=$rc"; cat "$work/be.out"
fi

rc=$(run sstrict "$SUBSTRATE_CAPS" "$SB" -- "${WL[@]}")
[ "$rc" = 1 ] && line sstrict netns fatal '"EPERM"' && has sstrict 'netns step ns_create' \
    && ok "Substrate caps, strict: exit 1 at netns (ns_create EPERM)" || { fail "substrate strict rc=$rc"; cat "$work/sstrict.out"; }

rc=$(OCI_ENV="OPENSHELL_BEST_EFFORT_FAILURES=1" run sbe "$SUBSTRATE_CAPS" "$SB" -- "${WL[@]}")
[ "$rc" = 4 ] && line sbe netns degraded '"EPERM"' && line sbe supervisor_seccomp ok null \
    && line sbe workload_seccomp ok null \
    && ok "Substrate caps, best effort: runs degraded, both filters load" || { fail "substrate be rc=$rc"; cat "$work/sbe.out"; }

rc=$(OCI_ENV="OPENSHELL_BEST_EFFORT_FAILURES=1" run spd "$SUBSTRATE_CAPS" "$SB" --run-as 65534:65534 -- "${WL[@]}")
[ "$rc" = 1 ] && line spd privdrop fatal '"EPERM"' \
    && ok "Substrate caps: privilege drop refused (no CAP_SETUID) is fatal even with best effort" \
    || { fail "substrate privdrop rc=$rc"; cat "$work/spd.out"; }

[ $fails = 0 ] && { echo PASS; exit 0; }
exit 1
