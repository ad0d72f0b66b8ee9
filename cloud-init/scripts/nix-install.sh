#!/bin/bash
# Nix with the official multi-user installer, flakes enabled: the shared part of the Nix feature
# (run once in the prepared layer, or at first boot on the cold path).
# Usage: nix-install.sh
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

nix_bin=/nix/var/nix/profiles/default/bin/nix

if [ -x "$nix_bin" ]; then
    log "Nix already installed: $("$nix_bin" --version)"
else
    ensure_packages curl ca-certificates xz-utils
    installer=$(mktemp)
    retry curl -fsSL -o "$installer" https://nixos.org/nix/install
    log "running the Nix multi-user installer"
    sh "$installer" --daemon --yes </dev/null
    rm -f "$installer"
fi

conf=/etc/nix/nix.conf
if ! grep -qE '^experimental-features *=.*flakes' "$conf" 2>/dev/null; then
    echo 'experimental-features = nix-command flakes' >>"$conf"
    systemctl restart nix-daemon.service
    log "enabled flakes in $conf"
fi
log "Nix installed: $("$nix_bin" --version)"
