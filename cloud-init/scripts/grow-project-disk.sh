#!/bin/bash
# Runs at every boot (cloud-init per-boot): makes sure the project disk is mounted, then grows its
# filesystem to fill the disk, after the host grew the disk (a larger `disk` in the stack config).
# resize2fs only ever grows a mounted ext4 and does nothing when it already fills the disk;
# nothing is formatted.
# Settings: /etc/project-vms/project-disk.env (LABEL, MOUNT_POINT), written by cloud-init.
set -Eeuo pipefail

# shellcheck source=/dev/null
. /etc/project-vms/project-disk.env
: "${LABEL:?}" "${MOUNT_POINT:?}"

log() {
    printf 'project-vms[grow-project-disk]: %s\n' "$*" >&2
}

# The project disk must be mounted at every boot, not only the first: a slow boot (a loaded host
# starting many VMs; emulation) can outlast systemd's wait for the device, and the VM would then
# come up with its work going to the system disk. Wait for the filesystem here and mount it; if
# it never comes, fail loudly: cloud-init reports the error, and `pulumi up` fails naming it.
if ! mountpoint -q "$MOUNT_POINT"; then
    device=""
    for _ in $(seq 1 36); do
        udevadm settle --timeout=10 || true
        device=$(blkid -L "$LABEL" || true)
        [ -z "$device" ] || break
        sleep 5
    done
    if [ -z "$device" ]; then
        log "FAILED: no filesystem labelled $LABEL appeared: $MOUNT_POINT is not mounted (is the project disk attached?)"
        exit 1
    fi
    mount "$MOUNT_POINT" || { log "FAILED: could not mount $device at $MOUNT_POINT"; exit 1; }
    log "mounted $device ($LABEL) at $MOUNT_POINT: systemd's wait for it at boot ran out"
fi
device=$(findmnt -n -o SOURCE --mountpoint "$MOUNT_POINT")
if [ "$(blkid -o value -s LABEL "$device")" != "$LABEL" ]; then
    log "$MOUNT_POINT is $device, not the filesystem labelled $LABEL; leaving it alone"
    exit 0
fi
disk_bytes=$(blockdev --getsize64 "$device")
fs_bytes=$(( $(dumpe2fs -h "$device" 2>/dev/null | awk -F: '/^Block count/ {print $2}') * $(dumpe2fs -h "$device" 2>/dev/null | awk -F: '/^Block size/ {print $2}') ))
if [ "$fs_bytes" -lt "$disk_bytes" ]; then
    log "growing $device ($LABEL) from $fs_bytes to $disk_bytes bytes"
    resize2fs "$device"
fi
