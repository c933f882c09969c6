#!/bin/bash
# netns/ against the host kernel: pair_ensure creates everything (checked by
# the library and independently by `ip`), is idempotent, tears down to
# nothing, and a failure injected at every step with EPERM and EOPNOTSUPP
# names that step and errno and leaves nothing behind.
set -u
TOOL="$OSS_BUILD_DIR/tests/netns/netns_tool"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
capeff=$(awk '/^CapEff/ {print $2}' /proc/self/status)
(( (0x$capeff >> 12) & 1 )) || { echo "SKIP: needs CAP_NET_ADMIN"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: needs iproute2 (ip) for the independent checks"; exit 77; }
[ -x "$TOOL" ] || { echo "FAIL: $TOOL not built"; exit 1; }

tag="osst$$"                  # every name this test makes starts with it
NS=$tag HOST=${tag}h PEER=${tag}s
# A subnet from the pid too, so parallel runs do not share routes.
net="10.$((200 + $$ % 50)).$(( ($$ / 50) % 250 ))"
ARGS=("$NS" "$HOST" "$PEER" "$net.1/24" "$net.2/24" "$net.1")

cleanup() {
    for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$tag"); do
        ip link del "$l" 2>/dev/null
    done
    for n in /run/netns/"$tag"*; do
        [ -e "$n" ] && { ip netns del "$(basename "$n")" 2>/dev/null || rm -f "$n"; }
    done
}
trap cleanup EXIT

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# Prints whatever of ours exists: host links named $tag*, namespaces $tag*.
leftovers() {
    ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$tag" | sed 's/^/link /'
    ls /run/netns 2>/dev/null | grep "^$tag" | sed 's/^/netns /'
    return 0
}

# --- control: the leftovers check sees a veth and a namespace made by hand.
ip link add "${tag}x" type veth peer name "${tag}y" || fail "control: cannot make a veth"
ip netns add "${tag}c" || fail "control: cannot make a namespace"
l=$(leftovers)
grep -q "link ${tag}x" <<<"$l" && grep -q "link ${tag}y" <<<"$l" && grep -q "netns ${tag}c" <<<"$l" \
    && ok "control: leftovers check sees a hand-made veth and netns" \
    || fail "control: leftovers check missed hand-made objects: [$l]"
ip link del "${tag}x"; ip netns del "${tag}c"
[ -z "$(leftovers)" ] || fail "control cleanup left: $(leftovers)"
# ... and so does the library's own check that the tool reports as left_ns.
out=$("$TOOL" nscycle "${tag}n")
[ "$out" = "nscycle before=0 during=1 after=0" ] && ok "control: netns_exists() sees a namespace" \
    || fail "control: $out"

# --- ensure: everything there, per the library and per `ip`.
out=$("$TOOL" ensure "${ARGS[@]}"); rc=$?
[ $rc = 0 ] && ok "ensure: $out" || fail "ensure rc=$rc: $out"
"$TOOL" check "${ARGS[@]}" >/tmp/$tag.check; rc=$?
[ $rc = 0 ] && ok "library check" || fail "library check: $(cat /tmp/$tag.check)"
rm -f /tmp/$tag.check

check_ip() {
    local what=$1
    [ -e "/run/netns/$NS" ] || fail "$what: /run/netns/$NS missing"
    ip -n "$NS" -4 -o addr show dev "$PEER" | grep -q "inet $net.2/24" || fail "$what: ip: peer address"
    ip -4 -o addr show dev "$HOST" | grep -q "inet $net.1/24" || fail "$what: ip: host address"
    ip -n "$NS" link show lo | grep -q "[<,]UP[,>]" || fail "$what: ip: lo not up"
    ip -n "$NS" link show "$PEER" | grep -q "[<,]UP[,>]" || fail "$what: ip: peer not up"
    ip link show "$HOST" | grep -q "[<,]UP[,>]" || fail "$what: ip: host end not up"
    ip link show "$HOST" | grep -q "link/ether" || fail "$what: ip: host end not ethernet"
    ip -d link show "$HOST" | grep -qw veth || fail "$what: ip: host end not a veth"
    ip link show "$PEER" >/dev/null 2>&1 && fail "$what: peer still in the host namespace"
    [ "$(ip -n "$NS" -4 route show default)" = "default via $net.1 dev $PEER " ] \
        || [ "$(ip -n "$NS" -4 route show default)" = "default via $net.1 dev $PEER" ] \
        || fail "$what: ip: default route is [$(ip -n "$NS" -4 route show default)]"
    # Exactly one of each: nothing duplicated.
    [ "$(ip -n "$NS" -4 -o addr show dev "$PEER" | wc -l)" = 1 ] || fail "$what: peer has $(ip -n "$NS" -4 -o addr show dev "$PEER" | wc -l) IPv4 addresses"
    [ "$(ip -4 -o addr show dev "$HOST" | wc -l)" = 1 ] || fail "$what: host end has several IPv4 addresses"
    [ "$(ip -n "$NS" -4 route show default | wc -l)" = 1 ] || fail "$what: several default routes"
    [ "$(ip -o link show | grep -c ": $HOST@")" = 1 ] || fail "$what: host end count"
    [ "$(grep -c " /run/netns/$NS " /proc/self/mountinfo)" = 1 ] || fail "$what: namespace mounted $(grep -c " /run/netns/$NS " /proc/self/mountinfo) times"
}
check_ip "first ensure"
grep -q " /run/netns .*shared:" /proc/self/mountinfo || fail "/run/netns is not a shared mount"

# --- idempotent: a second run is fine and duplicates nothing.
out=$("$TOOL" ensure "${ARGS[@]}"); rc=$?
[ $rc = 0 ] && ok "second ensure: $out" || fail "second ensure rc=$rc: $out"
check_ip "second ensure"

# --- snapshot before/after an address change shows exactly that delta;
#     control: no change -> no delta.
out=$("$TOOL" snapdiff "$NS" "true")
[ "${out%% *}" = 0 ] && ok "snapshot diff of no change is empty" || fail "no-change diff: $out"
out=$("$TOOL" snapdiff "$NS" "ip -n $NS addr add $net.9/24 dev $PEER")
if [ "${out%% *}" = 1 ] && grep -q "\"addrs_added\":\[{\"ifname\":\"$PEER\",\"cidr\":\"$net.9/24\"" <<<"$out"; then
    ok "snapshot diff shows the added address"
else
    fail "snapshot diff after address add: $out"
fi
out=$("$TOOL" snapdiff "$NS" "ip -n $NS addr del $net.9/24 dev $PEER")
grep -q "\"addrs_removed\":\[{\"ifname\":\"$PEER\",\"cidr\":\"$net.9/24\"" <<<"$out" \
    && ok "snapshot diff shows the removed address" || fail "diff after address del: $out"

# --- teardown leaves nothing.
out=$("$TOOL" teardown "${ARGS[@]}"); rc=$?
[ $rc = 0 ] || fail "teardown rc=$rc: $out"
[ -z "$(leftovers)" ] && ok "teardown leaves nothing" || fail "teardown left: $(leftovers)"
ip -o route show | grep -q "$net.0/24" && fail "teardown left a host route to $net.0/24"

# --- a failure at every step: right step, right errno, nothing left.
for step in ns_create nl_socket veth move addr link_up route; do
    for e in EPERM EOPNOTSUPP; do
        out=$(NETNS_TOOL_INJECT="$step:$e" "$TOOL" ensure "${ARGS[@]}"); rc=$?
        if [ $rc = 1 ] && grep -q "\"step\":\"$step\"" <<<"$out" && grep -q "\"errno\":\"$e\"" <<<"$out" \
            && grep -q "netns step $step" <<<"$out" \
            && grep -q '"left_ns":false,"left_host_if":false,"left_peer_if":false' <<<"$out"; then
            ok "inject $step:$e -> $(sed 's/.*"msg"://' <<<"$out")"
        else
            fail "inject $step:$e rc=$rc: $out"
        fi
        l=$(leftovers)
        [ -z "$l" ] || { fail "inject $step:$e left: $l"; cleanup; }
    done
done

# --- rollback removes only what the call created: a namespace that was
#     there before survives a failure at a later step.
ip netns add "$NS"
out=$(NETNS_TOOL_INJECT="veth:EPERM" "$TOOL" ensure "${ARGS[@]}")
[ -e "/run/netns/$NS" ] && ok "pre-existing namespace survives rollback" \
    || fail "rollback removed a namespace it did not create: $out"
# ... and one made by the same (now successful) call, then failing on a
# re-run at a later step, keeps everything (all of it pre-existed).
"$TOOL" ensure "${ARGS[@]}" >/dev/null || fail "ensure into pre-existing namespace"
out=$(NETNS_TOOL_INJECT="route:EPERM" "$TOOL" ensure "${ARGS[@]}")
grep -q '"step":"route"' <<<"$out" || fail "re-run with injected route failure: $out"
check_ip "re-run with a failure after everything existed"
"$TOOL" teardown "${ARGS[@]}" >/dev/null
[ -z "$(leftovers)" ] || fail "final teardown left: $(leftovers)"

# --- an existing non-veth interface of the host end's name is not "identical".
ctype=""
for t in dummy bridge ifb; do ip link add "$HOST" type $t 2>/dev/null && { ctype=$t; break; }; done
if [ -n "$ctype" ]; then
    out=$("$TOOL" ensure "${ARGS[@]}"); rc=$?
    [ $rc = 1 ] && grep -q '"step":"veth"' <<<"$out" && grep -q '"errno":"EEXIST"' <<<"$out" \
        && ok "a $ctype named like the host end is refused with EEXIST" || fail "$ctype clash: $out"
    ip link show "$HOST" >/dev/null 2>&1 || fail "rollback deleted the pre-existing $ctype"
    [ -e "/run/netns/$NS" ] && fail "namespace created by the failed call was left"
    ip link del "$HOST"
else
    echo "note: no dummy/bridge/ifb link type here; non-veth clash not checked"
fi

# --- a real kernel refusal (no injection): a gateway that is not on-link
#     makes the kernel answer ENETUNREACH at the route step, after every
#     other step succeeded.  libnl folds ENETUNREACH into NLE_FAILURE; the
#     errno must still be the kernel's, and the rollback must be complete.
out=$("$TOOL" ensure "$NS" "$HOST" "$PEER" "$net.1/24" "$net.2/24" "10.99.99.99"); rc=$?
[ $rc = 1 ] && grep -q '"step":"route"' <<<"$out" && grep -q '"errno":"ENETUNREACH"' <<<"$out" \
    && ok "kernel errno kept: $(sed 's/.*"msg"://' <<<"$out")" || fail "off-link gateway: rc=$rc $out"
[ -z "$(leftovers)" ] || fail "kernel failure at route left: $(leftovers)"

# --- peer_at_create (what the shim's netns probe uses on a Linux kernel):
#     the same end state, idempotent, a failure at every step it runs
#     leaves nothing; the move step is not run at all (an injected move
#     failure changes nothing: the control that the mode is in effect).
export NETNS_TOOL_PEER_AT_CREATE=1
out=$("$TOOL" ensure "${ARGS[@]}"); rc=$?
[ $rc = 0 ] && ok "peer_at_create ensure: $out" || fail "peer_at_create ensure rc=$rc: $out"
check_ip "peer_at_create ensure"
out=$("$TOOL" ensure "${ARGS[@]}"); rc=$?
[ $rc = 0 ] || fail "peer_at_create second ensure rc=$rc: $out"
check_ip "peer_at_create second ensure"
"$TOOL" teardown "${ARGS[@]}" >/dev/null || fail "peer_at_create teardown"
[ -z "$(leftovers)" ] && ok "peer_at_create teardown leaves nothing" || fail "peer_at_create teardown left: $(leftovers)"
out=$(NETNS_TOOL_INJECT="move:EPERM" "$TOOL" ensure "${ARGS[@]}"); rc=$?
[ $rc = 0 ] && ok "peer_at_create runs no move step" || fail "peer_at_create ran the move: rc=$rc $out"
"$TOOL" teardown "${ARGS[@]}" >/dev/null
for step in ns_create nl_socket veth addr link_up route; do
    out=$(NETNS_TOOL_INJECT="$step:EPERM" "$TOOL" ensure "${ARGS[@]}"); rc=$?
    if [ $rc = 1 ] && grep -q "\"step\":\"$step\"" <<<"$out" \
        && grep -q '"left_ns":false,"left_host_if":false,"left_peer_if":false' <<<"$out"; then
        ok "peer_at_create inject $step:EPERM"
    else
        fail "peer_at_create inject $step:EPERM rc=$rc: $out"
    fi
    l=$(leftovers)
    [ -z "$l" ] || { fail "peer_at_create inject $step left: $l"; cleanup; }
done
unset NETNS_TOOL_PEER_AT_CREATE

[ $fails = 0 ] && { echo "PASS"; exit 0; }
echo "$fails failure(s)"; exit 1
