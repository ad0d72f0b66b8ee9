# shellcheck shell=bash
# A base image downloaded to this machine's cache and verified against its SHA-512 before any VM
# is built on it: the libvirt provider downloads a volume's source without any check, so the
# program hands it the verified local file instead. Settings: IMAGE_URL (https or http URL, or a
# local path), IMAGE_SHA512 (128 hex digits; or empty, and then IMAGE_SUMS_URL names the
# SHA512SUMS file that lists the image), IMAGE_CACHE (the cache folder). Prints the verified file.

# The SHA-512 of a file, lowercase hex.
sha512_of() {
    sha512sum -- "$1" | cut -d ' ' -f 1
}

image_fetch() {
    : "${IMAGE_URL:?}" "${IMAGE_CACHE:?}"
    local want=${IMAGE_SHA512:-}
    want=${want,,}
    if [[ $IMAGE_URL != http://* && $IMAGE_URL != https://* ]]; then
        # A local file is the user's own: checked when a sha512 is given, used where it is.
        local path=${IMAGE_URL#file://}
        [ -f "$path" ] || die "base image $path does not exist"
        if [ -n "$want" ]; then
            local got
            got=$(sha512_of "$path")
            [ "$got" = "$want" ] || die "base image $path has SHA-512 $got, but the config says $want: not used"
        fi
        echo "$path"
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
        log "base image $IMAGE_URL: verified copy in $file"
        echo "$file"
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
    echo "$file"
}
