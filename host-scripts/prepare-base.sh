# shellcheck shell=bash
# A prepared layer of a base image: a builder VM boots an overlay of the base image with the
# shared part of the provisioning (components/prepare.ts renders its user-data), the host waits for
# cloud-init through the guest agent (ready.sh's ready_wait: a failing step fails here, named),
# seals it (seal.sh in the guest: every per-machine trace removed), shuts it down, and the overlay
# is flattened into the read-only volume $PREPARED_VOLUME beside the base image, marked complete
# by a small volume <layer>.done. The builder and its volumes go away whatever happens. Only virsh is used, so this works over
# qemu+ssh:// as well; the seed ISO is made here (mkisofs or genisoimage) and uploaded.
#
# Settings: POOL (the base pool), BASE_VOLUME, PREPARED_VOLUME (volume names in POOL);
# USER_DATA, META_DATA (the builder's NoCloud files); INSTANCE_ID (the one in META_DATA);
# BUILDER_NETWORK (network:<name>, bridge:<name> or user); PREPARED_BYTES (virtual size);
# BUILD_TIMEOUT seconds (default 1800); BUILDER_MEMORY MiB (default 2048), BUILDER_CPUS (default 2);
# DOMAIN_MACHINE, CPU_XML_KVM, CPU_XML_QEMU (the shape of every project-vms domain: domainShape.ts).
# Optional, for images without a boot loader: BUILDER_KERNEL, BUILDER_INITRD, BUILDER_CMDLINE
# (files on the host); BUILDER_CONSOLE_LOG, a file on the host for the builder's serial console. The domain type is kvm when the host offers it, else qemu (emulation), or
# TERRAFORM_LIBVIRT_TEST_DOMAIN_TYPE when set, as the libvirt provider reads it.
# Prints the prepared volume's path. Needs ready.sh's functions and jq.

