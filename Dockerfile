# The supervisor image layer for Agent Substrate: OpenShell's sandbox base
# image with openshell-shim (PID 1 around the supervisor) added as ENTRYPOINT.
#
#   podman build -t openshell-sandbox-substrate .
#   podman build --build-arg SUPERVISOR_BASE=<your supervisor image> .
#
# Substrate ignores the image's ENTRYPOINT and CMD (the ActorTemplate's
# `command` is the exact argv, see
# docs/platform/substrate.md, "The container's command"): the driver's template says
# `/usr/local/bin/openshell-shim ... -- openshell-sandbox ...` itself.  The
# ENTRYPOINT is for every other runtime (docker/podman run, Kubernetes).
#
# Build arguments:
#   BUILDER_IMAGE    the Debian 12 image the shim is compiled in (debian:12)
#   SUPERVISOR_BASE  the image the shim is added to.  Default: OpenShell's
#                    published sandbox base image, the one OpenShell's Helm
#                    chart deploys as `server.sandboxImage` and its compute
#                    drivers report as their default image
#                    (ghcr.io/nvidia/openshell-community/sandboxes/base).
#                    Pin it by digest in production.
#   SHIM_SOURCE      `source` (default): apt-get the build dependencies and
#                    compile the static shim from this tree with CMake.
#                    `prebuilt`: take an already built static shim from the
#                    build context at PREBUILT_SHIM instead (CI artefacts,
#                    offline builds; tests/shim/restore/dockerfile.sh).
#   PREBUILT_SHIM    path in the build context (prebuilt/openshell-shim)
ARG BUILDER_IMAGE=debian:12
ARG SUPERVISOR_BASE=ghcr.io/nvidia/openshell-community/sandboxes/base:latest
ARG SHIM_SOURCE=source

# ---- stage 1: the static shim from source --------------------------------
FROM ${BUILDER_IMAGE} AS shim-source
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config \
        libseccomp-dev libnl-3-dev libnl-route-3-dev libcap-ng-dev \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
# Only the shim: the driver (gRPC, protobuf-c) is not part of this image.
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release -DOSS_BUILD_DRIVER=OFF \
 && make -C /build -j"$(nproc)" openshell-shim-static \
 && install -D -m 0755 -s /build/shim/openshell-shim-static /out/openshell-shim

# ---- stage 1, alternative: a prebuilt static shim -----------------------
FROM scratch AS shim-prebuilt
ARG PREBUILT_SHIM=prebuilt/openshell-shim
COPY ${PREBUILT_SHIM} /out/openshell-shim

FROM shim-${SHIM_SOURCE} AS shim

# ---- final: the supervisor base plus the shim ---------------------------
FROM ${SUPERVISOR_BASE}
# A static binary: it runs on any base, whatever its libc (docs/platform/debian.md, "A static shim").
COPY --from=shim --chmod=0755 /out/openshell-shim /usr/local/bin/openshell-shim
ENTRYPOINT ["/usr/local/bin/openshell-shim"]
