# shellcheck shell=bash
# A project VM's power state, which the libvirt provider cannot manage (running=false never stops
# a domain, and any update starts a stopped one).
# Settings: DOMAIN; DESIRED=running|stopped for power_apply; SHUTDOWN_TIMEOUT seconds (default 180).

# ACPI shutdown, as `virsh shutdown`; the button is pressed again every 20 s (a guest still
# booting may miss it) and the domain is forced off after SHUTDOWN_TIMEOUT.
power_stop() {
    : "${DOMAIN:?}"
    local state
    # Sure: "not running" guessed for a running VM would let it be deleted or replaced unshut.
    state=$(domain_state_sure "$DOMAIN")
    if [ -z "$state" ] || [ "$state" = "shut off" ]; then
        log "$DOMAIN is not running"
        return 0
    fi
    acpi_shutdown "$DOMAIN" "${SHUTDOWN_TIMEOUT:-180}"
}

power_start() {
    : "${DOMAIN:?}"
    local state
    state=$(domain_state_sure "$DOMAIN")
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