# XML text: & < > ' " escaped (the settings are validated by the program; this is a second guard).
xml_text() {
    local s=$1
    s=${s//&/&amp;}
    s=${s//</&lt;}
    s=${s//>/&gt;}
    s=${s//\'/&apos;}
    s=${s//\"/&quot;}
    printf '%s' "$s"
}

# The domain type to try first: TERRAFORM_LIBVIRT_TEST_DOMAIN_TYPE when set (as the libvirt
# provider reads it), else kvm when libvirt offers it on this host, else qemu.
builder_domain_type() {
    if [ -n "${TERRAFORM_LIBVIRT_TEST_DOMAIN_TYPE:-}" ]; then
        echo "$TERRAFORM_LIBVIRT_TEST_DOMAIN_TYPE"
    elif v domcapabilities --virttype kvm >/dev/null 2>&1; then
        echo kvm
    else
        echo qemu
    fi
}

# Starts the transient builder from its XML; a host that lists KVM but cannot run it (no access
# to /dev/kvm) gets the builder under emulation instead, said so.
builder_start() {
    local xml=$1 out
    builder_xml "$(v vol-path --pool "$POOL" "$BUILDER.qcow2")" "$(v vol-path --pool "$POOL" "$BUILDER-seed.iso")" >"$xml"
    if out=$(v create "$xml" 2>&1); then return 0; fi
    if [ "$DOMAIN_TYPE" = kvm ] && grep -qi kvm <<<"$out"; then
        log "KVM is listed but cannot run here ($(tail -n 1 <<<"$out")); building under emulation (qemu), which is much slower"
        DOMAIN_TYPE=qemu
        builder_xml "$(v vol-path --pool "$POOL" "$BUILDER.qcow2")" "$(v vol-path --pool "$POOL" "$BUILDER-seed.iso")" >"$xml"
        out=$(v create "$xml" 2>&1) && return 0
    fi
    die "could not start the builder $BUILDER: $out"
}

# The builder's NIC element.
builder_nic() {
    case "$BUILDER_NETWORK" in
        network:?*) printf "<interface type='network'><source network='%s'/><model type='virtio'/></interface>" "$(xml_text "${BUILDER_NETWORK#network:}")" ;;
        bridge:?*) printf "<interface type='bridge'><source bridge='%s'/><model type='virtio'/></interface>" "$(xml_text "${BUILDER_NETWORK#bridge:}")" ;;
        user) printf "<interface type='user'><model type='virtio'/></interface>" ;;
        *) die "BUILDER_NETWORK must be network:<name>, bridge:<name> or user, not '$BUILDER_NETWORK'" ;;
    esac
}

# The builder's domain XML: pc machine (the seed CD on IDE), the guest agent channel, discard on
# the disk (seal.sh trims, so the layer holds only what is used).
builder_xml() {
    local disk=$1 seed=$2 boot="" cpu="" nic
    # Made here, not inside the here-document, where a failure would go unnoticed.
    nic=$(builder_nic)
    if [ -n "${BUILDER_KERNEL:-}" ]; then
        boot="<kernel>$(xml_text "$BUILDER_KERNEL")</kernel><initrd>$(xml_text "${BUILDER_INITRD:?BUILDER_KERNEL needs BUILDER_INITRD}")</initrd><cmdline>$(xml_text "${BUILDER_CMDLINE:-root=LABEL=root ro console=ttyS0}")</cmdline>"
    fi
    # The shape shared with the program's VMs (components/domainShape.ts, through prepare.ts).
    if [ "$DOMAIN_TYPE" = kvm ]; then cpu=${CPU_XML_KVM:?}; else cpu=${CPU_XML_QEMU:?}; fi
    local serial="<serial type='pty'><target port='0'/></serial>"
    if [ -n "${BUILDER_CONSOLE_LOG:-}" ]; then
        serial="<serial type='file'><source path='$(xml_text "$BUILDER_CONSOLE_LOG")'/><target port='0'/></serial>"
    fi
    cat <<XML
<domain type='$DOMAIN_TYPE'>
  <name>$(xml_text "$BUILDER")</name>
  <memory unit='MiB'>${BUILDER_MEMORY:-2048}</memory><vcpu>${BUILDER_CPUS:-2}</vcpu>
  <os><type arch='x86_64' machine='$(xml_text "${DOMAIN_MACHINE:?}")'>hvm</type>$boot<boot dev='hd'/></os>
  <features><acpi/><apic/></features>
  $cpu
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2' discard='unmap'/><source file='$(xml_text "$disk")'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='$(xml_text "$seed")'/><target dev='hdd' bus='ide'/><readonly/></disk>
    $nic
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    $serial
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
  </devices>
</domain>
XML
}

# Removes the builder domain and its volumes (whatever of them exists), and the layer when this
# run began writing it (it did not exist before: prepare_base checked) and did not mark it complete.
builder_cleanup() {
    v destroy "$BUILDER" >/dev/null 2>&1 || true
    v vol-delete --pool "$POOL" "$BUILDER.qcow2" >/dev/null 2>&1 || true
    v vol-delete --pool "$POOL" "$BUILDER-seed.iso" >/dev/null 2>&1 || true
    if [ "${PREPARE_WRITING:-}" = 1 ]; then
        v vol-delete --pool "$POOL" "$PREPARED_VOLUME" >/dev/null 2>&1 || true
    fi
}

# On exit: the builder's remains (only while holding the layer's lock: another build's are its
# own), then the lock, then the work folder.
prepare_cleanup() {
    if [ "${LAYER_LOCKED:-}" = 1 ]; then
        builder_cleanup
        v vol-delete --pool "$POOL" "$LAYER_LOCK" >/dev/null 2>&1 || true
    fi
    rm -rf -- "$PREPARE_WORK"
}

# Whether volume $1 is in the pool's listing $2 (from one vol-list that succeeded).
listed() {
    awk -v n="$1" '$1 == n { found = 1 } END { exit !found }' <<<"$2"
}

# Whether the pool's listing $1 holds the layer, complete (with its marker).
layer_done() {
    listed "$PREPARED_VOLUME" "$1" && listed "$MARKER" "$1"
}

# This machine's boot, to tell a process ID of this boot from one of another.
boot_id() {
    cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo -
}

# Whether the holder line $1 of a layer lock ("<host> <pid> <boot id> <deadline>") names a build
# that is gone: a process of this machine's boot that no longer runs, or a deadline (in epoch
# seconds) passed. A holder of another machine is trusted until its deadline.
layer_lock_stale() {
    local host pid boot deadline
    read -r host pid boot deadline <<<"$1"
    [[ $deadline =~ ^[0-9]+$ ]] || return 1
    [ "$(date +%s)" -gt "$deadline" ] && return 0
    [ "$host" = "$(hostname)" ] && [ "$boot" = "$(boot_id)" ] && [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null
}

# The holder line of the layer lock, or nothing when it cannot be read.
layer_lock_holder() {
    rm -f -- "$PREPARE_WORK/holder"
    v vol-download --pool "$POOL" "$LAYER_LOCK" "$PREPARE_WORK/holder" >/dev/null 2>&1 || return 0
    head -n 1 -- "$PREPARE_WORK/holder" | tr -cd '[:alnum:] ._:-'
}

# One build per layer on the host, whoever runs it (the base pool is the host's, shared by every
# stack and workstation): a lock volume <builder>.lock, which libvirt creates only while no volume
# has its name, holding who builds and until when. Waits (up to PREPARE_LOCK_WAIT seconds, default
# the build's time and an hour) for a live holder; takes over from one that is gone. Returns 1,
# without the lock, when the layer was completed meanwhile.
layer_lock() {
    local me holder waited=0 wait=${PREPARE_LOCK_WAIT:-$((${BUILD_TIMEOUT:-1800} + 3600))} told="" volumes takeover_waits=0
    me="$(hostname) $$ $(boot_id) $(($(date +%s) + ${BUILD_TIMEOUT:-1800} + 3600))"
    for (( ; ; )); do
        if v vol-create-as "$POOL" "$LAYER_LOCK" 512 --format raw >/dev/null 2>&1; then
            LAYER_LOCKED=1
            printf '%s\n' "$me" >"$PREPARE_WORK/lock"
            v vol-upload --pool "$POOL" "$LAYER_LOCK" "$PREPARE_WORK/lock" || die "could not write the build lock $LAYER_LOCK"
            return 0
        fi
        holder=$(layer_lock_holder)
        if [ -n "$holder" ] && layer_lock_stale "$holder"; then
            # Taken over by one waiter only: under a second lock, and only if the lock still
            # names the same build (another waiter may have taken it over meanwhile).
            if v vol-create-as "$POOL" "$LAYER_LOCK.takeover" 512 --format raw >/dev/null 2>&1; then
                if [ "$(layer_lock_holder)" = "$holder" ]; then
                    log "taking over the build of $PREPARED_VOLUME: its lock names a build that is gone ($holder)"
                    v vol-delete --pool "$POOL" "$LAYER_LOCK" >/dev/null 2>&1 || true
                fi
                v vol-delete --pool "$POOL" "$LAYER_LOCK.takeover" >/dev/null 2>&1 || true
                continue
            fi
            # Another waiter is taking it over; one that died at it leaves its mark for a minute at most.
            takeover_waits=$((${takeover_waits:-0} + 1))
            if [ "$takeover_waits" -ge 6 ]; then
                v vol-delete --pool "$POOL" "$LAYER_LOCK.takeover" >/dev/null 2>&1 || true
                takeover_waits=0
            fi
        fi
        if [ "$waited" -ge "$wait" ]; then
            die "another build of $PREPARED_VOLUME holds its lock ($LAYER_LOCK in pool $POOL: ${holder:-unreadable}) after ${waited}s. If no build runs, delete it ('virsh -c $LIBVIRT_URI vol-delete --pool $POOL $LAYER_LOCK') and run pulumi up again"
        fi
        [ -n "$told" ] || log "waiting for the build of $PREPARED_VOLUME that holds its lock (${holder:-just taken})"
        told=1
        sleep 10
        waited=$((waited + 10))
        volumes=$(v vol-list --pool "$POOL" 2>/dev/null) || continue
        if layer_done "$volumes"; then
            log "prepared layer $PREPARED_VOLUME was completed by the other build"
            return 1
        fi
    done
}

prepare_base() {
    : "${POOL:?}" "${BASE_VOLUME:?}" "${PREPARED_VOLUME:?}" "${USER_DATA:?}" "${META_DATA:?}" "${INSTANCE_ID:?}" "${BUILDER_NETWORK:?}" "${PREPARED_BYTES:?}"
    [[ $PREPARED_VOLUME =~ ^[A-Za-z0-9._-]+-prepared-[0-9a-f]{12}\.qcow2$ ]] || die "prepared volume name '$PREPARED_VOLUME' is not <base>-prepared-<12 hex>.qcow2"
    builder_nic >/dev/null
    # A layer counts only with its completion marker, made once the copy has finished: a volume of
    # the name alone may be the remains of an interrupted copy (or one libvirt is still writing).
    # Decided from one listing that succeeded, never from a failed query (over qemu+ssh:// a query
    # can fail for reasons that say nothing about the volume). A layer is never deleted here: VMs
    # may be built on it.
    MARKER="${PREPARED_VOLUME%.qcow2}.done"
    # Named after the layer (base and recipe): builds of two layers never share a builder.
    BUILDER="project-vms-builder-$(printf '%s' "$PREPARED_VOLUME" | sha256sum | cut -c 1-12)"
    LAYER_LOCK="$BUILDER.lock"
    v pool-refresh "$POOL" >/dev/null
    local volumes
    volumes=$(v vol-list --pool "$POOL") || die "could not list the volumes of pool $POOL"
    if layer_done "$volumes"; then
        log "prepared layer $PREPARED_VOLUME is there already"
        v vol-path --pool "$POOL" "$PREPARED_VOLUME"
        return 0
    fi
    local work
    work=$(mktemp -d)
    PREPARE_WORK=$work
    trap 'prepare_cleanup' EXIT
    trap 'exit 130' INT TERM
    if ! layer_lock; then
        v vol-path --pool "$POOL" "$PREPARED_VOLUME"
        return 0
    fi
    # Under the lock: what is there now is no other build's work in progress.
    volumes=$(v vol-list --pool "$POOL") || die "could not list the volumes of pool $POOL"
    if layer_done "$volumes"; then
        log "prepared layer $PREPARED_VOLUME is there already"
        v vol-path --pool "$POOL" "$PREPARED_VOLUME"
        return 0
    fi
    if listed "$PREPARED_VOLUME" "$volumes"; then
        die "$PREPARED_VOLUME is in pool $POOL without its completion marker $MARKER: a build was interrupted while writing it (no build holds its lock now). VMs may rest on it, so it is not deleted here: if none does, delete it ('virsh -c $LIBVIRT_URI vol-delete --pool $POOL $PREPARED_VOLUME') and run pulumi up again"
    fi
    if listed "$MARKER" "$volumes"; then
        log "removing the completion marker $MARKER of a layer that is gone"
        v vol-delete --pool "$POOL" "$MARKER" >/dev/null
    fi
    listed "$BASE_VOLUME" "$volumes" || die "base image volume $BASE_VOLUME is not in pool $POOL"

    # shellcheck disable=SC2034 # the domain ready_wait and guest_exec talk to
    DOMAIN=$BUILDER
    DOMAIN_TYPE=$(builder_domain_type)
    local started=$SECONDS
    # Leftovers of an interrupted build of the same layer (under the lock: no build's own).
    builder_cleanup

    log "building the prepared layer $PREPARED_VOLUME from $BASE_VOLUME in $BUILDER ($DOMAIN_TYPE)"
    # The seed ISO, made here and uploaded (the libvirt host may be another machine).
    printf '%s' "$USER_DATA" >"$work/user-data"
    printf '%s' "$META_DATA" >"$work/meta-data"
    local mkiso
    mkiso=$(command -v mkisofs || command -v genisoimage) || die "mkisofs (or genisoimage) is needed where Pulumi runs"
    "$mkiso" -quiet -output "$work/seed.iso" -volid cidata -joliet -rock "$work/user-data" "$work/meta-data"
    v vol-create-as "$POOL" "$BUILDER-seed.iso" "$(stat -c %s "$work/seed.iso")" --format raw >/dev/null
    v vol-upload --pool "$POOL" "$BUILDER-seed.iso" "$work/seed.iso"
    v vol-create-as "$POOL" "$BUILDER.qcow2" "$PREPARED_BYTES" --format qcow2 \
        --backing-vol "$BASE_VOLUME" --backing-vol-format qcow2 >/dev/null
    # Transient: gone from libvirt once it powers off or is destroyed.
    builder_start "$work/builder.xml"

    # shellcheck disable=SC2034 # read by ready_wait
    READY_TIMEOUT=${BUILD_TIMEOUT:-1800}
    ready_wait >/dev/null

    # shellcheck disable=SC2034 # guest_exec's deadline
    deadline=$((SECONDS + 600))
    log "sealing $BUILDER (per-machine traces removed)"
    guest_exec /usr/local/lib/project-vms/seal.sh >&2 || die "$BUILDER: sealing failed (see above)"
    # Powered off from here, once the seal has reported: nothing races the agent's answer.
    acpi_shutdown "$BUILDER" 300

    # Flattened into one standalone image (what a VM reads stays the same; the base is not needed
    # by it), then marked complete. Whatever stops the copy, the EXIT trap removes the layer.
    log "writing $PREPARED_VOLUME"
    printf "<volume><name>%s</name><target><format type='qcow2'/><compat>1.1</compat></target></volume>" "$(xml_text "$PREPARED_VOLUME")" >"$work/vol.xml"
    PREPARE_WRITING=1
    v vol-create-from "$POOL" "$work/vol.xml" "$BUILDER.qcow2" --inputpool "$POOL" >/dev/null || die "could not write $PREPARED_VOLUME"
    v vol-create-as "$POOL" "$MARKER" 512 --format raw >/dev/null || die "could not mark $PREPARED_VOLUME complete"
    # Marked: from here on the layer is kept, whatever happens.
    PREPARE_WRITING=0
    log "prepared layer $PREPARED_VOLUME built in $((SECONDS - started))s"
    v vol-path --pool "$POOL" "$PREPARED_VOLUME"
}
