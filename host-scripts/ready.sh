# shellcheck shell=bash
# Waits until cloud-init has finished in a new VM, asking the guest through the QEMU guest agent
# (libvirt's channel; no network path or SSH key needed), and fails with cloud-init's own account
# of the failing step and the tail of /var/log/cloud-init-output.log.
# A VM whose provisioning failed is rebooted to provision again once a new config is attached.
# Needs jq where Pulumi runs. guest_exec is in lib.sh.

# Waits until the guest agent answers (until $deadline).
wait_for_agent() {
    until v qemu-agent-command "$DOMAIN" '{"execute":"guest-ping"}' >/dev/null 2>&1; do
        [ "$(domain_state "$DOMAIN")" = running ] || die "$DOMAIN is not running (state: '$(domain_state "$DOMAIN")')"
        [ "$SECONDS" -lt "$deadline" ] || die "$DOMAIN: the QEMU guest agent did not answer in time. Provisioning failed before it installed qemu-guest-agent, or the VM does not boot: see 'virsh -c $LIBVIRT_URI console $DOMAIN'"
        sleep 5
    done
}

# Reboots the guest and waits until it is back (a new boot ID) with its agent.
reboot_guest() {
    local boot_id
    boot_id=$(guest_exec cat /proc/sys/kernel/random/boot_id) || true
    v reboot "$DOMAIN" --mode agent >/dev/null 2>&1 || v reboot "$DOMAIN" --mode acpi >/dev/null
    while :; do
        sleep 5
        [ "$SECONDS" -lt "$deadline" ] || die "$DOMAIN did not come back from its reboot in time"
        wait_for_agent
        [ "$(guest_exec cat /proc/sys/kernel/random/boot_id 2>/dev/null)" != "$boot_id" ] && return 0
    done
}

# Settings: DOMAIN; READY_TIMEOUT seconds (default 1800); INSTANCE_ID, the instance-id of the
# cloud-init disk now attached (the config pulumi up just applied).
ready_wait() {
    : "${DOMAIN:?}"
    local timeout=${READY_TIMEOUT:-1800} output code=0 current
    deadline=$((SECONDS + timeout))
    log "waiting up to ${timeout}s for cloud-init in $DOMAIN"
    wait_for_agent
    output=$(guest_exec cloud-init status --wait --long) || code=$?
    if [ -n "${INSTANCE_ID:-}" ] && [ "$code" -ne 124 ]; then
        current=$(guest_exec cat /var/lib/cloud/data/instance-id) || current=""
        if [ "$current" != "$INSTANCE_ID" ] && [ "$code" -eq 1 ]; then
            # It failed with an older config: provision it again with the one now attached.
            log "$DOMAIN failed provisioning as $current; rebooting it to provision as $INSTANCE_ID"
            reboot_guest
            code=0
            output=$(guest_exec cloud-init status --wait --long) || code=$?
        elif [ "$current" != "$INSTANCE_ID" ]; then
            log "$DOMAIN runs config $current; the new one ($INSTANCE_ID) applies at its next boot"
        fi
    fi
    case "$code" in
        0)
            log "$DOMAIN is ready: cloud-init finished"
            ;;
        2)
            log "$DOMAIN is ready; cloud-init reported warnings:"
            printf '%s\n' "$output" >&2
            ;;
        124)
            die "$DOMAIN: cloud-init did not finish within ${timeout}s"
            ;;
        *)
            log "$DOMAIN: provisioning FAILED. cloud-init status --long:"
            printf '%s\n' "$output" >&2
            # The log's last lines up to cloud-init's "finished" line: output that other services
            # add afterwards (late host key messages) would push the failing step out of view.
            log "last lines of /var/log/cloud-init-output.log:"
            deadline=$((SECONDS + 60))
            # shellcheck disable=SC2016 # expanded by the guest's shell
            guest_exec sh -c 'log=/var/log/cloud-init-output.log
                end=$(grep -n "^Cloud-init v\. .* finished at" "$log" | tail -n 1 | cut -d: -f1)
                if [ -n "$end" ]; then head -n "$end" "$log" | tail -n 40; else tail -n 40 "$log"; fi' >&2 || true
            die "$DOMAIN: cloud-init failed (see above); fix the config and run pulumi up again, or log in to look"
            ;;
    esac
    echo ready
}

# The update of a readiness command: its inputs changed (a new config, or only a new version of
# this program). A VM that is not running has nothing to wait for: its config applies at its next
# start, which is not this command's to make. A running one is waited for as a new one is.
ready_recheck() {
    : "${DOMAIN:?}"
    local state
    # Sure: a running VM taken for off here would be called ready without being waited for.
    state=$(domain_state_sure "$DOMAIN")
    if [ "$state" != running ]; then
        log "$DOMAIN is ${state:-not defined}: nothing to wait for; its config applies when it next starts"
        echo ready
        return 0
    fi
    ready_wait
}
