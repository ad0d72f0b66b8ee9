# shellcheck shell=bash
# Backups of a project disk, through libvirt only (works over qemu+ssh://). The backups folder is
# the libvirt dir pool BACKUP_POOL; a project's backups are its volumes
#   <project>--<UTC stamp>--full.qcow2   the whole disk
#   <project>--<UTC stamp>--inc.qcow2    a qcow2 overlay over the project's previous backup that
#                                        holds only the clusters written since it (so each is
#                                        the whole disk at its time, read through its chain)
# A running VM is backed up with QEMU's backup job (virsh backup-begin, push mode) while its
# filesystems are frozen through the guest agent, and thawed as soon as the job has started (the
# point in time is fixed then), on every path out. Incrementals use a checkpoint (a persistent
# dirty bitmap in project.qcow2) whose libvirt metadata is deleted after each backup and
# redefined before the next, so that no metadata ever stops the provider from replacing the
# domain. A stopped VM is copied with vol-create-from. Nothing here deletes a project disk.
#
# Settings: PROJECT, DOMAIN, PROJECT_POOL, VOLUME (project.qcow2), TARGET (vdb), BACKUP_POOL,
# BACKUP_DIR, STAMP (20261127T111500Z) and EPOCH (its seconds); for backup_take KIND (full|inc),
# PARENT and PARENT_EPOCH (the previous backup, for inc), OLD (recent backups, <stamp>:<epoch>
# space-separated, whose bitmaps may be left in the disk); for backup_delete VOLUMES
# (space-separated). Restores are restore.sh, which runs with this file.

# Names and paths that may appear in commands and XML: allow-listed, so nothing needs escaping.
backup_check_settings() {
    : "${PROJECT:?}" "${BACKUP_POOL:?}"
    [[ "$PROJECT" =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ ]] || die "bad project name '$PROJECT'"
    [[ "$BACKUP_POOL" =~ ^[A-Za-z0-9_.-]+$ ]] || die "bad pool name '$BACKUP_POOL'"
    if [ -n "${BACKUP_DIR:-}" ]; then
        [[ "$BACKUP_DIR" =~ ^/[A-Za-z0-9._/-]*$ && "$BACKUP_DIR" != *..* ]] || die "bad backups folder '$BACKUP_DIR'"
    fi
}

# Whether a volume name is one of PROJECT's backups (and only then).
backup_is_own() {
    [[ "$1" =~ ^${PROJECT}--[0-9]{8}T[0-9]{6}Z--(full|inc)\.qcow2$ ]]
}

# The backups pool, made idempotently (as pool.sh makes pools); never deleted by the program.
backup_pool_ensure() {
    : "${BACKUP_DIR:?}"
    dir_pool_ensure "$BACKUP_POOL" "$BACKUP_DIR" "the stack's backups.dir: move the backups there, or set backups.dir to where they are"
}

# Volume XML for a qcow2 v3 (persistent bitmaps, zero clusters) of `capacity` bytes, optionally
# an overlay over `backing` (a path; a relative one is written as it is, relative to the volume).
backup_volume_xml() {
    local name=$1 capacity=$2 backing=${3:-}
    printf "<volume><name>%s</name><capacity unit='bytes'>%s</capacity><target><format type='qcow2'/><compat>1.1</compat></target>" "$name" "$capacity"
    [ -z "$backing" ] || printf "<backingStore><path>%s</path><format type='qcow2'/></backingStore>" "$backing"
    printf '</volume>\n'
}

