#!/usr/bin/env bash
# tests/lib/common.sh itself: the EXIT trap runs registered commands in
# reverse order even when the test fails (and when a command fails), oss_skip
# exits 77 with its reason, oss_fail exits 1, oss_wait_for is bounded,
# oss_unique_name respects its length, oss_kv reads helper output, $OSS_TMP is
# removed.  Control: a script whose cleanup is NOT registered leaves its marker
# behind, so the removal check can fail.
source "$OSS_SOURCE_DIR/tests/lib/common.sh"

child() { # child SCRIPT: runs SCRIPT in a fresh bash that sourced common.sh
    OSS_TEST_NAME=child bash -c "source '$OSS_SOURCE_DIR/tests/lib/common.sh'; $1"
}

log="$OSS_TMP/order"
rc=0
out=$(child "echo \$OSS_TMP; oss_on_exit 'echo first >>$log'; oss_on_exit 'false'; oss_on_exit 'echo second >>$log'; oss_fail boom" 2>/dev/null) || rc=$?
oss_assert_eq 1 "$rc" "oss_fail exit code"
oss_assert_eq "second first" "$(tr '\n' ' ' <"$log" | sed 's/ $//')" "cleanup order"
[[ -n "$out" && ! -e "$out" ]] || oss_fail "child's OSS_TMP '$out' not removed"

rc=0
out=$(child "oss_skip 'no widget here'") || rc=$?
oss_assert_eq 77 "$rc" "oss_skip exit code"
oss_assert_eq "SKIP: no widget here" "$out" "oss_skip message"

# set -e is on: a failing command fails the test, cleanup still runs.
rm -f "$log"
rc=0
child "oss_on_exit 'echo ran >>$log'; false; echo not-reached >>$log" || rc=$?
oss_assert_eq 1 "$rc" "set -e"
oss_assert_eq ran "$(cat "$log")" "cleanup after set -e failure"

# Killed by SIGTERM: exit 143 and cleanup runs.
rm -f "$log"
rc=0
child "oss_on_exit 'echo term >>$log'; kill -TERM \$\$; sleep 5" || rc=$?
oss_assert_eq 143 "$rc" "exit code on SIGTERM"
oss_assert_eq term "$(cat "$log")" "cleanup on SIGTERM"

# Control: without oss_on_exit nothing removes the marker.
marker="$OSS_TMP/marker"
child "touch '$marker'"
[[ -e "$marker" ]] || oss_fail "control: marker vanished without a cleanup"
child "oss_on_exit \"rm -f '$marker'\""
[[ ! -e "$marker" ]] || oss_fail "registered cleanup did not remove the marker"

# oss_wait_for: succeeds as soon as the condition holds, bounded otherwise.
t0=$(oss_now_ms)
if oss_wait_for false 0.5; then oss_fail "oss_wait_for false succeeded"; fi
el=$(($(oss_now_ms) - t0))
((el >= 450 && el < 3000)) || oss_fail "oss_wait_for 0.5 s took $el ms"
( sleep 0.3; touch "$OSS_TMP/late" ) &
oss_wait_for "[[ -e '$OSS_TMP/late' ]]" 5 || oss_fail "oss_wait_for missed the file"
wait

for max in 63 15; do
    n=$(oss_unique_name "some-Long-Prefix-For-Names" "$max")
    ((${#n} <= max)) || oss_fail "unique name '$n' longer than $max"
    oss_assert_match '^[a-z0-9-]+$' "$n" "unique name charset"
done
oss_assert_ne "$(oss_unique_name x)" "$(oss_unique_name x)" "two unique names"

printf 'a=1\nsignal=SIGUSR1 pid=7 pgid=7\nsignal=SIGTERM pid=8 pgid=7\n' >"$OSS_TMP/kv"
oss_assert_eq 1 "$(oss_kv "$OSS_TMP/kv" a)" "oss_kv line"
oss_assert_eq 8 "$(oss_kv "$OSS_TMP/kv" pid)" "oss_kv last field"
oss_assert_eq "" "$(oss_kv "$OSS_TMP/kv" nope)" "oss_kv absent"
oss_assert_eq 3 "$(oss_median 5 1 3)" "median"
echo PASS
