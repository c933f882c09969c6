#!/usr/bin/env bash
# Installs every Debian 12 package the project builds, tests and demos with.
# Idempotent; run as root.  The one list of build and test dependencies.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(
  build-essential cmake pkg-config git clang clang-format libclang-rt-14-dev
  libseccomp-dev libnl-3-dev libnl-route-3-dev libcap-ng-dev
  libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libprotobuf-dev libgrpc-dev
  libcmocka-dev libcurl4-openssl-dev libjson-c-dev libssl-dev
  runsc iproute2 util-linux procps psmisc valgrind hyperfine openssl
  python3-grpcio python3-grpc-tools python3-protobuf python3-yaml
  tini dumb-init catatonit podman buildah debootstrap curl
  yamllint systemd
)
# Debian's kubectl (`kubectl kustomize` renders deploy/kubernetes); another
# kubectl already on PATH (a cloud SDK's) owns /usr/bin/kubectl, so keep it.
command -v kubectl >/dev/null || pkgs+=(kubernetes-client)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
