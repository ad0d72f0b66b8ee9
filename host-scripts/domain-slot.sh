# shellcheck shell=bash
# Run before the program creates a project's domain (a Pulumi resource hook, where Pulumi runs).
# The libvirt provider defines a domain and then starts it: a start that fails, or a `pulumi up`
# stopped mid-create, leaves the domain defined in libvirt but not in Pulumi's state, and every
# later create would fail with "domain already exists" until someone ran virsh by hand. Such a
# leftover is removed here (shut down through ACPI if it runs, then undefined; no storage is touched:
# its disks are the project's volumes, which Pulumi tracks or keeps), but only when it is provably
# this project's: its one NIC has the project's MAC (made from the stack and project name), every
# disk it has is a plain file in the project's folder, and it holds no saved memory. Any other
# domain of that name stops the create, named.

# Settings: DOMAIN (project-<name>), MAC (the project's), PROJECT_DIR (<storageDir>/<name>),
# SHUTDOWN_TIMEOUT (seconds of ACPI shutdown for a leftover that runs).
domain_slot_free() {
    : "${DOMAIN:?}" "${MAC:?}" "${PROJECT_DIR:?}" "${SHUTDOWN_TIMEOUT:?}"
    local names macs disks info state foreign=""
    names=$(v list --all --name) || die "cannot list the domains at $LIBVIRT_URI"
    grep -qxF -- "$DOMAIN" <<<"$names" || return 0

    # domiflist: Interface Type Source Model MAC; domblklist --details: Type Device Target Source.
    macs=$(v domiflist "$DOMAIN" | awk 'NF >= 5 { print tolower($5) }') || die "cannot read the NICs of domain $DOMAIN"
    disks=$(v domblklist --details "$DOMAIN") || die "cannot read the disks of domain $DOMAIN"
    [ "$macs" = "${MAC,,}" ] || foreign="its NICs have MAC ${macs//$'\n'/, } (this project's is $MAC)"
    local type device target source extra
    while read -r type device target source extra; do
        [ -n "$type" ] || continue
        # An empty CD-ROM has no source.
        if [ "$source" = "-" ] && [ "$device" = cdrom ]; then continue; fi
        # Only plain files in the project's own folder: no network disk, no path that climbs out
        # of it, none with a space (which this listing cannot show whole).
        if [ "$type" != file ] || [ -n "$extra" ] || [[ "$source" == *"/../"* ]] || [[ "$source" == *"/.." ]]; then
            foreign="${foreign:+$foreign; }it has the $type disk $target (${source}${extra:+ $extra})"
            continue
        fi
        case "$source" in
            "$PROJECT_DIR"/*) ;;
            *) foreign="${foreign:+$foreign; }it has the disk $source outside $PROJECT_DIR" ;;
        esac
    done <<<"$disks"
    # A leftover of a create never had its memory saved: a managed save is someone's suspended VM.
    info=$(v dominfo "$DOMAIN") || die "cannot read domain $DOMAIN"
    if grep -qE '^Managed save: +yes' <<<"$info"; then
        foreign="${foreign:+$foreign; }it has a managed save (a suspended VM's memory)"
    fi
    if [ -n "$foreign" ]; then
        die "a domain named $DOMAIN exists at $LIBVIRT_URI that is not this stack's ($foreign). Nothing was changed: rename or remove that domain, then run pulumi up again."
    fi

    state=$(domain_state_sure "$DOMAIN")
    log "domain $DOMAIN is left over from a create that did not finish (defined in libvirt, not in Pulumi's state; $state): removing it, its disks kept"
    # A leftover may be in the middle of its first boot: shut down gracefully before it goes.
    if [ -n "$state" ] && [ "$state" != "shut off" ]; then
        acpi_shutdown "$DOMAIN" "$SHUTDOWN_TIMEOUT"
    fi
    v undefine "$DOMAIN" --snapshots-metadata --checkpoints-metadata --nvram >/dev/null \
        || die "cannot undefine the leftover domain $DOMAIN"
}
