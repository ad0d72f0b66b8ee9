# shellcheck shell=bash
# Run before the program creates a project's domain (a Pulumi resource hook, where Pulumi runs).
# The libvirt provider defines a domain and then starts it: a start that fails, or a `pulumi up`
# stopped mid-create, leaves the domain defined in libvirt but not in Pulumi's state, and every
# later create would fail with "domain already exists" until someone ran virsh by hand. Such a
# leftover is removed here (stopped if it runs, then undefined; no storage is touched: its disks are
# the project's volumes, which Pulumi tracks or keeps), but only when it is provably this project's:
# its one NIC has the project's MAC (made from the stack and project name) and every disk it has
# lies in the project's folder. Any other domain of that name stops the create, named.

# Settings: DOMAIN (project-<name>), MAC (the project's), PROJECT_DIR (<storageDir>/<name>).
domain_slot_free() {
    : "${DOMAIN:?}" "${MAC:?}" "${PROJECT_DIR:?}"
    local names macs disks state foreign=""
    names=$(v list --all --name) || die "cannot list the domains at $LIBVIRT_URI"
    grep -qxF -- "$DOMAIN" <<<"$names" || return 0

    # domiflist: Interface Type Source Model MAC; domblklist --details: Type Device Target Source.
    macs=$(v domiflist "$DOMAIN" | awk 'NF >= 5 { print tolower($5) }') || die "cannot read the NICs of domain $DOMAIN"
    disks=$(v domblklist --details "$DOMAIN" | awk 'NF >= 4 && $4 != "-" { print $4 }') || die "cannot read the disks of domain $DOMAIN"
    [ "$macs" = "${MAC,,}" ] || foreign="its NICs have MAC ${macs//$'\n'/, } (this project's is $MAC)"
    local disk
    while IFS= read -r disk; do
        [ -n "$disk" ] || continue
        case "$disk" in
            "$PROJECT_DIR"/*) ;;
            *) foreign="${foreign:+$foreign; }it has the disk $disk outside $PROJECT_DIR" ;;
        esac
    done <<<"$disks"
    if [ -n "$foreign" ]; then
        die "a domain named $DOMAIN exists at $LIBVIRT_URI that is not this stack's ($foreign). Nothing was changed: rename or remove that domain, then run pulumi up again."
    fi

    state=$(domain_state "$DOMAIN")
    log "domain $DOMAIN is left over from a create that did not finish (defined in libvirt, not in Pulumi's state; $state): removing it, its disks kept"
    if [ "$state" != "shut off" ] && [ -n "$state" ]; then
        v destroy "$DOMAIN" >/dev/null || die "cannot stop the leftover domain $DOMAIN"
    fi
    v undefine "$DOMAIN" --managed-save --snapshots-metadata --checkpoints-metadata --nvram >/dev/null \
        || die "cannot undefine the leftover domain $DOMAIN"
}
