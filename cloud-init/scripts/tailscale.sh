#!/bin/bash
# Tailscale from its official apt repository, joined to the tailnet with Tailscale SSH.
# Usage: tailscale.sh <hostname> <tags, comma-separated> <auth key file>
# The auth key file (mode 0600, on /run) is deleted once the node is up.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

[ "$#" -eq 3 ] || die "usage: $0 <hostname> <tags> <auth key file>"
hostname=$1 tags=$2 key_file=$3
keyring=/usr/share/keyrings/tailscale-archive-keyring.gpg
# Tailscale's packages are static builds; its "sid" suite serves Debian testing.
repo=https://pkgs.tailscale.com/stable/debian

if ! command -v tailscale >/dev/null; then
    retry curl -fsSL -o "$keyring" "$repo/sid.noarmor.gpg"
    echo "deb [signed-by=$keyring] $repo sid main" >/etc/apt/sources.list.d/tailscale.list
    retry apt-get update -q
    DEBIAN_FRONTEND=noninteractive retry apt-get install -y -q tailscale
fi
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
