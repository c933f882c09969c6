#!/usr/bin/env bash
# Benchmark (not a test): median wall time of shim_bootstrap_prepare() over
# 20 runs, for the probe sets docs/probes.md reports.  Run as root:
#   OSS_BUILD_DIR=build tests/shim/probe/bench.sh
set -euo pipefail
PR="${OSS_BUILD_DIR:-build}/tests/shim/probe/probe-run"
G='unshare@a0&0x40000000:EPERM,clone@a0&0x40000000:EPERM,clone3:ENOSYS,landlock_create_ruleset:ENOSYS,seccomp@a1&0x1:EINVAL,seccomp@a1&0x2:EINVAL,seccomp@a1&0x8:EINVAL,setgroups:EPERM'
echo "all probes (host):            $("$PR" --probes all --bench 20)"
echo "all but netns (host):         $("$PR" --probes seccomp,landlock,privdrop --bench 20)"
echo "netns only (host):            $("$PR" --probes netns --bench 20)"
echo "all, gVisor emulated:         $("$PR" --inject "$G" --degrade all --bench 20)"
echo "probes off:                   $("$PR" --probes none --bench 20)"
