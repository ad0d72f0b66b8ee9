# shellcheck shell=bash
# A base image downloaded to this machine's cache and verified against its SHA-512 before any VM
# is built on it: the libvirt provider downloads a volume's source without any check, so the
# program hands it the verified local file instead. Settings: IMAGE_URL (https or http URL, or a
# local path), IMAGE_SHA512 (128 hex digits; or empty, and then IMAGE_SUMS_URL names the
# SHA512SUMS file that lists the image), IMAGE_CACHE (the cache folder), IMAGE_VERSION (the
# version it is, for messages). Prints the verified file; its SHA-512 is in what it logs
# ("(SHA-512 …)"), which the next run reads back (PULUMI_COMMAND_STDERR) to refuse a changed image.

# The SHA-512 of a file, lowercase hex.
sha512_of() {
    sha512sum -- "$1" | cut -d ' ' -f 1
}

# Finds (or downloads) and verifies the image: sets image_path and image_sha.
image_get() {
    : "${IMAGE_URL:?}" "${IMAGE_CACHE:?}"
    local want=${IMAGE_SHA512:-}
    want=${want,,}
    if [[ $IMAGE_URL != http://* && $IMAGE_URL != https://* ]]; then
        # A local file is the user's own: checked when a sha512 is given, used where it is.
        local path=${IMAGE_URL#file://}
        [ -f "$path" ] || die "base image $path does not exist"
        local got
        got=$(sha512_of "$path")
        [ -z "$want" ] || [ "$got" = "$want" ] || die "base image $path has SHA-512 $got, but the config says $want: not used"
        log "base image $path used where it is (SHA-512 $got)"
        image_path=$path image_sha=$got
        return
    fi
    local name=${IMAGE_URL##*/}
    name=${name%%\?*}
    if [ -z "$want" ]; then
        : "${IMAGE_SUMS_URL:?no sha512 for $IMAGE_URL and no SHA512SUMS to read it from}"
        local sums
        sums=$(curl -fsSL --retry 3 --proto =https,http --proto-redir =https -- "$IMAGE_SUMS_URL") ||
            die "could not read $IMAGE_SUMS_URL to verify $IMAGE_URL"
        want=$(awk -v n="$name" '$2 == n || $2 == "*" n { print tolower($1); exit }' <<<"$sums")
        [ -n "$want" ] || die "$IMAGE_SUMS_URL lists no $name: its SHA-512 is unknown, so it is not used"
    fi
    [[ $want =~ ^[0-9a-f]{128}$ ]] || die "the SHA-512 of $IMAGE_URL is not 128 hexadecimal digits: $want"
    mkdir -p -- "$IMAGE_CACHE"
    local file="$IMAGE_CACHE/$want.qcow2"
    if [ -f "$file" ] && [ "$(sha512_of "$file")" = "$want" ]; then
        log "base image $IMAGE_URL: verified copy in $file (SHA-512 $want)"
        image_path=$file image_sha=$want
        return
    fi
    fetch_tmp=$(mktemp "$IMAGE_CACHE/.fetch.XXXXXX")
    trap 'rm -f -- "$fetch_tmp"' EXIT
    log "downloading $IMAGE_URL"
    curl -fsSL --retry 3 --proto =https,http --proto-redir =https,http -o "$fetch_tmp" -- "$IMAGE_URL" ||
        die "could not download $IMAGE_URL"
    local got
    got=$(sha512_of "$fetch_tmp")
    [ "$got" = "$want" ] ||
        die "base image $IMAGE_URL has SHA-512 $got, but $want was expected: it is not used, and nothing is built on it"
    mv -- "$fetch_tmp" "$file"
    trap - EXIT
    log "base image $IMAGE_URL verified (SHA-512 $want)"
    image_path=$file image_sha=$want
}

# create: the verified file.
image_fetch() {
    image_get
    echo "$image_path"
}

# The SHA-512 of the image an earlier run verified, from what it printed: a cached file is named
# by it, and every run logs it. Empty when the run said neither (a local file, before it was logged).
image_sha_before() {
    local out=${PULUMI_COMMAND_STDOUT:-} err=${PULUMI_COMMAND_STDERR:-} name sha
    name=${out##*/}
    if [[ $name =~ ^[0-9a-f]{128}\.qcow2$ ]]; then
        echo "${name%.qcow2}"
        return
    fi
    sha=$(grep -oE '\(SHA-512 [0-9a-f]{128}\)' <<<"$err" | tail -n 1) || true
    sha=${sha#(SHA-512 }
    echo "${sha%)}"
}

# update: a version's volume is never made again (every VM's system disk rests on it), so its
# image must stay the one the volume was made from; a changed url with the same image is fine.
image_refetch() {
    local before
    before=$(image_sha_before)
    image_get
    if [ -z "$before" ]; then
        log "base image version ${IMAGE_VERSION:-?}: the image its volume was made from is not on record; it is kept as it is"
    elif [ "$before" != "$image_sha" ]; then
        die "project-vms:baseImages: version ${IMAGE_VERSION:-?} is now the image $IMAGE_URL (SHA-512 $image_sha), but its volume was made from the image with SHA-512 $before, and a version's image never changes (every VM's disk rests on it). Put its url and sha512 back, and add the new image as a new version: project-vm base add <version> <url>"
    fi
    echo "$image_path"
}
