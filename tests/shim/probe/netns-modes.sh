# The netns probe's two ways of placing the veth peer (--netns-probe=move,
# the supervisor's; =create, what `auto` uses on a Linux kernel because the
# move waits for RCU) must give the same verdict, step and errno wherever
# the kernel decides.  Four privilege contexts on the host kernel, each with
# a control showing the context is what it claims:
#   root                      both supported
#   root without NET_ADMIN    both refused at veth, EPERM
#   own user+mount namespace  both refused at veth, EPERM (the current net
#                             namespace belongs to the host's user namespace)
#   own user+mount+net ns     both supported (the caller owns everything)
# In a network and mount namespace of its own (tests/lib/private_netns.sh).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need_root
. "$(dirname "$0")/../../lib/private_netns.sh"
oss_in_private_netns "$0" "$@"
SHIM="$OSS_BUILD_DIR/shim/openshell-shim"
for t in setpriv unshare ip; do
    command -v $t >/dev/null || { echo "SKIP: needs $t"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# sig PREFIX... MODE -> "status step errno peer" of the netns probe
sig() {
    local mode=${*: -1}
    local -a pre=("${@:1:$#-1}")
    "${pre[@]}" "$SHIM" doctor --json --probes=netns --degrade=all --netns-probe="$mode" \
        --report="$tmp/unused.json" >"$tmp/out.json" 2>"$tmp/err" || true
    "$PY" - "$tmp/out.json" <<'PYEOF' || echo "unparsable: $(head -c 300 "$tmp/out.json") $(head -c 300 "$tmp/err")"
import json, sys
r = json.load(open(sys.argv[1]))
p = r["bootstrap"]["probes"]["netns"]
print(p["status"], p.get("step", "-"), p.get("errno_name", "-"), p.get("peer", "-"))
PYEOF
}

check() { # check NAME WANT_STATUS_STEP_ERRNO PREFIX...
    local name=$1 want=$2
    shift 2
    local m c
    m=$(sig "$@" move)
    c=$(sig "$@" create)
    [[ ${m% *} == "$want" ]] && ok "$name: move gives '$want'" || fail "$name: move gives '$m', want '$want'"
    [[ ${c% *} == "${m% *}" ]] && ok "$name: create agrees ($c)" || fail "$name: create '$c' vs move '$m'"
    if [[ ${want%% *} == supported ]]; then
        [[ ${m##* } == moved && ${c##* } == created_inside ]] && ok "$name: the two really differ in method" \
            || fail "$name: peer placement '$m' / '$c'"
    fi
}

nonet=(setpriv --inh-caps=-net_admin --ambient-caps=-net_admin --bounding-set=-net_admin --)
# Controls: each context grants or denies what it claims.
if ip link add oss-nm-ctl type veth peer name oss-nm-ct2 2>/dev/null; then
    ip link del oss-nm-ctl
    ok "control: root makes a link"
else
    fail "control: root cannot make a link here"
fi
"${nonet[@]}" ip link add oss-nm-ctl type veth peer name oss-nm-ct2 2>/dev/null && { ip link del oss-nm-ctl; fail "control: a link without NET_ADMIN"; } \
    || ok "control: no link without NET_ADMIN"
unshare -Urm ip link add oss-nm-ctl type veth peer name oss-nm-ct2 2>/dev/null && { ip link del oss-nm-ctl; fail "control: a host link from a user namespace"; } \
    || ok "control: no host link from a user namespace"
unshare -Urmn sh -c 'ip link add oss-nm-ctl type veth peer name oss-nm-ct2' && ok "control: a link in an owned net namespace" \
    || fail "control: no link even in an owned net namespace"

check "root" "supported - -"
check "root without NET_ADMIN" "unsupported veth EPERM" "${nonet[@]}"
check "user+mount namespace" "unsupported veth EPERM" unshare -Urm
check "user+mount+net namespace" "supported - -" unshare -Urmn

left=$( (ip netns list; ip -o link) 2>/dev/null | grep -E 'osp-|osph|osps' || true)
[[ -z "$left" ]] && ok "nothing left behind" || fail "left: $left"
finish
