#!/usr/bin/env bash
# Builds the pinned Pulumi engine from source into a cache outside the checkout and prints the one
# folder holding all of it (put it first on PATH):
#
#   pulumi                    the CLI and engine v3.274.1, from the Go module proxy (engine/pulumi)
#   pulumi-language-nodejs    the Node.js language host v3.259.0        (engine/language-nodejs)
#   pulumi-resource-libvirt   the libvirt provider plugin 0.5.4          (engine/libvirt)
#   pulumi-resource-command   the command provider plugin 1.2.1          (engine/command)
#   pulumi-resource-tailscale the tailscale provider plugin 0.27.1       (engine/tailscale)
#
# The plugins and the language host are built from their upstream release sources (tarballs of the
# release tags, checked against engine/sources.sha256), unpacked into the cache; each wrapper
# module under engine/ points at them with `replace` lines and pins everything else in its go.sum.
# A piece is rebuilt only when its pins (go.mod, go.sum, version flag, tarball checksums) change.
#
#   ENGINE=$(bash engine/build.sh) && export PATH="$ENGINE:$PATH" && pulumi version
#   bash engine/build.sh --cli-only      just the CLI (no sources needed)
#
# PROJECT_VMS_ENGINE_SOURCES: the folder holding the tarballs (default: ../shared/engine-sources
# beside the checkout). PROJECT_VMS_ENGINE_CACHE overrides the cache (default
# ~/.cache/project-vms/engine). Go's module and build caches stay where Go keeps them, so a warm
# machine rebuilds in seconds. Build output and timings go to stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${PROJECT_VMS_ENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/project-vms/engine}
sources=${PROJECT_VMS_ENGINE_SOURCES:-$here/../../shared/engine-sources}
cli_only=false
case "${1:-}" in
    --cli-only) cli_only=true ;;
    "") ;;
    *) echo "usage: bash engine/build.sh [--cli-only]" >&2; exit 2 ;;
esac

command -v go >/dev/null || { echo "engine/build.sh: Go is not installed (Go 1.26.6 or later builds the engine)" >&2; exit 1; }

# One build at a time per cache: builds share the unpacked sources and the work folders.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

# piece | binary | main package | version flag | version it reports | tarballs it needs
pieces=(
    "pulumi|pulumi|github.com/pulumi/pulumi/pkg/v3/cmd/pulumi|github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v3.274.1|v3.274.1|"
    "language-nodejs|pulumi-language-nodejs|github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3|github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v3.259.0|v3.259.0|pulumi-language-nodejs-3.259.0.tar.gz"
    "libvirt|pulumi-resource-libvirt|github.com/pulumi/pulumi-libvirt/provider/cmd/pulumi-resource-libvirt|github.com/pulumi/pulumi-libvirt/provider/pkg/version.Version=0.5.4|0.5.4|pulumi-libvirt-0.5.4-provider.tar.gz terraform-provider-libvirt-0.8.1.tar.gz"
    "command|pulumi-resource-command|github.com/pulumi/pulumi-command/provider/cmd/pulumi-resource-command|github.com/pulumi/pulumi-command/provider/pkg/version.Version=1.2.1|1.2.1|pulumi-command-1.2.1-provider.tar.gz"
    "tailscale|pulumi-resource-tailscale|github.com/pulumi/pulumi-tailscale/provider/cmd/pulumi-resource-tailscale|github.com/pulumi/pulumi-tailscale/provider/pkg/version.Version=0.27.1|0.27.1|pulumi-tailscale-0.27.1-provider.tar.gz terraform-provider-tailscale-0.28.0.tar.gz"
)

# The pinned checksum of a tarball (engine/sources.sha256), or nothing.
pinned_sum() { awk -v f="$1" '$2 == f { print $1 }' "$here/sources.sha256"; }

