#!/usr/bin/env bash
# Installs the provider plugins that engine/build.sh built into Pulumi's plugin cache
# ($PULUMI_HOME/plugins, default ~/.pulumi/plugins) at exactly the versions the program's SDKs ask
# the engine for (the "pulumi" block of node_modules/@pulumi/<name>/package.json; run npm ci first),
# so `pulumi up` finds them without a download. Prints the engine folder (put it first on PATH: the
# CLI finds the Node.js language host beside itself).
#
#   ENGINE=$(bash engine/install-plugins.sh) && export PATH="$ENGINE:$PATH"
#
# A plugin whose built version is not the one its SDK asks for stops this, naming both.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
bin=$(bash "$here/build.sh")

for name in libvirt command tailscale; do
    sdk="$repo/node_modules/@pulumi/$name/package.json"
    [ -f "$sdk" ] || { echo "engine: $sdk is missing: run npm ci first" >&2; exit 1; }
    want=$(node -e 'const p = require(process.argv[1]).pulumi; if (!p || !p.resource || !p.version) process.exit(1); console.log(p.version.replace(/^v/, ""))' "$sdk") ||
        { echo "engine: $sdk names no plugin version" >&2; exit 1; }
    have=$(awk -v n="pulumi-resource-$name" '$1 == n { print $2 }' "$bin/VERSIONS")
    [ "$have" = "$want" ] || { echo "engine: the SDK @pulumi/$name asks for plugin $want, but engine/build.sh builds $have" >&2; exit 1; }
    "$bin/pulumi" plugin install resource "$name" "$want" --file "$bin/pulumi-resource-$name" --reinstall >&2
done
"$bin/pulumi" plugin ls >&2
echo "$bin"
