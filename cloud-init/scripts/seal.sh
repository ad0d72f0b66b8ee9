#!/bin/bash
# The last step of a prepared layer's builder VM, run by the host through the guest agent once
# cloud-init has finished: removes every per-machine trace, so that each VM made from the layer is
# a new machine to cloud-init, systemd, SSH, DHCP, Docker and Tailscale. The host shuts the
# builder down once this has reported. Nothing here may run in a project's VM.
# Usage: seal.sh
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

[ -e /etc/project-vms/builder ] || die "this is not a prepared-layer builder (no /etc/project-vms/builder): refusing to seal it"

# Services that keep per-machine state on disk stop first, so that nothing writes it back.
for unit in tailscaled.service docker.service docker.socket containerd.service; do
    systemctl disable --now "$unit" >/dev/null 2>&1 || true
done
# Docker starts in a project's VM through services.sh; Tailscale through tailscale.sh.
systemctl enable docker.service >/dev/null 2>&1 || true

# cloud-init's state, logs and seed, and the machine ID (left "uninitialized", so that systemd
# makes a new one at the next boot and runs first-boot units).
cloud-init clean --logs --seed --machine-id
rm -f /var/lib/dbus/machine-id
[ -L /var/lib/dbus/machine-id ] || ln -s /etc/machine-id /var/lib/dbus/machine-id

# Identities and leases: SSH host keys (cloud-init makes new ones), DHCP leases, systemd's random
# seed and credential secret, Docker's engine ID, Tailscale's node key.
rm -f /etc/ssh/ssh_host_*
rm -rf /var/lib/dhcp/* /var/lib/systemd/network/* /var/lib/NetworkManager/*.lease
# The seed is saved again at shutdown by systemd-random-seed.service: not this time (a drop-in on
# /run, gone with this boot), or every VM of the layer would start from the same seed.
mkdir -p /run/systemd/system/systemd-random-seed.service.d
printf '[Service]\nExecStop=\n' >/run/systemd/system/systemd-random-seed.service.d/project-vms-seal.conf
systemctl daemon-reload
rm -f /var/lib/systemd/random-seed /var/lib/systemd/credential.secret
rm -f /var/lib/docker/engine-id
rm -rf /var/lib/tailscale

# What would go stale or only takes room: apt's lists (a project's first boot does not use apt),
# downloaded packages, caches, temporary files, logs.
apt-get clean
rm -rf /var/lib/apt/lists/* /root/.npm /root/.cache /tmp/* /var/tmp/*
journalctl --relinquish-var >/dev/null 2>&1 || true
rm -rf /var/log/journal/*
find /var/log -type f \( -name '*.log' -o -name '*.gz' -o -name '*.[0-9]' \) -delete
printf 'localhost\n' >/etc/hostname
rm -f /etc/project-vms/builder

# Freed blocks back to the host (the builder's disk is attached with discard=unmap), so that the
# layer holds only what is used.
fstrim -av >/dev/null 2>&1 || true
sync
log "sealed"
