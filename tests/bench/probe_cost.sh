#!/usr/bin/env bash
# Benchmark (not a test; ctest does not run it): what the bootstrap probes
# add to the shim's start.  Two measures, median (and min) of N runs each
# (default 25), the two probe sets interleaved run by run so the load of a
# shared machine hits both alike:
#   exec   start of `openshell-shim --probes=SET ... -- date +%s%N` to the
#          child's exec (the child prints its clock; EPOCHREALTIME before),
#          i.e. what the supervisor waits for;
#   boot   the shim's own bootstrap.timings_us.total from its report (facts,
#          probes, decisions, filter compile, env), in-process.
# Probe cost = median(all) - median(none).  Places:
#   host       the host kernel, as root: the netns probe really succeeds,
#              with the veth peer created inside (auto) and, for comparison,
#              moved as the supervisor does (--netns-probe=move), which waits
#              for an RCU grace period in the kernel
#   injected   the host under oss-faultinject's gvisor-substrate preset
#   runsc      a Substrate-shaped runsc container per run, the shim as PID 1
#              (Debian's runsc refuses PR_SET_CHILD_SUBREAPER, so the shim
#              cannot run as a plain child in there); boot only, since a
#              container start (~150 ms) would bury the exec figure; the
#              dynamic shim and the static one (what images carry)
# Usage (root): OSS_BUILD_DIR=build tests/bench/probe_cost.sh [N]
set -euo pipefail
OSS_SOURCE_DIR=${OSS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
OSS_BUILD_DIR=$(cd "${OSS_BUILD_DIR:-$OSS_SOURCE_DIR/build}" && pwd)
export OSS_SOURCE_DIR OSS_BUILD_DIR
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
oss_require_root
N=${1:-25}
SHIM="$OSS_BUILD_DIR/shim/openshell-shim"
FI=$(oss_helper oss-faultinject)
OUT="$OSS_TMP/bench"
mkdir -p "$OUT"
chmod 0777 "$OUT"

boot_us() { grep -o '"total":[0-9]*' "$1" | tail -n 1 | cut -d: -f2; }
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mn() { printf '%s\n' "$@" | sort -n | head -n 1; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }

# interleave PREFIX... : runs PREFIX SHIM --probes={none,all} $OPTS N times
# each, alternating; sets EXEC_NONE EXEC_ALL BOOT_NONE BOOT_ALL (arrays, us).
OPTS=()
interleave() {
    local -a pre=("$@")
    EXEC_NONE=() EXEC_ALL=() BOOT_NONE=() BOOT_ALL=()
    local i p s e
    "${pre[@]}" "$SHIM" --probes=all --degrade=all "${OPTS[@]}" --report="$OUT/w.json" -- /bin/true 2>/dev/null || true # warm-up
    for ((i = 0; i < N; i++)); do
        for p in none all; do
            s=${EPOCHREALTIME/./}
            e=$("${pre[@]}" "$SHIM" --probes=$p --degrade=all "${OPTS[@]}" --report="$OUT/$p.json" -- /bin/date +%s%N 2>/dev/null)
            e=${e:0:16}
            if [[ $p == none ]]; then
                EXEC_NONE+=($((e - s)))
                BOOT_NONE+=("$(boot_us "$OUT/$p.json")")
            else
                EXEC_ALL+=($((e - s)))
                BOOT_ALL+=("$(boot_us "$OUT/$p.json")")
            fi
        done
    done
}

hdr() {
    printf '| %-30s | %-7s | %8s | %8s | %8s | %8s | %11s |\n' where measure "none med" "none min" \
        "all med" "all min" "added (med)"
    echo "|--------------------------------|---------|----------|----------|----------|----------|-------------|"
}
row() { # row WHERE MEASURE "none values" "all values"
    local -a a b
    read -r -a a <<<"$3"
    read -r -a b <<<"$4"
    local ma mb
    ma=$(med "${a[@]}")
    mb=$(med "${b[@]}")
    printf '| %-30s | %-7s | %8s | %8s | %8s | %8s | %11s |\n' "$1" "$2" "$(ms "$ma")" \
        "$(ms "$(mn "${a[@]}")")" "$(ms "$mb")" "$(ms "$(mn "${b[@]}")")" "$(ms $((mb - ma)))"
}

echo "probe cost: $N runs per set, interleaved; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); kernel $(uname -r)"
hdr
interleave
row "host kernel (root)" exec "${EXEC_NONE[*]}" "${EXEC_ALL[*]}"
row "host kernel (root)" boot "${BOOT_NONE[*]}" "${BOOT_ALL[*]}"
OPTS=(--netns-probe=move)
interleave
row "host, --netns-probe=move" exec "${EXEC_NONE[*]}" "${EXEC_ALL[*]}"
row "host, --netns-probe=move" boot "${BOOT_NONE[*]}" "${BOOT_ALL[*]}"
OPTS=()
interleave "$FI" gvisor-substrate --
row "host, gvisor-substrate injected" exec "${EXEC_NONE[*]}" "${EXEC_ALL[*]}"
row "host, gvisor-substrate injected" boot "${BOOT_NONE[*]}" "${BOOT_ALL[*]}"

if [[ "${OSS_SANITIZE:-0}" != 1 ]] && command -v runsc >/dev/null; then
    source "$OSS_SOURCE_DIR/tests/lib/runsc.sh"
    oss_on_exit oss_runsc_cleanup
    runsc_boot() { # runsc_boot SHIM -> BOOT_NONE BOOT_ALL
        local shim=$1 i p id
        BOOT_NONE=() BOOT_ALL=()
        for ((i = 0; i < N; i++)); do
            for p in none all; do
                oss_bundle_make "$OSS_TMP/b-$p" --bind "$OUT:/out" --bind "$OSS_BUILD_DIR:$OSS_BUILD_DIR:ro" -- \
                    "$shim" --probes=$p --degrade=all --report=/out/runsc-$p.json -- /bin/true
                id=$(oss_unique_name "bench-$p")
                rm -f "$OUT/runsc-$p.json"
                oss_runsc_run_fg "$id" "$OSS_TMP/b-$p" 60 || { echo "runsc run failed: $(tail -n 2 "$(oss_runsc_err "$id")")"; exit 1; }
                if [[ $p == none ]]; then BOOT_NONE+=("$(boot_us "$OUT/runsc-$p.json")"); else BOOT_ALL+=("$(boot_us "$OUT/runsc-$p.json")"); fi
            done
        done
    }
    runsc_boot "$SHIM"
    row "runsc, Substrate shape, PID 1" boot "${BOOT_NONE[*]}" "${BOOT_ALL[*]}"
    if [[ -x "$SHIM-static" ]]; then
        runsc_boot "$SHIM-static"
        row "runsc, as above, static shim" boot "${BOOT_NONE[*]}" "${BOOT_ALL[*]}"
    fi
fi
echo "(ms; added = median with every probe - median with --probes=none; exec = shim start to the child's exec, boot = the report's bootstrap total)"
