#!/bin/bash
# Checks that the project disk is mounted where the developer expects it and hands it to them.
# Usage: project-disk.sh <mount point> <filesystem label> <user>
# It never formats or recursively chowns anything: the disk's content is the developer's work.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

[ "$#" -eq 3 ] || die "usage: $0 <mount point> <label> <user>"
mount_point=$1 label=$2 user=$3

if ! mountpoint -q "$mount_point"; then
    # cloud-init's mount -a may have run before the device appeared; try once more by label.
    mount "$mount_point" || true
fi
mountpoint -q "$mount_point" || die "$mount_point is not mounted: is the project disk (LABEL=$label) attached?"

source_dev=$(findmnt -n -o SOURCE --mountpoint "$mount_point")
actual_label=$(blkid -o value -s LABEL "$source_dev" || true)
[ "$actual_label" = "$label" ] || die "$mount_point is $source_dev labelled '$actual_label', expected '$label'"

# cloud-init creates mount points before it creates users, so both the home directory and the
# mount point start out owned by root: hand them (not their content) to the user.
home=$(getent passwd "$user" | cut -d: -f6) || home=""
[ -n "$home" ] || die "user $user does not exist"
chown "$user:$user" "$home" "$mount_point"
# useradd does not copy /etc/skel into a home directory that already exists.
for f in /etc/skel/.[!.]*; do
    [ -e "$f" ] || continue
    target="$home/$(basename "$f")"
    if [ ! -e "$target" ]; then
        cp -a "$f" "$target"
        chown "$user:$user" "$target"
    fi
done

log "project disk $source_dev (LABEL=$label, UUID=$(blkid -o value -s UUID "$source_dev")) mounted at $mount_point for $user"
