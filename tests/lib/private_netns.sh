# shellcheck shell=bash
# oss_in_private_netns SCRIPT ARGS...: re-executes SCRIPT under `unshare -mn`
# (a network and a mount namespace of its own, loopback up) unless it already
# runs there.  For root tests that make links and /run/netns entries and then
# check by name that nothing is left: run side by side (ctest -j), they
# would otherwise see each other's.  Root there is root over a namespace
# owned by the host's user namespace, as on the host.  Call it before
# anything that makes temporary files or traps (it replaces the process);
# as non-root it does nothing and the script's own checks decide.
oss_in_private_netns() {
    [[ -z "${OSS_PRIVATE_NETNS:-}" && $(id -u) == 0 ]] || return 0
    command -v unshare >/dev/null || { echo "SKIP: needs unshare"; exit 77; }
    local script=$1
    shift
    OSS_PRIVATE_NETNS=1 exec unshare -mn -- bash -c 'ip link set lo up && exec bash "$@"' bash "$script" "$@"
}
