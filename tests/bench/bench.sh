#!/usr/bin/env bash
# Benchmarks openshell-shim against Debian's tini, dumb-init and catatonit on
# this machine, all in one run, and prints a markdown table (docs/bench.md).
#
#   sudo tests/bench/bench.sh [--quick] > bench.md
#
# Env: OSS_BUILD_DIR (default build/), BENCH_RUNS (start runs per command,
# default 300), BENCH_SIGS (signals per init, 1000), BENCH_ORPHANS (10000),
# BENCH_IDLE_S (idle window, 10).  --quick: small counts (smoke test).
# Needs root (unshare -pf for the orphan burst), hyperfine, python3.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${OSS_BUILD_DIR:-$SRC/build}
RUNS=${BENCH_RUNS:-300}
SIGS=${BENCH_SIGS:-1000}
ORPH=${BENCH_ORPHANS:-10000}
IDLE=${BENCH_IDLE_S:-10}
REPEAT=3
if [[ "${1:-}" == --quick ]]; then
    RUNS=20 SIGS=50 ORPH=500 IDLE=2 REPEAT=1
fi

SHIM=$BUILD/shim/openshell-shim
SHIM_S=$BUILD/shim/openshell-shim-static
OB=$BUILD/tests/bench/oss-bench
for f in "$SHIM" "$OB"; do
    [[ -x "$f" ]] || { echo "bench: $f not built (make -C $BUILD)" >&2; exit 77; }
done
[[ $(id -u) == 0 ]] || { echo "bench: needs root (unshare -pf)" >&2; exit 77; }
for c in hyperfine python3 unshare; do
    command -v "$c" >/dev/null || { echo "bench: $c not installed" >&2; exit 77; }
done

WORK=$(mktemp -d /tmp/oss-bench.XXXXXX)
STATE=$(mktemp -d /dev/shm/oss-bench.XXXXXX) # tmpfs, like a container's /run
cleanup() {
    local p
    for p in $(jobs -p); do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$WORK" "$STATE"
}
trap cleanup EXIT

