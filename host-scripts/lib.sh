# shellcheck shell=bash
# Shared by the host scripts: strict mode, logging, and virsh against the stack's libvirt URI.
# The program runs these on the machine running Pulumi (through @pulumi/command), as the shared
# library followed by one script and the call of one of its functions, with their settings in
# the environment. Messages go to stderr, which Pulumi shows.
set -Eeuo pipefail

: "${LIBVIRT_URI:?LIBVIRT_URI is not set}"

log() {
    printf 'project-vms: %s\n' "$*" >&2
}

die() {
    log "ERROR: $*"
    exit 1
}

# virsh against the host of this stack.
v() {
    virsh -q -c "$LIBVIRT_URI" "$@"
}

# The state of a domain ("running", "shut off", …), empty when it does not exist.
domain_state() {
    v domstate "$1" 2>/dev/null | head -n 1 || true
}

# 107374182400 -> 100G: the largest binary unit that divides the size, as the config writes it.
human_size() {
    local bytes=$1 unit=T factor=1099511627776
    for unit in T G M K; do
        if [ $((bytes % factor)) -eq 0 ]; then
            echo "$((bytes / factor))$unit"
            return
        fi
        factor=$((factor / 1024))
    done
    echo "${bytes}B"
}
