# shellcheck shell=bash
# Restores of a project disk from its backups (backup.sh, which this runs with, names and lists
# them), through libvirt; the restored disk is compared with the backup (qemu-img compare, on the
# libvirt host) before the restore is called done. Nothing here deletes a backup, and the disk a
# restore replaces is kept aside until restore_confirm.
#
# Settings: backup.sh's, and for restore_run BACKUP (the backup's volume), STAMP (the restore's
# time, naming the copy aside), STOP (true to shut a running VM down first), SHUTDOWN_TIMEOUT.

# Every volume of a backup's chain must be a backup of PROJECT in the backups folder.
backup_check_chain() {
    local vol=$1 path backing seen=" "
    while :; do
        backup_is_own "$vol" || die "'$vol' is not a backup of $PROJECT"
        [[ "$seen" != *" $vol "* ]] || die "the backup chain of $1 comes back to $vol: it cannot be restored"
        seen+="$vol "
        path=$(v vol-path --pool "$BACKUP_POOL" "$vol" 2>/dev/null) || die "there is no backup $vol in $BACKUP_POOL"
        backing=$(v vol-dumpxml --pool "$BACKUP_POOL" "$vol" | tr -d '\n' | sed -n 's:.*<backingStore>[[:space:]]*<path>\([^<]*\)</path>.*:\1:p')
        [ -n "$backing" ] || return 0
        [ "$(dirname "$backing")" = "$(dirname "$path")" ] || die "the backup $vol rests on $backing, outside the backups folder"
        vol=$(basename "$backing")
    done
}

backup_shutdown() {
    acpi_shutdown "$DOMAIN" "${SHUTDOWN_TIMEOUT:-180}"
}

# Replaces the project disk by a backup (its chain flattened). The disk it replaces is first
# copied aside as <VOLUME>.before-restore-<STAMP> in the project's pool and kept until
# restore_confirm; what was written is compared with the backup (a difference puts the disk back
# and fails); the VM is started again when it was running. Prints "<aside volume> verified", or
# "… unverified" when the comparison could not be made (said why).
restore_run() {
    backup_check_settings
    : "${DOMAIN:?}" "${PROJECT_POOL:?}" "${VOLUME:?}" "${STAMP:?}" "${BACKUP:?}"
    [[ "$STAMP" =~ ^[0-9]{8}T[0-9]{6}Z$ ]] || die "bad stamp '$STAMP'"
    v pool-info "$BACKUP_POOL" >/dev/null 2>&1 || die "there is no backups pool $BACKUP_POOL"
    v pool-refresh "$BACKUP_POOL" >/dev/null
    backup_check_chain "$BACKUP"
    local current state was_running=false aside="${VOLUME}.before-restore-${STAMP}" backup_capacity_bytes tmp
    current=$(backup_capacity "$PROJECT_POOL" "$VOLUME" 2>/dev/null) || current=""
    [ -n "$current" ] || die "there is no project disk $VOLUME in pool $PROJECT_POOL to restore into"
    backup_capacity_bytes=$(backup_capacity "$BACKUP_POOL" "$BACKUP")
    state=$(domain_state_sure "$DOMAIN")
    if [ "$state" = running ] || [ "$state" = paused ]; then
        [ "${STOP:-false}" = true ] || die "$DOMAIN is $state: a restore replaces its project disk, so it must be shut down first. Give --stop to shut it down (ACPI) and start it again afterwards, or '${PROJECT_VM_CMD:-project-vm} stop $PROJECT' first."
        was_running=true
        backup_shutdown
    elif [ -n "$state" ] && [ "$state" != "shut off" ]; then
        die "$DOMAIN is $state; shut it off first"
    fi
    tmp=$(mktemp)
    # 1. The disk as it is, copied aside: from here on there are two copies of it.
    backup_volume_xml "$aside" "$current" >"$tmp"
    log "copying the current project disk aside as $aside"
    v vol-create-from "$PROJECT_POOL" "$tmp" --inputpool "$PROJECT_POOL" "$VOLUME" >/dev/null || { rm -f "$tmp"; die "could not copy the project disk aside; nothing was changed"; }
    [ "$(backup_capacity "$PROJECT_POOL" "$aside")" = "$current" ] || { rm -f "$tmp"; die "the copy aside ($aside) does not have the disk's size; nothing else was changed"; }
    state=$(domain_state_sure "$DOMAIN")
    [ -z "$state" ] || [ "$state" = "shut off" ] || { rm -f "$tmp"; die "$DOMAIN was started meanwhile; the disk was not replaced (its copy $aside is kept)"; }
    # 2. The disk replaced by the backup, flattened, at least as large as it was. Interrupted from
    # here until it is written and compared, the disk as it was is put back.
    RESTORE_ASIDE=$aside RESTORE_CAPACITY=$current
    trap 'restore_interrupted 130' INT
    trap 'restore_interrupted 143' TERM
    trap 'restore_interrupted 129' HUP
    v vol-delete --pool "$PROJECT_POOL" "$VOLUME" >/dev/null
    local size=$current
    [ "$backup_capacity_bytes" -le "$current" ] || size=$backup_capacity_bytes
    backup_volume_xml "$VOLUME" "$size" >"$tmp"
    log "writing $BACKUP to the project disk"
    if ! v vol-create-from "$PROJECT_POOL" "$tmp" --inputpool "$BACKUP_POOL" "$BACKUP" >/dev/null; then
        rm -f "$tmp"
        log "writing the backup failed: putting the disk as it was back from $aside"
        restore_put_back "$aside" "$current"
        die "restoring $BACKUP failed; the disk as it was is kept as $aside in pool $PROJECT_POOL"
    fi
    rm -f "$tmp"
    if [ "$(backup_capacity "$PROJECT_POOL" "$VOLUME")" -lt "$size" ]; then
        v vol-resize --pool "$PROJECT_POOL" "$VOLUME" "${size}B" >/dev/null
    fi
    # 3. What was written compared with the backup before it is called done.
    local verdict=verified rc=0
    restore_verify || rc=$?
    if [ "$rc" = 1 ]; then
        log "the restored disk differs from $BACKUP: putting the disk as it was back from $aside"
        restore_put_back "$aside" "$current"
        die "restoring $BACKUP failed: what was written differs from the backup; the disk as it was is back, and kept as $aside in pool $PROJECT_POOL"
    elif [ "$rc" != 0 ]; then
        verdict=unverified
        log "WARNING: the restored disk was NOT compared with $BACKUP (see above); check it before '${PROJECT_VM_CMD:-project-vm} restore --confirm $PROJECT'"
    fi
    trap - INT TERM HUP
    log "restored $BACKUP to the project disk of $DOMAIN; the replaced disk is kept as $aside"
    if [ "$was_running" = true ]; then
        v start "$DOMAIN" >/dev/null
        log "started $DOMAIN again"
    fi
    echo "$aside $verdict"
}

