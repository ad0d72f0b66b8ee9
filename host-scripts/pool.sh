# shellcheck shell=bash
# A libvirt dir pool for a folder under storageDir: made idempotently, so that a pool left behind
# with a kept project disk is simply taken up again when the project comes back.
# Settings: POOL (name), POOL_DIR (folder); PURGE=true lets pool_remove delete it.

pool_ensure() {
    : "${POOL:?}" "${POOL_DIR:?}"
    dir_pool_ensure "$POOL" "$POOL_DIR" ""
    echo "$POOL"
}

pool_remove() {
    : "${POOL:?}"
    if [ "${PURGE:-false}" != true ]; then
        log "keeping pool $POOL and its folder ${POOL_DIR:-} (the project was not marked purge: true)"
        return 0
    fi
    if ! v pool-info "$POOL" >/dev/null 2>&1; then
        return 0
    fi
    v pool-refresh "$POOL" >/dev/null || true
    local volumes
    volumes=$(v vol-list "$POOL" | awk 'NF {print $1}' | tr '\n' ' ')
    [ -z "$volumes" ] || die "pool $POOL still holds: $volumes— not deleting it"
    v pool-destroy "$POOL" >/dev/null 2>&1 || true
    v pool-delete "$POOL" >/dev/null
    v pool-undefine "$POOL" >/dev/null
    log "deleted pool $POOL and its folder"
}