# The file name of the backing file of backup $1 (what it rests on, relative or absolute), or "-"
# for none: chains are read from the files, never from the names' time stamps.
backup_backing_name() {
    local path
    path=$(v vol-dumpxml --pool "$BACKUP_POOL" "$1" | tr -d '\n' |
        sed -n 's:.*<backingStore>[^<]*<path>\([^<]*\)</path>.*:\1:p')
    path=${path##*/}
    printf '%s\n' "${path:--}"
}

backup_capacity() {
    v vol-info --bytes --pool "$1" "$2" | awk '/^Capacity:/ {print $2}'
}

backup_allocation() {
    v vol-info --bytes --pool "$1" "$2" | awk '/^Allocation:/ {print $2}'
}

backup_checkpoint_name() {
    echo "project-vms-$1"
}

# Checkpoint XML for vdb only; with a creation time it is the XML that redefines one.
backup_checkpoint_xml() {
    : "${TARGET:?}"
    local name=$1 epoch=${2:-} bitmap=""
    [ -z "$epoch" ] || bitmap=" bitmap='$name'"
    printf '<domaincheckpoint><name>%s</name>' "$name"
    [ -z "$epoch" ] || printf '<creationTime>%s</creationTime>' "$epoch"
    printf "<disks><disk name='%s' checkpoint='bitmap'%s/>" "$TARGET" "$bitmap"
    # Every other disk of the domain: no bitmap.
    local d
    for d in $(backup_other_disks); do
        printf "<disk name='%s' checkpoint='no'/>" "$d"
    done
    printf '</disks></domaincheckpoint>\n'
}

# The domain's disks but the project disk (the system disk, the cloud-init CD): never backed up.
backup_other_disks() {
    v domblklist "$DOMAIN" | awk -v t="$TARGET" '$1 != t {print $1}'
}

backup_xml() {
    local file=$1 incremental=${2:-}
    printf "<domainbackup mode='push'>"
    [ -z "$incremental" ] || printf '<incremental>%s</incremental>' "$incremental"
    printf "<disks><disk name='%s' backup='yes' type='file'><target file='%s'/><driver type='qcow2'/></disk>" "$TARGET" "$file"
    local d
    for d in $(backup_other_disks); do
        printf "<disk name='%s' backup='no'/>" "$d"
    done
    printf '</disks></domainbackup>\n'
}

# Drops the libvirt metadata of a checkpoint (its bitmap stays in the disk), or the checkpoint
# and its bitmap with `all`. Quiet when there is none.
backup_checkpoint_forget() {
    local name=$1 how=${2:-metadata}
    v checkpoint-info "$DOMAIN" "$name" >/dev/null 2>&1 || return 0
    if [ "$how" = all ]; then
        v checkpoint-delete "$DOMAIN" "$name" >/dev/null
    else
        v checkpoint-delete "$DOMAIN" "$name" --metadata >/dev/null
    fi
}

BACKUP_FROZEN=false

backup_thaw() {
    if [ "$BACKUP_FROZEN" = true ]; then
        if v domfsthaw "$DOMAIN" >/dev/null; then
            BACKUP_FROZEN=false
            log "thawed the filesystems of $DOMAIN"
        else
            log "WARNING: could not thaw the filesystems of $DOMAIN: run 'virsh domfsthaw $DOMAIN'"
        fi
    fi
}

# Waits for the domain's backup job and says whether it completed.
backup_wait_job() {
    local info
    while :; do
        info=$(v domjobinfo "$DOMAIN" 2>/dev/null || true)
        if ! grep -Eq '^Job type:[[:space:]]+(Bounded|Unbounded)' <<<"$info"; then
            break
        fi
        sleep 1
    done
    info=$(v domjobinfo "$DOMAIN" --completed 2>&1 || true)
    if grep -Eq '^Job type:[[:space:]]+Completed' <<<"$info" && grep -Eq '^Operation:[[:space:]]+Backup' <<<"$info"; then
        return 0
    fi
    log "the backup job of $DOMAIN did not complete: $(tr '\n' ' ' <<<"$info")"
    return 1
}

# Bitmaps of earlier backups still in the disk (a backup of the stopped VM came between, so the
# next one could not build on them): each is still updated on every write, so it goes. OLD lists
# the project's recent backups as <stamp>:<epoch>; a name without a bitmap is skipped.
backup_drop_stale_bitmaps() {
    local keep=$1 pair stamp epoch name tmp
    tmp=$(mktemp)
    for pair in ${OLD:-}; do
        stamp=${pair%%:*} epoch=${pair##*:}
        [[ "$stamp" =~ ^[0-9]{8}T[0-9]{6}Z$ && "$epoch" =~ ^[0-9]+$ ]] || continue
        name=$(backup_checkpoint_name "$stamp")
        [ "$name" != "$keep" ] || continue
        backup_checkpoint_xml "$name" "$epoch" >"$tmp"
        if v checkpoint-create "$DOMAIN" "$tmp" --redefine --redefine-validate >/dev/null 2>&1; then
            v checkpoint-delete "$DOMAIN" "$name" >/dev/null
            log "dropped the dirty bitmap of an earlier backup ($name) from the project disk"
        fi
    done
    rm -f "$tmp"
}

# A backup is visible only when complete: while it is written, a marker volume <backup>.partial
# stands beside it (made first, deleted last), and a backup with a marker is no backup (libvirt
# cannot rename a volume, so the marker is what turns a volume into a backup, in one unlink).
backup_marker_name() {
    echo "$1.partial"
}

backup_marker_xml() {
    printf "<volume><name>%s</name><capacity unit='bytes'>0</capacity><target><format type='raw'/></target></volume>\n" "$1"
}

# What this run made and has not finished, undone on every way out (errors, INT, TERM, HUP):
# thawed, its new checkpoint deleted, the parent's redefined checkpoint metadata forgotten, its
# volume and marker deleted. Only what this run made: a volume it could not create is not touched.
BACKUP_MADE_MARKER="" BACKUP_MADE_VOLUME="" BACKUP_MADE_CP="" BACKUP_REDEFINED_CP="" BACKUP_TMP=""
backup_undo() {
    backup_thaw
    [ -z "$BACKUP_MADE_CP" ] || backup_checkpoint_forget "$BACKUP_MADE_CP" all || true
    [ -z "$BACKUP_REDEFINED_CP" ] || backup_checkpoint_forget "$BACKUP_REDEFINED_CP" || true
    [ -z "$BACKUP_MADE_VOLUME" ] || v vol-delete --pool "$BACKUP_POOL" "$BACKUP_MADE_VOLUME" >/dev/null 2>&1 || true
    [ -z "$BACKUP_MADE_MARKER" ] || v vol-delete --pool "$BACKUP_POOL" "$BACKUP_MADE_MARKER" >/dev/null 2>&1 || true
    [ -z "$BACKUP_TMP" ] || rm -rf "$BACKUP_TMP"
}

# What an interrupted run (killed, host down) left: its marked volumes are deleted, and libvirt's
# checkpoint metadata of the domain's project-vms-* checkpoints (never left at rest) is forgotten.
backup_sweep() {
    local vol vols cps
    vols=$(v vol-list "$BACKUP_POOL" | awk 'NF {print $1}')
    for vol in $vols; do
        [[ "$vol" =~ ^(${PROJECT}--[0-9]{8}T[0-9]{6}Z--(full|inc)\.qcow2)\.partial$ ]] || continue
        if grep -Eq '^Job type:[[:space:]]+(Bounded|Unbounded)' <<<"$(v domjobinfo "$DOMAIN" 2>/dev/null || true)"; then
            die "$DOMAIN has a job running (the backup that left ${BASH_REMATCH[1]}?); back it up again when it is done"
        fi
        v vol-delete --pool "$BACKUP_POOL" "${BASH_REMATCH[1]}" >/dev/null 2>&1 || true
        v vol-delete --pool "$BACKUP_POOL" "$vol" >/dev/null
        log "removed ${BASH_REMATCH[1]}, which an interrupted backup left incomplete"
    done
    [ -n "$(domain_state "$DOMAIN")" ] || return 0
    # A run killed outright (kill -9, a lost session) may have left the guest frozen: under the
    # stack's lock no other backup of it runs, so a freeze now is a leftover.
    backup_thaw_leftover
    vols=$(v vol-list "$BACKUP_POOL" | awk 'NF {print $1}')
    cps=$(v checkpoint-list "$DOMAIN" --name) || die "could not list the checkpoints of $DOMAIN"
    for vol in $cps; do
        [[ "$vol" =~ ^project-vms-([0-9]{8}T[0-9]{6}Z)$ ]] || continue
        # Its bitmap stays only when it is a complete backup's (what the next incremental needs);
        # an interrupted run's would be written on every guest write, for nothing.
        if grep -Eqx "${PROJECT}--${BASH_REMATCH[1]}--(full|inc)\.qcow2" <<<"$vols" && ! grep -Eqx "${PROJECT}--${BASH_REMATCH[1]}--(full|inc)\.qcow2\.partial" <<<"$vols"; then
            backup_checkpoint_forget "$vol"
            log "forgot the checkpoint metadata $vol an interrupted backup left in libvirt"
        else
            backup_checkpoint_forget "$vol" all
            log "deleted the checkpoint $vol (metadata and dirty bitmap) an interrupted backup left"
        fi
    done
}

# Thaws the guest's filesystems when a killed backup left them frozen (harmless when they are not).
backup_thaw_leftover() {
    [ "$(domain_state "$DOMAIN")" = running ] || return 0
    local out
    out=$(v domfsthaw "$DOMAIN" 2>/dev/null) || return 0
    if [[ "$out" =~ [1-9][0-9]*\ filesystem ]]; then
        log "thawed the filesystems of $DOMAIN, which an interrupted backup had left frozen"
    fi
}

# The backup's marker, made before anything else of it; a marker already there is another run's.
backup_begin_marker() {
    local marker
    marker=$(backup_marker_name "$1")
    backup_marker_xml "$marker" >"$BACKUP_TMP/marker.xml"
    v vol-create "$BACKUP_POOL" "$BACKUP_TMP/marker.xml" >/dev/null || die "could not start the backup $1 in $BACKUP_POOL (its marker $marker); no backup was made"
    BACKUP_MADE_MARKER=$marker
}

# The backup complete: nothing of it is undone any more, and its marker goes.
backup_complete() {
    local marker=$BACKUP_MADE_MARKER
    BACKUP_MADE_MARKER="" BACKUP_MADE_VOLUME="" BACKUP_MADE_CP="" BACKUP_REDEFINED_CP=""
    v vol-delete --pool "$BACKUP_POOL" "$marker" >/dev/null || die "the backup $1 is complete, but its marker $marker could not be deleted: it is not listed, and the next backup removes it"
}

# Takes one backup of the project disk; prints "<volume> <kind>".
backup_take() {
    backup_check_settings
    : "${DOMAIN:?}" "${PROJECT_POOL:?}" "${VOLUME:?}" "${TARGET:?}" "${STAMP:?}" "${KIND:?}"
    [[ "$STAMP" =~ ^[0-9]{8}T[0-9]{6}Z$ ]] || die "bad stamp '$STAMP'"
    BACKUP_TMP=$(mktemp -d)
    trap backup_undo EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    backup_pool_ensure
    backup_sweep
    local capacity state
    capacity=$(backup_capacity "$PROJECT_POOL" "$VOLUME") || die "no project disk $VOLUME in pool $PROJECT_POOL"
    [ -n "$capacity" ] || die "no project disk $VOLUME in pool $PROJECT_POOL"
    state=$(domain_state_sure "$DOMAIN")
    if [ "$state" = running ]; then
        backup_take_running "$capacity"
    elif [ -z "$state" ] || [ "$state" = "shut off" ]; then
        backup_take_stopped "$capacity" "$state"
    else
        die "$DOMAIN is $state: back it up running or shut off, not $state"
    fi
}

backup_take_stopped() {
    local capacity=$1 state=$2 name="${PROJECT}--${STAMP}--full.qcow2"
    log "$DOMAIN is ${state:-not defined}: a full copy of its project disk (a backup of a stopped VM is always full)"
    backup_begin_marker "$name"
    backup_volume_xml "$name" "$capacity" >"$BACKUP_TMP/volume.xml"
    v vol-create-from "$BACKUP_POOL" "$BACKUP_TMP/volume.xml" --inputpool "$PROJECT_POOL" "$VOLUME" >/dev/null || die "copying the project disk of $DOMAIN failed"
    BACKUP_MADE_VOLUME=$name
    local after
    after=$(domain_state_sure "$DOMAIN")
    if [ -n "$after" ] && [ "$after" != "shut off" ]; then
        die "$DOMAIN was started while its disk was being copied: that copy may be torn and is deleted; back it up again"
    fi
    backup_complete "$name"
    echo "$name full"
}

backup_take_running() {
    local capacity=$1 kind=$KIND parent_path="" name cp parent_cp=""
    if ! v qemu-agent-command "$DOMAIN" '{"execute":"guest-ping"}' --timeout 10 >/dev/null 2>&1; then
        die "the guest agent of $DOMAIN does not answer, so its filesystems cannot be frozen for a consistent backup. Either shut it down first (${PROJECT_VM_CMD:-project-vm} stop $PROJECT; ${PROJECT_VM_CMD:-project-vm} backup $PROJECT; ${PROJECT_VM_CMD:-project-vm} start $PROJECT), or get its agent running (systemctl status qemu-guest-agent in the VM). No backup was made."
    fi
    # Incrementals need a persistent bitmap: a qcow2 v3 disk (libvirt 9 makes qcow2 v2, compat
    # 0.10, for a volume whose XML does not ask for 1.1, as the provider's does not).
    local checkpoints=true
    local volxml
    volxml=$(v vol-dumpxml --pool "$PROJECT_POOL" "$VOLUME")
    if ! grep -q '<compat>1\.1</compat>' <<<"$volxml"; then
        checkpoints=false
        log "the project disk of $DOMAIN is qcow2 v2 (compat 0.10), which cannot hold the dirty bitmap incrementals need: full backups only. A restore writes it back as qcow2 v3; to get there losing nothing: ${PROJECT_VM_CMD:-project-vm} stop $PROJECT; ${PROJECT_VM_CMD:-project-vm} backup $PROJECT; ${PROJECT_VM_CMD:-project-vm} restore $PROJECT latest; ${PROJECT_VM_CMD:-project-vm} start $PROJECT."
        kind=full
    fi
    if [ "$kind" = inc ]; then
        : "${PARENT:?}" "${PARENT_EPOCH:?}"
        backup_is_own "$PARENT" || die "'$PARENT' is not a backup of $PROJECT"
        parent_cp=$(backup_checkpoint_name "$(sed -E 's/^.*--([0-9]{8}T[0-9]{6}Z)--.*$/\1/' <<<"$PARENT")")
        parent_path=$(v vol-path --pool "$BACKUP_POOL" "$PARENT" 2>/dev/null) || parent_path=""
        backup_checkpoint_xml "$parent_cp" "$PARENT_EPOCH" >"$BACKUP_TMP/parent.xml"
        if [ -z "$parent_path" ]; then
            log "the previous backup $PARENT is gone: a full backup instead"
            kind=full parent_cp=""
        elif v checkpoint-create "$DOMAIN" "$BACKUP_TMP/parent.xml" --redefine --redefine-validate >/dev/null 2>&1; then
            BACKUP_REDEFINED_CP=$parent_cp
        else
            log "the project disk of $DOMAIN no longer has the dirty bitmap of $PARENT (it was replaced, restored or copied since): a full backup instead"
            kind=full parent_cp=""
        fi
    fi
    name="${PROJECT}--${STAMP}--${kind}.qcow2"
    cp=$(backup_checkpoint_name "$STAMP")
    local path vxml=$BACKUP_TMP/volume.xml bxml=$BACKUP_TMP/backup.xml cxml=$BACKUP_TMP/checkpoint.xml
    backup_begin_marker "$name"
    # An incremental rests on its parent by name, a path relative to its own folder: the backups
    # folder can be moved (or copied to another machine) whole and still be restored.
    backup_volume_xml "$name" "$capacity" "$([ "$kind" = inc ] && echo "$PARENT")" >"$vxml"
    v vol-create "$BACKUP_POOL" "$vxml" >/dev/null || die "could not create the backup volume $name in $BACKUP_POOL; no backup was made"
    BACKUP_MADE_VOLUME=$name
    path=$(v vol-path --pool "$BACKUP_POOL" "$name")
    backup_xml "$path" "$([ "$kind" = inc ] && echo "$parent_cp")" >"$bxml"
    local begin=(backup-begin "$DOMAIN" "$bxml" --reuse-external)
    if [ "$checkpoints" = true ]; then
        backup_checkpoint_xml "$cp" >"$cxml"
        begin=(backup-begin "$DOMAIN" "$bxml" "$cxml" --reuse-external)
    fi

    log "freezing the filesystems of $DOMAIN (guest agent)"
    # Thawed on every exit from the request on: a freeze can take effect in the guest and still
    # report an error (or time out), and a signal can come while it runs.
    BACKUP_FROZEN=true
    if ! v domfsfreeze "$DOMAIN" >/dev/null; then
        backup_thaw
        die "the guest agent of $DOMAIN could not freeze its filesystems; no backup was made"
    fi
    [ "$checkpoints" != true ] || BACKUP_MADE_CP=$cp
    # The guest is frozen until backup-begin returns: it gets a time limit. On a timeout the job
    # may have started all the same: it is this run's (the stack is locked), and is aborted.
    local started=true code=0
    timeout "${BACKUP_BEGIN_TIMEOUT:-120}" virsh -q -c "$LIBVIRT_URI" "${begin[@]}" >/dev/null || code=$?
    if [ "$code" -eq 124 ]; then
        log "backup-begin of $DOMAIN did not return within ${BACKUP_BEGIN_TIMEOUT:-120}s: its filesystems are thawed and its job aborted"
        backup_thaw
        v domjobabort "$DOMAIN" >/dev/null 2>&1 || true
        started=false
    elif [ "$code" -ne 0 ]; then
        started=false
    fi
    backup_thaw
    if [ "$started" != true ] || ! backup_wait_job; then
        # (Only this backup's own job: a job that did not start may be another one's.)
        [ "$started" != true ] || v domjobabort "$DOMAIN" >/dev/null 2>&1 || true
        die "the backup of $DOMAIN failed; nothing was kept"
    fi
    # One bitmap at rest: the newest backup's. No checkpoint metadata is left in libvirt.
    [ -z "$parent_cp" ] || backup_checkpoint_forget "$parent_cp" all
    BACKUP_REDEFINED_CP=""
    if [ "$checkpoints" = true ]; then
        backup_checkpoint_forget "$cp"
        BACKUP_MADE_CP=""
        backup_drop_stale_bitmaps "$cp"
    fi
    v pool-refresh "$BACKUP_POOL" >/dev/null
    backup_complete "$name"
    log "backed up the project disk of $DOMAIN as $name ($kind)"
    echo "$name $kind"
}

# When the project disk last changed: its file's mtime as libvirt gives it (seconds since the
# epoch, maybe with a fraction); nothing when libvirt gives none.
backup_disk_mtime() {
    backup_check_settings
    : "${PROJECT_POOL:?}" "${VOLUME:?}"
    local xml
    xml=$(v vol-dumpxml --pool "$PROJECT_POOL" "$VOLUME")
    tr -d '\n' <<<"$xml" | grep -o '<mtime>[0-9.]*</mtime>' | head -n 1 | sed 's:<[^>]*>::g' || true
}

# Every domain of the host: "<name>\t<state>" a line ("unknown" when libvirt cannot say); fails
# when the domains cannot be listed (no domains is then not a guess). Names are read whole, one a
# line, never split or globbed.
backup_states() {
    local names name state
    names=$(v list --all --name) || die "could not read libvirt at $LIBVIRT_URI (virsh list, above)"
    while IFS= read -r name; do
        [ -n "$name" ] || continue
        # Listed just now: a domstate that fails is libvirt's failure, not a missing domain.
        state=$(v domstate "$name" 2>/dev/null | head -n 1) || state=unknown
        printf '%s\t%s\n' "$name" "${state:-unknown}"
    done <<<"$names"
}

# Whether pool $1 exists; dies when libvirt cannot be read (so that "no pool" is never a guess).
backup_pool_exists() {
    local pools
    pools=$(v pool-list --all --name 2>&1) || die "could not read libvirt at $LIBVIRT_URI: $(tr '\n' ' ' <<<"$pools")"
    grep -qxF "$1" <<<"$(awk 'NF {print $1}' <<<"$pools")"
}

# The project's complete backups, oldest first: "<volume> <allocation bytes> <capacity bytes>" a
# line. Nothing (and no pool made) when there is no backups pool; an error when libvirt cannot be read.
backup_list() {
    backup_check_settings
    backup_pool_exists "$BACKUP_POOL" || return 0
    v pool-refresh "$BACKUP_POOL" >/dev/null 2>&1 || true
    local vol vols
    vols=$(v vol-list "$BACKUP_POOL" | awk 'NF {print $1}' | sort)
    for vol in $vols; do
        backup_is_own "$vol" || continue
        # Incomplete (being written, or left by an interrupted run): not a backup.
        ! grep -qxF "$(backup_marker_name "$vol")" <<<"$vols" || continue
        printf '%s %s %s %s\n' "$vol" "$(backup_allocation "$BACKUP_POOL" "$vol")" "$(backup_capacity "$BACKUP_POOL" "$vol")" "$(backup_backing_name "$vol")"
    done
}

# Deletes the project's backups named in VOLUMES (retention); refuses any other volume.
backup_delete() {
    backup_check_settings
    local vol
    for vol in ${VOLUMES:-}; do
        backup_is_own "$vol" || die "refusing to delete '$vol': not a backup of $PROJECT"
    done
    for vol in ${VOLUMES:-}; do
        v vol-delete --pool "$BACKUP_POOL" "$vol" >/dev/null
        log "deleted backup $vol"
    done
}
