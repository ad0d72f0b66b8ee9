#!/bin/bash
# Docker for the developer without sudo, and the QEMU guest agent for the host.
# Usage: services.sh <user>
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

[ "$#" -eq 1 ] || die "usage: $0 <user>"
user=$1

getent group docker >/dev/null || die "group docker does not exist: did docker.io install?"
if id -nG "$user" | tr ' ' '\n' | grep -qx docker; then
    log "$user is already in group docker"
else
    usermod -aG docker "$user"
    log "added $user to group docker"
fi

systemctl enable --now docker.service
systemctl is-active --quiet docker.service || die "docker.service is not running"
docker info >/dev/null || die "docker info fails"

# The agent's unit is started by its virtio port; start it now in case the port appeared first.
if [ -e /dev/virtio-ports/org.qemu.guest_agent.0 ]; then
    systemctl start qemu-guest-agent.service
    systemctl is-active --quiet qemu-guest-agent.service || die "qemu-guest-agent is not running"
    log "qemu-guest-agent running"
else
    log "no guest agent channel (/dev/virtio-ports/org.qemu.guest_agent.0); agent not started"
fi
