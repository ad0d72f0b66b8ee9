# shellcheck shell=bash
# Grows a project disk in place: the libvirt provider would replace (recreate empty) a volume
# whose size changes. Never shrinks. The guest grows the filesystem at its next boot.
# Settings: POOL, VOLUME, SIZE (bytes), DOMAIN, TARGET (guest disk, vdb), CONFIG_KEY (for messages).

disk_grow() {
    : "${POOL:?}" "${VOLUME:?}" "${SIZE:?}" "${DOMAIN:?}" "${TARGET:?}"
    local current
    current=$(v vol-info --pool "$POOL" "$VOLUME" --bytes | awk '/^Capacity:/ {print $2}') || current=""
    [ -n "$current" ] || die "no volume $VOLUME in pool $POOL"
    if [ "$SIZE" -lt "$current" ]; then
        die "refusing to shrink the project disk $VOLUME of $DOMAIN from $(human_size "$current") to $(human_size "$SIZE"): that would destroy data. Set ${CONFIG_KEY:-its disk} to $(human_size "$current") or more."
    fi
    if [ "$SIZE" -eq "$current" ]; then
        log "project disk of $DOMAIN is $(human_size "$current")"
    elif [ "$(domain_state "$DOMAIN")" = running ]; then
        v blockresize "$DOMAIN" "$TARGET" --size "${SIZE}B" >/dev/null
        log "grew the project disk of $DOMAIN from $(human_size "$current") to $(human_size "$SIZE") (live)"
    else
        v vol-resize --pool "$POOL" "$VOLUME" "${SIZE}B" >/dev/null
        log "grew the project disk of $DOMAIN from $(human_size "$current") to $(human_size "$SIZE")"
    fi
    echo "$SIZE"
}
