#!/bin/bash
# Nix with the official multi-user installer, flakes enabled.
# Usage: nix.sh <user>   (checks that the user can run nix)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

[ "$#" -eq 1 ] || die "usage: $0 <user>"
user=$1
nix_bin=/nix/var/nix/profiles/default/bin/nix

if [ -x "$nix_bin" ]; then
    log "Nix already installed: $("$nix_bin" --version)"
else
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

su - "$user" -c 'nix --version' >/dev/null || die "nix does not run for $user"
log "Nix ready: $("$nix_bin" --version)"
