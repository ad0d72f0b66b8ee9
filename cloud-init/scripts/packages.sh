#!/bin/bash
# The packages every project VM has (user-data.yaml's list), installed if any is missing: nothing
# to do on the cold path (cloud-init installed them) or on a prepared layer that has them; a VM on
# an older layer still gets a package added to the list since.
# Usage: packages.sh <package>...
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

[ "$#" -ge 1 ] || die "usage: $0 <package>..."
ensure_packages "$@"
log "packages present: $*"