# A signal while the disk is being replaced: the disk as it was is put back, then the exit.
restore_interrupted() {
    trap - INT TERM HUP
    log "interrupted: putting the project disk as it was back from $RESTORE_ASIDE"
    restore_put_back "$RESTORE_ASIDE" "$RESTORE_CAPACITY"
    log "the project disk of $DOMAIN is as it was before the restore (also kept as $RESTORE_ASIDE)"
    exit "$1"
}

# The project disk put back from the copy aside $1 (of $2 bytes) after a failed restore.
restore_put_back() {
    local aside=$1 capacity=$2 tmp
    tmp=$(mktemp)
    v vol-delete --pool "$PROJECT_POOL" "$VOLUME" >/dev/null 2>&1 || true
    backup_volume_xml "$VOLUME" "$capacity" >"$tmp"
    v vol-create-from "$PROJECT_POOL" "$tmp" --inputpool "$PROJECT_POOL" "$aside" >/dev/null || true
    rm -f "$tmp"
}

# Compares the restored project disk with the backup it was written from (read through its chain)
# with qemu-img compare, on the libvirt host: here for qemu:///…, through ssh for qemu+ssh://.
# Returns 0 when they hold the same data, 1 when they differ, 2 when it could not compare (says why).
restore_verify() {
    local src dst run=() target out rc=0
    src=$(v vol-path --pool "$BACKUP_POOL" "$BACKUP") dst=$(v vol-path --pool "$PROJECT_POOL" "$VOLUME")
    if ! [[ "$src" =~ ^/[A-Za-z0-9._/-]+$ && "$dst" =~ ^/[A-Za-z0-9._/-]+$ ]]; then
        log "cannot compare: unexpected volume paths '$src', '$dst'"
        return 2
    fi
    case "$LIBVIRT_URI" in
        qemu:///*) ;;
        qemu+ssh://*)
            target=${LIBVIRT_URI#qemu+ssh://}
            run=(ssh -o BatchMode=yes -- "${target%%/*}")
            ;;
        *) log "cannot compare on $LIBVIRT_URI"; return 2 ;;
    esac
    log "comparing the restored disk with $BACKUP (qemu-img compare)"
    out=$("${run[@]}" qemu-img compare -U -f qcow2 -F qcow2 "$src" "$dst" 2>&1) || rc=$?
    case "$rc" in
        0) log "the restored disk holds what $BACKUP holds" ;;
        1) log "qemu-img compare: $(tr '\n' ' ' <<<"$out")" ;;
        *) log "could not compare (exit $rc): $(tr '\n' ' ' <<<"$out")"; rc=2 ;;
    esac
    return "$rc"
}

# The disks a restore kept aside: "<volume> <allocation bytes>" a line.
restore_kept() {
    backup_check_settings
    : "${PROJECT_POOL:?}" "${VOLUME:?}"
    backup_pool_exists "$PROJECT_POOL" || return 0
    v pool-refresh "$PROJECT_POOL" >/dev/null 2>&1 || true
    local vol vols
    vols=$(v vol-list "$PROJECT_POOL" | awk 'NF {print $1}')
    for vol in $vols; do
        [[ "$vol" =~ ^${VOLUME//./\\.}\.before-restore-[0-9]{8}T[0-9]{6}Z$ ]] || continue
        printf '%s %s\n' "$vol" "$(backup_allocation "$PROJECT_POOL" "$vol")"
    done
}

# Deletes the disks a restore kept aside (the user has checked the restored disk).
restore_confirm() {
    local vol
    for vol in $(restore_kept | awk '{print $1}'); do
        v vol-delete --pool "$PROJECT_POOL" "$vol" >/dev/null
        log "deleted $vol, the project disk as it was before a restore"
        echo "$vol"
    done
}
