# Shared helpers for the probes script tests.
PR="$OSS_BUILD_DIR/tests/shim/probe/probe-run"
SYSTRY="$OSS_BUILD_DIR/tests/shim/probe/sys-try"
PY=/usr/bin/python3
FAILS=0

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

# kv OUTPUT KEY -> value of KEY=... in probe-run's output
kv() { printf '%s\n' "$1" | sed -n "s/^$2=//p" | head -n1; }

expect() { # expect OUTPUT KEY WANT [context]
    local got; got=$(kv "$1" "$2")
    if [[ "$got" == "$3" ]]; then ok "${4:-} $2=$3"; else fail "${4:-} $2: want '$3', got '$got'"; fi
}

finish() {
    if ((FAILS)); then echo "$FAILS failure(s)" >&2; exit 1; fi
    echo "all assertions passed"
    exit 0
}

need_root() {
    if [[ $(id -u) != 0 ]]; then echo "SKIP: needs root (probes switch ids, build namespaces)"; exit 77; fi
    [[ -x "$PR" ]] || { echo "SKIP: probe-run not built"; exit 77; }
    [[ -x $PY ]] || { echo "SKIP: $PY missing"; exit 77; }
}
