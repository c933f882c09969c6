#!/usr/bin/env bash
# LIVE: the backend's lifecycle against a real Substrate cluster, with a
# pre-provisioned ActorTemplate (the driver's own templates need Kubernetes
# credentials this suite does not ask for).  Skips unless every variable is set.
set -uo pipefail
missing=()
for v in OSS_LIVE_ATEAPI_ENDPOINT OSS_LIVE_ATEAPI_CA OSS_LIVE_ATEAPI_TOKEN OSS_LIVE_ATESPACE \
         OSS_LIVE_NAMESPACE OSS_LIVE_TEMPLATE; do
  [[ -n ${!v:-} ]] || missing+=("$v")
done
if ((${#missing[@]})); then
  echo "SKIP: live Substrate suite needs ${missing[*]} (a real ate-api-server host:port, its CA" \
       "file, a bearer token file, an atespace, the template namespace and a Ready template)"
  exit 77
fi
exec "${OSS_BUILD_DIR:?}/tests/driver/substrate/substrate_backend_it" live
