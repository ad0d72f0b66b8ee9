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