# Unpacks a tarball, checked against its pinned checksum, into $cache/src/<its top folder> (once
# per checksum): the folder the wrapper modules' replace lines name.
unpack() {
    local tarball=$1 sum got top schema
    sum=$(pinned_sum "$tarball")
    [ -n "$sum" ] || { echo "engine: $tarball has no checksum in engine/sources.sha256" >&2; exit 1; }
    [ -f "$sources/$tarball" ] || {
        echo "engine: $sources/$tarball is missing: the plugins and the language host are built from their release sources (see the README, \"The engine\"); set PROJECT_VMS_ENGINE_SOURCES, or build the CLI alone with --cli-only" >&2
        exit 1
    }
    if [ -f "$cache/src/$tarball.sha256" ] && [ "$(cut -d' ' -f1 "$cache/src/$tarball.sha256")" = "$sum" ]; then return; fi
    got=$(sha256sum "$sources/$tarball" | cut -d' ' -f1)
    [ "$got" = "$sum" ] || { echo "engine: $sources/$tarball has sha256 $got, not the pinned $sum: refusing to build from it" >&2; exit 1; }
    top=$(tar -tzf "$sources/$tarball" | awk -F/ 'NR == 1 { print $1 }')
    [[ "$top" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || { echo "engine: $tarball has no single top folder" >&2; exit 1; }
    mkdir -p "$cache/src"
    rm -rf "${cache:?}/src/$top"
    tar -xzf "$sources/$tarball" -C "$cache/src"
    # The bridged providers' mains embed a generated copy of their schema.
    for schema in "$cache/src/$top"/provider/cmd/pulumi-resource-*/schema.json; do
        if [ -f "$schema" ]; then cp "$schema" "$(dirname "$schema")/schema-embed.json"; fi
    done
    echo "$sum $top" > "$cache/src/$tarball.sha256"
}

built=()
versions=()
for spec in "${pieces[@]}"; do
    IFS='|' read -r piece binary pkg vflag version tarballs <<< "$spec"
    if $cli_only && [ "$piece" != pulumi ]; then continue; fi
    key=$( { cat "$here/$piece/go.mod" "$here/$piece/go.sum"; echo "$vflag"; for t in $tarballs; do pinned_sum "$t"; done; go env GOVERSION GOOS GOARCH; } | sha256sum | cut -c1-16)
    out="$cache/pieces/$piece/$key"
    if [ -x "$out/$binary" ]; then
        echo "engine: $binary $version is built ($out)" >&2
    else
        for t in $tarballs; do unpack "$t"; done
        echo "engine: building $binary $version (key $key); cold, this takes minutes" >&2
        start=$(date +%s)
        work="$cache/work/$piece"
        rm -rf "$work"
        mkdir -p "$work" "$out"
        cp "$here/$piece/go.mod" "$here/$piece/go.sum" "$work/"
        ln -sfn "$cache/src" "$cache/work/src"
        (cd "$work" && GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -ldflags "-X $vflag" -o "$out/$binary.tmp" "$pkg") >&2
        mv "$out/$binary.tmp" "$out/$binary"
        echo "engine: built $binary in $(($(date +%s) - start)) s" >&2
    fi
    built+=("$out/$binary")
    versions+=("$binary ${version#v}")
done

# One folder holding every piece (hard links into the pieces' cache).
combined=$(printf '%s\n' "${built[@]}" | sha256sum | cut -c1-16)
bin="$cache/$combined/bin"
if [ ! -f "$bin/VERSIONS" ]; then
    rm -rf "$bin.tmp"
    mkdir -p "$bin.tmp"
    for b in "${built[@]}"; do ln -f "$b" "$bin.tmp/" 2>/dev/null || cp "$b" "$bin.tmp/"; done
    # What each binary is, for engine/install-plugins.sh and `project-vm doctor`.
    printf '%s\n' "${versions[@]}" > "$bin.tmp/VERSIONS"
    rm -rf "$bin"
    mv "$bin.tmp" "$bin"
fi
got=$("$bin/pulumi" version)
[ "$got" = v3.274.1 ] || { echo "engine: $bin/pulumi reports $got, not v3.274.1" >&2; exit 1; }
echo "$bin"
