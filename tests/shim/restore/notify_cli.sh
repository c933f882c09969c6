#!/usr/bin/env bash
# Regression: `openshell-shim notify status` was refused by the argument
# parser ("unknown notification 'status'", exit 125) although the control
# socket answers it and docs/readyz.md documents it.  With no shim running it
# must now reach the client and report "not running" (exit 2); an unknown
# notification is still bad usage (125, the control).
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
shim="$OSS_BUILD_DIR/shim/openshell-shim"
[[ -x "$shim" ]] || oss_fail "shim not built at $shim"
rc=0
"$shim" notify status --state-dir="$OSS_TMP/none" >"$OSS_TMP/o" 2>&1 || rc=$?
oss_assert_eq 2 "$rc" "notify status without a running shim: $(cat "$OSS_TMP/o")"
oss_assert_file_contains "$OSS_TMP/o" "not running" "notify status message"
rc=0
"$shim" notify restore --state-dir="$OSS_TMP/none" >"$OSS_TMP/o" 2>&1 || rc=$?
oss_assert_eq 2 "$rc" "notify restore without a running shim"
rc=0
"$shim" notify frobnicate >"$OSS_TMP/o" 2>&1 || rc=$?
oss_assert_eq 125 "$rc" "unknown notification (control)"
echo PASS