# name|init prefix (the child follows); only inits that are installed.
INITS=()
add_init() { if command -v "${2%% *}" >/dev/null 2>&1; then INITS+=("$1|$2"); fi; }
add_init tini "tini -s --"
add_init tini-static "tini-static -s --"
add_init dumb-init "dumb-init"
add_init catatonit "catatonit --"
# The shim's state (report, actor-id, control socket) goes to tmpfs, as under
# a container's /run; the "/run on disk" row shows this host's default paths.
SARGS="--report=$STATE/bootstrap.json --state-dir=$STATE"
INITS+=("shim, probes off|$SHIM --probes=none $SARGS --")
[[ -x "$SHIM_S" ]] && INITS+=("shim static, probes off|$SHIM_S --probes=none $SARGS --")
INITS+=("shim, probes off, /run on disk|$SHIM --probes=none --")
INITS+=("shim, full probes|$SHIM $SARGS --")
[[ -x "$SHIM_S" ]] && INITS+=("shim static, full probes|$SHIM_S $SARGS --")

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo "## openshell-shim benchmark"
echo
echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) on: $(nproc) CPUs, ${cpu:-unknown CPU}, Linux $(uname -r)," \
    "$(. /etc/os-release && echo "$PRETTY_NAME"). Shim $("$SHIM" --version | awk '{print $2}')" \
    "(commit $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?'))."
echo

# ---- start cost -------------------------------------------------------------
hf_cmds=()
for row in "${INITS[@]}"; do
    pre=${row#*|}
    hf_cmds+=("$pre /bin/true" "$pre /bin/sh -c :")
done
hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$WORK/start.json" \
    "/bin/true" "/bin/sh -c :" "${hf_cmds[@]}" >"$WORK/hyperfine.log" 2>&1 ||
    { echo "bench: hyperfine failed: $(tail -n 5 "$WORK/hyperfine.log")" >&2; exit 1; }
printf '%s\n' "${INITS[@]}" >"$WORK/inits"
python3 - "$WORK/start.json" "$WORK/inits" "$RUNS" <<'PY'
import json, sys
res = {r["command"]: sorted(r["times"]) for r in json.load(open(sys.argv[1]))["results"]}
inits = [l.rstrip("\n").split("|", 1) for l in open(sys.argv[2]) if l.strip()]
def q(t, f): return t[min(len(t) - 1, int(f * len(t)))] * 1e3
def med(t): return q(t, 0.5)
print(f"### Start cost: init + child, wall time ({sys.argv[3]} runs each, hyperfine -N)\n")
print("| init | `/bin/true`: median (p10-p90) ms | ratio to tini | `/bin/sh -c :`: median (p10-p90) ms | ratio to tini |")
print("|---|---|---|---|---|")
tini = dict(inits).get("tini")
for name, pre in [("(no init)", "")] + inits:
    cells = []
    for child in ("/bin/true", "/bin/sh -c :"):
        t = res[(pre + " " + child).strip()]
        cells.append(f"{med(t):.2f} ({q(t, .1):.2f}-{q(t, .9):.2f})")
        if tini:
            cells.append(f"{med(t) / med(res[tini + ' ' + child]):.2f}x")
        else:
            cells.append("n/a")
    print(f"| {name} | " + " | ".join(cells) + " |")
print()
PY

# ---- memory -------------------------------------------------------------------
# The init's VmHWM/VmRSS while its child sleeps (median of REPEAT starts).
mem_of() { # PREFIX -> "hwm_kib rss_kib"
    local pre=$1 pid v
    # shellcheck disable=SC2086
    $pre /bin/sleep 30 </dev/null >/dev/null 2>&1 &
    pid=$!
    sleep 0.5
    v="$(awk '/^VmHWM:/ {h=$2} /^VmRSS:/ {r=$2} END {print h, r}' "/proc/$pid/status")"
    v="$v $(awk '/^Anonymous:/ {print $2}' "/proc/$pid/smaps_rollup")"
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "$v"
}
echo "### Memory of the init while its child sleeps (KiB, median of $REPEAT)"
echo
echo "VmRSS counts the mapped pages of the binary and its libraries (clean, shared"
echo "with every other process mapping them); Anonymous is the memory this one"
echo "instance owns."
echo
echo "| init | VmHWM (peak) | VmRSS | Anonymous |"
echo "|---|---|---|---|"
for row in "${INITS[@]}"; do
    name=${row%%|*} pre=${row#*|}
    for ((i = 0; i < REPEAT; i++)); do mem_of "$pre"; done >"$WORK/mem"
    echo "| $name | $(sort -n -k1 "$WORK/mem" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') |" \
        "$(sort -n -k2 "$WORK/mem" | awk '{a[NR]=$2} END {print a[int((NR+1)/2)]}') |" \
        "$(sort -n -k3 "$WORK/mem" | awk '{a[NR]=$3} END {print a[int((NR+1)/2)]}') |"
done
echo

# ---- binary sizes ---------------------------------------------------------------
echo "### Binary sizes (bytes)"
echo
echo "| binary | linkage | size | stripped |"
echo "|---|---|---|---|"
size_row() {
    local name=$1 f=$2 link
    [[ -e "$f" ]] || return 0
    f=$(readlink -f "$f")
    strip -o "$WORK/stripped" "$f" 2>/dev/null || cp "$f" "$WORK/stripped"
    if file -L "$f" | grep -q 'statically linked'; then link=static; else link=dynamic; fi
    echo "| $name | $link | $(stat -c %s "$f") | $(stat -c %s "$WORK/stripped") |"
}
size_row openshell-shim "$SHIM"
size_row openshell-shim-static "$SHIM_S"
for b in tini tini-static dumb-init catatonit; do
    command -v "$b" >/dev/null && size_row "$b" "$(command -v "$b")"
done
echo

# ---- signal forwarding latency ----------------------------------------------
echo "### Signal forwarding: kill(init, SIGUSR1) to the child taking it ($SIGS signals, µs)"
echo
echo "| init | median | p10 | p90 | max |"
echo "|---|---|---|---|---|"
for row in "${INITS[@]}"; do
    name=${row%%|*} pre=${row#*|}
    [[ "$name" == *"full probes"* || "$name" == *"on disk"* ]] && continue
    # shellcheck disable=SC2086
    out=$("$OB" siglat "$SIGS" $pre "$OB" sigwait 2>"$WORK/sig.err") ||
        { echo "| $name | failed: $(head -c 80 "$WORK/sig.err") | | | |"; continue; }
    awk -v n="$name" '{for (i=1;i<=NF;i++) {split($i,kv,"="); v[kv[1]]=kv[2]}}
        END {printf "| %s | %s | %s | %s | %s |\n", n, v["median_us"], v["p10_us"], v["p90_us"], v["max_us"]}' <<<"$out"
done
echo

# ---- orphan burst as PID 1 -------------------------------------------------------
echo "### Reaping a burst of $ORPH orphans as PID 1 (unshare -pf; from release to the last reaped, ms, median of $REPEAT)"
echo
echo "| init | median | min | max |"
echo "|---|---|---|---|"
for row in "${INITS[@]}"; do
    name=${row%%|*} pre=${row#*|}
    [[ "$name" == *"full probes"* || "$name" == *"on disk"* || "$name" == tini-static ]] && continue
    : >"$WORK/reap"
    for ((i = 0; i < REPEAT; i++)); do
        # shellcheck disable=SC2086
        unshare -pf --mount-proc $pre "$OB" orphans "$ORPH" 60 2>/dev/null |
            sed -n 's/.*reap_ms=\([0-9.]*\).*/\1/p' >>"$WORK/reap" || true
    done
    if [[ $(wc -l <"$WORK/reap") -lt $REPEAT ]]; then
        echo "| $name | failed | | |"
        continue
    fi
    sort -n "$WORK/reap" | awk -v n="$name" '{a[NR]=$1} END {printf "| %s | %s | %s | %s |\n", n, a[int((NR+1)/2)], a[1], a[NR]}'
done
echo

# ---- idle wake-ups ----------------------------------------------------------------
echo "### Idle wake-ups: context switches of the init over ${IDLE} s while its child sleeps"
echo
echo "| init | voluntary | involuntary | per second |"
echo "|---|---|---|---|"
idle_row() {
    local name=$1 pre=$2 pid a b
    # shellcheck disable=SC2086
    $pre /bin/sleep $((IDLE + 5)) </dev/null >/dev/null 2>&1 &
    pid=$!
    sleep 0.5
    a=$(awk '/ctxt_switches/ {printf "%s ", $2}' "/proc/$pid/status")
    sleep "$IDLE"
    b=$(awk '/ctxt_switches/ {printf "%s ", $2}' "/proc/$pid/status")
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    read -r av ai <<<"$a"
    read -r bv bi <<<"$b"
    echo "| $name | $((bv - av)) | $((bi - ai)) | $(awk -v d=$((bv - av + bi - ai)) -v s="$IDLE" 'BEGIN {printf "%.2f", d / s}') |"
}
idle_row "shim, restore detection off (--freeze-threshold=0)" "$SHIM --probes=none $SARGS --freeze-threshold=0 --"
idle_row "shim, restore detection on (default 1 s timer)" "$SHIM --probes=none $SARGS --"
command -v tini >/dev/null && idle_row tini "tini -s --"
echo

# ---- driver -------------------------------------------------------------------------
# HOOK for the driver figures (list, watch latency, concurrency, memory):
# tests/bench/driver.sh, when present, prints its own markdown section(s).
if [[ -x "$SRC/tests/bench/driver.sh" ]]; then
    echo "### Driver"
    echo
    # a section that cannot run here (exit 77) says why and the run goes on
    rc=0
    OSS_BUILD_DIR=$BUILD OSS_SOURCE_DIR=$SRC "$SRC/tests/bench/driver.sh" "$@" >"$WORK/driver.md" || rc=$?
    if [[ $rc == 77 ]]; then
        echo "_Driver figures not measured here: $(grep -m1 -o 'SKIP: .*' "$WORK/driver.md" || echo "driver.sh cannot run")._"
    else
        cat "$WORK/driver.md"
        [[ $rc == 0 ]] || exit "$rc"
    fi
else
    echo "### Driver"
    echo
    echo "_tests/bench/driver.sh not present in this tree: no driver figures._"
fi
