# Sourced by run_fakes.sh and bench.sh: makes a test CA, starts the FAKE
# ate-api-server and FAKE Kubernetes API on loopback, exports OSS_IT_* for
# substrate_backend_it, and stops everything on exit.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# protos and CRD: upstream's with OSS_REFERENCE_DIR, else the project's (tests/lib/protos.py)
ate_proto=$(/usr/bin/python3 "${OSS_SOURCE_DIR:?}/tests/lib/protos.py" peer ateapi)
crd=$(/usr/bin/python3 "$OSS_SOURCE_DIR/tests/lib/protos.py" peer crd)
ref=$(dirname "$ate_proto")
bin=${OSS_BUILD_DIR:?}/tests/driver/substrate/substrate_backend_it
py=/usr/bin/python3

# Every request the fake Kubernetes API receives, for the RBAC test
# (tests/deploy/rbac.sh): one log per suite in the build tree, removed
# first so a suite that skips leaves none behind.
reqlog=$OSS_BUILD_DIR/tests/kube-requests/$(basename "$0" .sh).jsonl
rm -f "$reqlog"
skip() { echo "SKIP: $*"; exit 77; }
[[ -f $ate_proto && -f $crd ]] || { echo "FAIL: $ate_proto or $crd missing"; exit 1; }
[[ -x $bin ]] || skip "$bin not built"
command -v openssl >/dev/null || skip "openssl missing"
$py -c 'import grpc, grpc_tools, google.protobuf, yaml' 2>/dev/null ||
  skip "Debian's python3-grpcio, python3-grpc-tools, python3-protobuf, python3-yaml needed"

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

bash "$here/make_ca.sh" "$tmp/pki" || { echo "FAIL: cannot make the test CA"; exit 1; }
token="it-sandbox-token-DO-NOT-LEAK-$RANDOM$RANDOM"
printf 'ate-token-1\n' >"$tmp/ate-expected"
printf 'ate-token-1\n' >"$tmp/ate-token"
printf 'kube-token-1\n' >"$tmp/kube-token"
chmod 600 "$tmp"/*-token "$tmp/ate-expected"

$py "$here/fake_ateapi.py" --reference "$ref" --gen-dir "$tmp/gen" \
  --cert "$tmp/pki/srv.pem" --key "$tmp/pki/srv.key" --token-file "$tmp/ate-expected" \
  --ready-file "$tmp/ate.json" 2>"$tmp/fake_ateapi.log" &
pids+=($!)
mkdir -p "$(dirname "$reqlog")"
: >"$reqlog"
$py "$here/fake_kube.py" --crd "$crd" \
  --cert "$tmp/pki/srv.pem" --key "$tmp/pki/srv.key" --token-file "$tmp/kube-token" \
  --ready-file "$tmp/kube.json" --request-log "$reqlog" 2>"$tmp/fake_kube.log" &
pids+=($!)
# a second, plaintext (h2c) ate-api-server for the api_plaintext case
$py "$here/fake_ateapi.py" --reference "$ref" --gen-dir "$tmp/gen-plain" --plaintext \
  --token-file "$tmp/ate-expected" --ready-file "$tmp/ate-plain.json" 2>"$tmp/fake_ateapi_plain.log" &
pids+=($!)
# and one that demands a client certificate (mutual TLS)
$py "$here/fake_ateapi.py" --reference "$ref" --gen-dir "$tmp/gen-mtls" \
  --cert "$tmp/pki/srv.pem" --key "$tmp/pki/srv.key" --client-ca "$tmp/pki/ca.pem" \
  --token-file "$tmp/ate-expected" --ready-file "$tmp/ate-mtls.json" 2>"$tmp/fake_ateapi_mtls.log" &
pids+=($!)
ready() { [[ -f $tmp/ate.json && -f $tmp/kube.json && -f $tmp/ate-plain.json && -f $tmp/ate-mtls.json ]]; }
for _ in $(seq 150); do ready && break; sleep 0.1; done
ready || {
  echo "FAIL: fakes did not start"; cat "$tmp"/fake_*.log; exit 1; }
jget() { $py -c "import json,sys;print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
ate_port=$(jget "$tmp/ate.json" port)
kube_port=$(jget "$tmp/kube.json" port)
# a loopback port nobody listens on, for "ate-api down"
dead_port=$($py -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')

export OSS_IT_ATEAPI=127.0.0.1:$ate_port
export OSS_IT_DEAD_ENDPOINT=127.0.0.1:$dead_port
export OSS_IT_PLAIN_ATEAPI=127.0.0.1:$(jget "$tmp/ate-plain.json" port)
export OSS_IT_MTLS_ATEAPI=127.0.0.1:$(jget "$tmp/ate-mtls.json" port)
export OSS_IT_CLIENT_CERT=$tmp/pki/client.pem
export OSS_IT_CLIENT_KEY=$tmp/pki/client.key
export OSS_IT_CA=$tmp/pki/ca.pem
export OSS_IT_ATE_TOKEN=$tmp/ate-token
export OSS_IT_FAKE_EXPECTED_TOKEN=$tmp/ate-expected
export OSS_IT_KUBE_URL=https://127.0.0.1:$kube_port
export OSS_IT_KUBE_TOKEN=$tmp/kube-token
export OSS_IT_ATE_CTL=http://127.0.0.1:$(jget "$tmp/ate.json" control_port)
export OSS_IT_KUBE_CTL=http://127.0.0.1:$(jget "$tmp/kube.json" control_port)
export OSS_IT_SANDBOX_TOKEN=$token


# The two fakes play one Substrate: the Kubernetes fake's controller makes
# each template's golden actor in the ate-api-server fake, which asks back
# whether an actor's template exists.
curl -sf -X POST -d "{\"ateapi_control\":\"$OSS_IT_ATE_CTL\"}" "$OSS_IT_KUBE_CTL/config" >/dev/null &&
  curl -sf -X POST -d "{\"kube_control\":\"$OSS_IT_KUBE_CTL\"}" "$OSS_IT_ATE_CTL/config" >/dev/null ||
  { echo "FAIL: cannot link the fakes"; exit 1; }

# The operator's gateway client TLS Secret (config gateway_tls_secret): the
# ate-api-server resolves the templates' secretKeyRefs to it on every resume.
tls_secret() { # NAMESPACE
  local d='{"ca.crt":"Q0EK","tls.crt":"Q0VSVAo=","tls.key":"S0VZCg=="}'
  curl -sf -X POST -d "{\"kind\":\"secrets\",\"namespace\":\"$1\",\"name\":\"openshell-client-tls\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"openshell-client-tls\",\"namespace\":\"$1\"},\"type\":\"kubernetes.io/tls\",\"data\":$d}}" \
    "$OSS_IT_KUBE_CTL/seed" >/dev/null
}
for ns in openshell e2e-ns; do
  tls_secret "$ns" || { echo "FAIL: cannot seed the TLS Secret"; exit 1; }
done
