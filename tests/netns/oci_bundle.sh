# Sourced by the netns and stand-in runsc checks: a thin wrapper over the one
# OCI spec generator (tests/lib/oci_bundle.py): the host's / read-only as the
# rootfs (so build-tree binaries run unchanged), tmpfs on /tmp /run /dev,
# proc, its own namespaces, Substrate's NOFILE 1024, and the given caps.
#
# oci_bundle_config FILE "CAP_A CAP_B ..." ARGV...
# Extra env for the process: OCI_ENV="A=b C=d" (no spaces inside values).

# Every capability this runsc (20221219) knows; newer ones make it refuse the spec.
OCI_ALL_CAPS=all

oci_bundle_config() {
    local file=$1 caps=$2
    shift 2
    local -a opts=()
    if [[ $caps == all ]]; then
        opts+=(--all-caps)
    else
        opts+=(--caps "$(tr -s ' \n' ',' <<<"$caps" | sed 's/^,//; s/,$//')")
    fi
    local e
    for e in ${OCI_ENV:-}; do opts+=(--env "$e"); done
    [[ "$(dirname "$file")/config.json" == "$file" ]] ||
        { echo "oci_bundle_config: FILE must be DIR/config.json" >&2; return 2; }
    /usr/bin/python3 "$OSS_SOURCE_DIR/tests/lib/oci_bundle.py" "$(dirname "$file")" "${opts[@]}" \
        -- "$@"
}
