#!/usr/bin/env bash
# Builds the pinned Pulumi CLI (the engine) from the Go module proxy into a cache outside the
# checkout, and prints the path of the folder holding it (put it first on PATH). Rebuilds only
# when a pin changes: the cache key is a hash of the wrapper module (go.mod, go.sum) and of the
# version flags below. Build output and timings go to stderr.
#
#   PULUMI_BIN=$(bash engine/build.sh) && export PATH="$PULUMI_BIN:$PATH" && pulumi version
#
# PROJECT_VMS_ENGINE_CACHE overrides the cache (default ~/.cache/project-vms/engine). The Go
# module and build caches stay where Go keeps them, so a warm machine rebuilds in seconds.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${PROJECT_VMS_ENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/project-vms/engine}
pulumi_version=v3.274.1
ldflags="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${pulumi_version}"

command -v go >/dev/null || { echo "engine/build.sh: Go is not installed (Go 1.26 or later builds the engine)" >&2; exit 1; }

key=$( { cat "$here/pulumi/go.mod" "$here/pulumi/go.sum"; echo "$ldflags"; go env GOVERSION GOOS GOARCH; } | sha256sum | cut -c1-16)
bin="$cache/$key/bin"

if [ -x "$bin/pulumi" ] && "$bin/pulumi" version >/dev/null 2>&1; then
    echo "engine: pulumi ${pulumi_version} is built ($bin, cache key $key)" >&2
else
    echo "engine: building pulumi ${pulumi_version} (cache key $key); cold, this takes minutes" >&2
    mkdir -p "$bin"
    start=$(date +%s)
    (
        cd "$here/pulumi"
        GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" \
            -o "$bin/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    ) >&2
    mv "$bin/pulumi.tmp" "$bin/pulumi"
    echo "engine: built pulumi in $(($(date +%s) - start)) s" >&2
fi
got=$("$bin/pulumi" version)
[ "$got" = "$pulumi_version" ] || { echo "engine: $bin/pulumi reports $got, not $pulumi_version" >&2; exit 1; }
echo "$bin"
