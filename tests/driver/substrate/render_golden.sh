#!/usr/bin/env bash
# `openshell-driver-substrate render` over every tests/driver/substrate/golden/render/
# <case>.spec.json with config.json beside them: stdout, stderr and the exit
# code must equal <case>.out byte for byte (REFRESH=1 rewrites the files after
# an intended change; review the diff).  Also: the sandbox token in a spec
# appears in no output (control: it is in the spec files, so the search works),
# and every ActorTemplate rendered is the one the synthesis golden files hold
# for the same spec shape (the CRD check covers those).
set -uo pipefail
bin=${OSS_BUILD_DIR:?}/driver/openshell-driver-substrate
dir=${OSS_SOURCE_DIR:?}/tests/driver/substrate/golden/render
[[ -x $bin ]] || { echo "SKIP: $bin not built"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
token=RENDER-TOKEN-DO-NOT-PRINT
grep -q -- "$token" "$dir"/*.spec.json || { echo "FAIL: control: no spec carries the token"; exit 1; }

rc=0
n=0
for spec in "$dir"/*.spec.json; do
  name=$(basename "$spec" .spec.json)
  # a clean environment: OPENSHELL_SUBSTRATE_* from the caller would change the config
  env -i PATH=/usr/bin:/bin "$bin" render --spec "$spec" --config "$dir/config.json" \
    >"$tmp/out" 2>"$tmp/err"
  code=$?
  { cat "$tmp/out"; sed 's/^/# stderr: /' "$tmp/err"; echo "# exit $code"; } |
    sed "s#$dir/##g" >"$tmp/$name.out"
  n=$((n + 1))
  if grep -q -- "$token" "$tmp/$name.out"; then
    echo "FAIL $name: the sandbox token is in the output"; rc=1
  fi
  if [[ ${REFRESH:-} == 1 ]]; then
    cp "$tmp/$name.out" "$dir/$name.out"; echo "wrote $dir/$name.out"
  elif ! cmp -s "$tmp/$name.out" "$dir/$name.out"; then
    echo "FAIL $name: output differs from $name.out"; diff "$dir/$name.out" "$tmp/$name.out" | head -20
    rc=1
  fi
done
# control: a changed config changes the output, so the comparison bites
env -i PATH=/usr/bin:/bin "$bin" render --spec "$dir/snake-case.spec.json" \
  --config "$dir/config.json" --shim-readyz-port 9999 >"$tmp/ctl" 2>/dev/null
if cmp -s <(head -n 1 "$dir/snake-case.out") "$tmp/ctl"; then
  echo "FAIL control: --shim-readyz-port did not change the rendered template"; rc=1
fi
[[ $rc == 0 ]] && echo "PASS render: $n specs rendered as their golden files say, token never printed"
exit $rc
