#!/bin/bash
# Nix for the developer: the daemon running and nix usable by the user (installed by
# nix-install.sh, in the prepared layer or earlier in this first boot).
# Usage: nix.sh <user>
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

[ "$#" -eq 1 ] || die "usage: $0 <user>"
user=$1
nix_bin=/nix/var/nix/profiles/default/bin/nix

[ -x "$nix_bin" ] || die "Nix is not installed ($nix_bin is missing): nix-install.sh did not run or failed"
systemctl enable --now nix-daemon.service
su - "$user" -c 'nix --version' >/dev/null || die "nix does not run for $user"
log "Nix ready for $user: $("$nix_bin" --version)"
