#!/usr/bin/env bash
# Zombie counting inside a sandbox (oss_runsc_zombies, oss-ps via runsc exec),
# the measurement a reaping test of an init under gVisor relies on:
#   control: `sleep` as PID 1 never reaps: after oss-orphans 5 exactly 5
#            zombies remain (and oss-ps shows them re-parented to PID 1);
#   tini as PID 1 (a reaping init) leaves none.
# Also on the host: oss_zombie_children counts a non-reaping parent's zombies.
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
source "$OSS_SOURCE_DIR/tests/lib/runsc.sh"
oss_runsc_require
oss_helper oss-ps >/dev/null
tini=$(command -v tini-static || command -v tini || true)
[[ -n "$tini" ]] || oss_skip "no tini installed (scripts/install-deps.sh installs it)"

# The orphans linger so that they die after sh has exec'd sleep: sh itself
# would reap them while it waits for oss-orphans (any child is its child).
spawn='/helpers/oss-orphans 5 --linger-ms 500 && exec /bin/sleep 1000'
oss_bundle_make "$OSS_TMP/bn" --bind "$OSS_HELPERS_DIR:/helpers:ro" \
    -- /bin/sh -c "$spawn"
oss_bundle_make "$OSS_TMP/bt" --bind "$OSS_HELPERS_DIR:/helpers:ro" --bind "$tini:/tini:ro" \
    -- /tini -- /bin/sh -c "$spawn"

idn=$(oss_unique_name noreap)
oss_runsc_run "$idn" "$OSS_TMP/bn"
oss_wait_for "[[ \$(oss_runsc_zombies '$idn') -ge 5 ]]" 20 ||
    oss_fail "control: expected 5 zombies under a non-reaping PID 1, got $(oss_runsc_zombies "$idn")"
sleep 0.3
oss_assert_eq 5 "$(oss_runsc_zombies "$idn")" "zombies under sleep as PID 1"
oss_assert_eq 5 "$(oss_runsc_ps "$idn" | grep -c '^pid=[0-9]* ppid=1 .*state=Z comm=oss-orphans$')" \
    "zombie orphans re-parented to PID 1"

idt=$(oss_unique_name reap)
oss_runsc_run "$idt" "$OSS_TMP/bt"
oss_wait_for "oss_runsc_ps '$idt' | grep -q 'comm=sleep'" 20 || oss_fail "tini container did not start"
# Gone entirely (a zombie still shows up with its comm): the orphans existed,
# died after their linger, and tini reaped them.
oss_wait_for "! oss_runsc_ps '$idt' | grep -q 'comm=oss-orphans'" 10 ||
    oss_fail "tini left orphans behind: $(oss_runsc_ps "$idt")"
oss_assert_eq 0 "$(oss_runsc_zombies "$idt")" "zombies under tini"

# Host: a parent that does not reap (sleep after exec) keeps its zombie children.
/bin/sh -c '/bin/true & /bin/true & exec /bin/sleep 30' &
parent=$!
oss_on_exit "kill -KILL $parent"
oss_wait_for "[[ \$(oss_zombie_children $parent) -eq 2 ]]" 10 ||
    oss_fail "host: expected 2 zombie children of $parent, got $(oss_zombie_children "$parent")"
echo PASS
