#!/bin/bash
# Runs at every boot (cloud-init per-boot): grows the project filesystem to fill its disk, after
# the host grew the disk (a larger `disk` in the stack config). resize2fs only ever grows a
# mounted ext4 and does nothing when it already fills the disk; nothing is formatted.
# Settings: /etc/project-vms/project-disk.env (LABEL, MOUNT_POINT), written by cloud-init.
set -Eeuo pipefail

# shellcheck source=/dev/null
. /etc/project-vms/project-disk.env
: "${LABEL:?}" "${MOUNT_POINT:?}"

log() {
    printf 'project-vms[grow-project-disk]: %s\n' "$*" >&2
}

if ! mountpoint -q "$MOUNT_POINT"; then
    log "$MOUNT_POINT is not mounted; nothing to grow"
    exit 0
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
