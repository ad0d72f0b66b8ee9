#!/bin/bash
# This VM on the tailnet with Tailscale SSH (the package is installed by tailscale-install.sh, in
# the prepared layer or earlier in this first boot).
# Usage: tailscale.sh <hostname> <tags, comma-separated> <auth key file>
# The auth key file (mode 0600, on /run) is deleted once the node is up.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

[ "$#" -eq 3 ] || die "usage: $0 <hostname> <tags> <auth key file>"
hostname=$1 tags=$2 key_file=$3

command -v tailscale >/dev/null || die "Tailscale is not installed: tailscale-install.sh did not run"
systemctl enable --now tailscaled.service

state=$(tailscale status --json | jq -r .BackendState)
if [ "$state" = Running ]; then
    log "already on the tailnet as $(tailscale status --json | jq -r .Self.DNSName)"
else
    [ -s "$key_file" ] || die "not logged in to the tailnet and no auth key at $key_file"
    retry tailscale up --auth-key="file:$key_file" --ssh --hostname="$hostname" --advertise-tags="$tags"
    log "joined the tailnet as $(tailscale status --json | jq -r .Self.DNSName)"
fi
rm -f "$key_file"
