#!/usr/bin/env bash
# deploy/systemd/openshell-driver-substrate.service passes
# `systemd-analyze verify` with no finding at all (verify only warns, with
# status 0, on unknown keys: any output fails here), with the binary paths
# pointed at this build (verify checks that they are executable).  The unit
# keeps what the runsc backend and the gateway rely on: a restart policy, a
# 0700 runtime directory for the socket, the state directory, a stop timeout
# above the driver's 30 s drain.  Control: a misspelt key is reported.
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
oss_require_cmd systemd-analyze
unit=$OSS_SOURCE_DIR/deploy/systemd/openshell-driver-substrate.service
drv=$OSS_BUILD_DIR/driver/openshell-driver-substrate
[[ -x $drv ]] || oss_skip "driver not built"
verify() { # verify UNITFILE: prints findings, fails when there are any
    local out
    out=$(cd "$(dirname "$1")" && systemd-analyze verify "$1" 2>&1) || { echo "$out"; return 1; }
    [[ -z $out ]] || { echo "$out"; return 1; }
}
mkdir -p "$OSS_TMP/u"
sed "s|/usr/local/bin/openshell-driver-substrate|$drv|g" "$unit" >"$OSS_TMP/u/openshell-driver-substrate.service"
out=$(verify "$OSS_TMP/u/openshell-driver-substrate.service") || oss_fail "systemd-analyze verify: $out"
echo "PASS systemd-analyze verify ($(systemd-analyze --version | head -n 1))"
for want in '^Restart=on-failure$' '^RuntimeDirectory=openshell$' '^RuntimeDirectoryMode=0700$' \
    '^StateDirectory=openshell-driver-substrate ' '^TimeoutStopSec=45$' '^KillSignal=SIGTERM$' \
    '--socket /run/openshell/substrate.sock' '^ExecStartPre=.* check-config '; do
    grep -Eq -- "$want" "$unit" || oss_fail "the unit lacks $want"
done
echo "PASS the unit keeps its restart policy, socket and state directories, stop timeout"
# control: a misspelt key is a finding
sed 's/^Restart=/Restat=/' "$OSS_TMP/u/openshell-driver-substrate.service" >"$OSS_TMP/u/ctl.service"
if verify "$OSS_TMP/u/ctl.service" >/dev/null; then oss_fail "control: a misspelt key passed verify"; fi
echo "PASS control: a misspelt key is reported"
echo PASS
