# shellcheck shell=bash
# A project VM's power state, which the libvirt provider cannot manage (running=false never stops
# a domain, and any update starts a stopped one).
# Settings: DOMAIN; DESIRED=running|stopped for power_apply; SHUTDOWN_TIMEOUT seconds (default 180).

# ACPI shutdown, as `virsh shutdown`; the button is pressed again every 20 s (a guest still
# booting may miss it) and the domain is forced off after SHUTDOWN_TIMEOUT.
power_stop() {
    : "${DOMAIN:?}"
    local timeout=${SHUTDOWN_TIMEOUT:-180} waited=0 state
    state=$(domain_state "$DOMAIN")
    if [ -z "$state" ] || [ "$state" = "shut off" ]; then
        log "$DOMAIN is not running"
        return 0
    fi
    log "shutting down $DOMAIN (ACPI; forced off after ${timeout}s)"
    while [ "$waited" -lt "$timeout" ]; do
        if [ $((waited % 20)) -eq 0 ]; then
            v shutdown "$DOMAIN" --mode acpi >/dev/null 2>&1 || true
        fi
        sleep 2
        waited=$((waited + 2))
        state=$(domain_state "$DOMAIN")
        if [ -z "$state" ] || [ "$state" = "shut off" ]; then
            log "$DOMAIN shut down after ${waited}s"
            return 0
        fi
    done
    log "$DOMAIN did not shut down within ${timeout}s: forcing it off"
    v destroy "$DOMAIN" >/dev/null
}

power_start() {
    : "${DOMAIN:?}"
    local state
    state=$(domain_state "$DOMAIN")
    [ -n "$state" ] || die "domain $DOMAIN does not exist"
    if [ "$state" = running ]; then
        log "$DOMAIN is running"
    else
        v start "$DOMAIN" >/dev/null
        log "started $DOMAIN"
    fi
}

power_apply() {
    case "${DESIRED:-}" in
        running) power_start ;;
        stopped) power_stop ;;
        *) die "DESIRED must be running or stopped, not '${DESIRED:-}'" ;;
    esac
    echo "$DESIRED"
}
