# shellcheck shell=bash
# Sourced by every provisioning script: strict mode, one log format, and a loud failure that
# names the step, the line and the command. Output lands on the serial console and in
# /var/log/cloud-init-output.log; a non-zero exit makes `cloud-init status` report an error.
set -Eeuo pipefail

STEP=$(basename "$0" .sh)

log() {
    printf 'project-vms[%s]: %s\n' "$STEP" "$*" >&2
}

die() {
    log "FAILED: $*"
    exit 1
}

on_error() {
    local rc=$?
    log "FAILED (exit $rc) at line $1: $2"
    exit "$rc"
}
trap 'on_error "$LINENO" "$BASH_COMMAND"' ERR

# Retry a command a few times: the network may still be coming up, mirrors hiccup.
retry() {
    local n
    for n in 1 2 3 4 5; do
        if "$@"; then return 0; fi
        log "attempt $n of: $* failed; retrying in $((n * 5))s"
        sleep $((n * 5))
    done
    "$@"
}

# Installs whichever of the given Debian packages is missing (apt's lists refreshed first, since a
# prepared layer ships without them); does nothing when all are there.
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    log "installing ${missing[*]}"
    retry apt-get update -q
    DEBIAN_FRONTEND=noninteractive retry apt-get install -y -q --no-install-recommends "${missing[@]}"
}
