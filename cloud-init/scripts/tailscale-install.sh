#!/bin/bash
# Tailscale's package from its official apt repository: the shared part of the Tailscale feature
# (run once in the prepared layer, or at first boot on the cold path). Joining is tailscale.sh's.
# Usage: tailscale-install.sh
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

keyring=/usr/share/keyrings/tailscale-archive-keyring.gpg
# Tailscale's packages are static builds; its "sid" suite serves Debian testing.
repo=https://pkgs.tailscale.com/stable/debian

if command -v tailscale >/dev/null; then
    log "Tailscale already installed: $(tailscale version | head -n 1)"
else
    ensure_packages curl ca-certificates
    retry curl -fsSL -o "$keyring" "$repo/sid.noarmor.gpg"
    echo "deb [signed-by=$keyring] $repo sid main" >/etc/apt/sources.list.d/tailscale.list
    retry apt-get update -q
    DEBIAN_FRONTEND=noninteractive retry apt-get install -y -q tailscale
    log "installed Tailscale $(tailscale version | head -n 1)"
fi
