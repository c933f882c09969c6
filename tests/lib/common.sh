# shellcheck shell=bash
# Common helpers for the project's script tests (docs/testing.md).
#
#   source "$OSS_SOURCE_DIR/tests/lib/common.sh"
#
# Sets `set -euo pipefail`, installs ONE EXIT trap that runs every command
# registered with oss_on_exit (in reverse order, each failure ignored), and
# makes a private temporary directory $OSS_TMP that is removed last.
# Exit codes: 0 pass, 1 fail (oss_fail, or any failing command under -e),
# 77 skip (oss_skip; ctest's SKIP_RETURN_CODE).

set -euo pipefail

if [[ -n "${_OSS_COMMON_SH:-}" ]]; then
    return 0
fi
_OSS_COMMON_SH=1

: "${OSS_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${OSS_BUILD_DIR:=$OSS_SOURCE_DIR/build}"
export OSS_SOURCE_DIR OSS_BUILD_DIR
OSS_HELPERS_DIR="$OSS_BUILD_DIR/tests/helpers"
OSS_TEST_NAME="${OSS_TEST_NAME:-$(basename "${BASH_SOURCE[1]:-$0}" .sh)}"
# Debian's Python packages (grpcio...) are only visible to this interpreter.
OSS_PYTHON="${OSS_PYTHON:-/usr/bin/python3}"

_oss_exit_cmds=()

# oss_log MSG...: a timestamped line on stderr.
oss_log() {
    printf '[%s %s] %s\n' "$(date -u +%H:%M:%S.%3N)" "$OSS_TEST_NAME" "$*" >&2
}

# oss_skip REASON: prints "SKIP: REASON" and exits 77.
oss_skip() {
    echo "SKIP: $*"
    exit 77
}

# oss_fail MSG: prints "FAIL: MSG" and exits 1.
oss_fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# oss_require_root: skips unless running as root.
oss_require_root() {
    [[ $(id -u) -eq 0 ]] || oss_skip "needs root (runs as uid $(id -u))"
}

# oss_require_cmd CMD...: skips when a command is missing.
oss_require_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || oss_skip "command '$c' not found"
    done
}

# oss_helper NAME: prints the path of a built helper (oss-sigdump...), fails if absent.
oss_helper() {
    local p="$OSS_HELPERS_DIR/$1"
    [[ -x "$p" ]] || oss_fail "helper $1 not built (expected $p)"
    printf '%s\n' "$p"
}

# oss_assert_eq EXPECTED ACTUAL [WHAT]
oss_assert_eq() {
    [[ "$1" == "$2" ]] || oss_fail "${3:-value}: expected '$1', got '$2'"
}

# oss_assert_ne UNEXPECTED ACTUAL [WHAT]
oss_assert_ne() {
    [[ "$1" != "$2" ]] || oss_fail "${3:-value}: must not be '$1'"
}

# oss_assert_match REGEX ACTUAL [WHAT]  (bash =~ regex)
oss_assert_match() {
    [[ "$2" =~ $1 ]] || oss_fail "${3:-value}: '$2' does not match /$1/"
}

# oss_assert_file_contains FILE REGEX [WHAT]  (grep -E)
oss_assert_file_contains() {
    grep -Eq -- "$2" "$1" 2>/dev/null ||
        oss_fail "${3:-$1}: no line matches /$2/ in $1: $(head -c 2000 "$1" 2>/dev/null)"
}

# oss_kv FILE KEY: the value of the last `KEY=value` line or field in FILE
# (the helpers' output format), empty when absent.
oss_kv() {
    { grep -oE "(^|[[:space:]])$2=[^[:space:]]*" "$1" 2>/dev/null || true; } |
        tail -n 1 | sed -E "s/^[[:space:]]*$2=//"
}

# oss_zombie_children PID: number of zombies whose parent is PID (host /proc).
oss_zombie_children() {
    "$(oss_helper oss-ps)" | awk -v p="ppid=$1" '$2 == p && $4 == "state=Z"' | wc -l
}

# oss_on_exit CMD: registers CMD (a string, eval'd) to run at exit.  Commands
# run in reverse order of registration; a failing one does not stop the rest.
oss_on_exit() {
    _oss_exit_cmds+=("$1")
}

_oss_run_exit() {
    local rc=$? i
    set +e
    trap - EXIT INT TERM
    for ((i = ${#_oss_exit_cmds[@]} - 1; i >= 0; i--)); do
        eval "${_oss_exit_cmds[i]}" >/dev/null 2>&1 </dev/null
    done
    exit "$rc"
}
trap _oss_run_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# oss_wait_for CMD TIMEOUT_S [INTERVAL_S]: evaluates CMD until it succeeds;
# returns 1 after TIMEOUT_S seconds (fractions allowed).
oss_wait_for() {
    local cmd=$1 timeout=$2 interval=${3:-0.05} deadline
    deadline=$(($(date +%s%N) + $(_oss_sec_to_ns "$timeout")))
    while :; do
        if eval "$cmd" >/dev/null 2>&1; then
            return 0
        fi
        (($(date +%s%N) < deadline)) || return 1
        sleep "$interval"
    done
}

_oss_sec_to_ns() {
    awk -v s="$1" 'BEGIN { printf "%.0f", s * 1000000000 }'
}

# oss_now_ms: CLOCK_REALTIME in milliseconds.
oss_now_ms() {
    date +%s%3N
}

# oss_median N...: the median of integers (lower middle for an even count).
oss_median() {
    printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# oss_unique_name PREFIX [MAXLEN]: PREFIX-<pid hex><30 random bits hex>, lowercase, [a-z0-9-],
# at most MAXLEN (default 63) characters: usable as a runsc container id, a
# DNS label, a netns name.  Interface names need MAXLEN 15.
oss_unique_name() {
    local prefix=$1 max=${2:-63} suffix
    suffix=$(printf '%x%08x' "$$" "$((RANDOM << 15 | RANDOM))")
    local name="${prefix}-${suffix}"
    if ((${#name} > max)); then
        name="${prefix:0:$((max - 9))}-${suffix: -8}"
    fi
    name=${name,,}
    printf '%s\n' "${name:0:max}"
}

# The per-test scratch directory, removed at exit (after everything else).
OSS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/oss-${OSS_TEST_NAME}.XXXXXX")
chmod 0755 "$OSS_TMP"
export OSS_TMP
oss_on_exit "[[ ${OSS_KEEP_TMP:-0} == 1 ]] || rm -rf '$OSS_TMP'"
