# shellcheck shell=bash
# Deletes a VM's machine from the tailnet when the VM goes (or gets a fresh system disk), so that
# the next VM of that name is project-<name> again and not project-<name>-1. Tailscale API v2.
# Settings: NODE_HOSTNAME; TS_API_KEY, or TS_OAUTH_CLIENT_ID and TS_OAUTH_CLIENT_SECRET;
# TS_TAILNET (default "-": the credentials' tailnet); TS_BASE_URL (default https://api.tailscale.com).

# A Bearer token as the API hands it out: printable, no quotes, spaces or line breaks.
TOKEN_PATTERN='^[A-Za-z0-9._~+/=-]+$'

tailnet_token() {
    local config token
    if [ -n "${TS_API_KEY:-}" ]; then
        [[ "$TS_API_KEY" =~ $TOKEN_PATTERN ]] || die "tailscale:apiKey is not an API key (it holds characters no key has)"
        printf '%s' "$TS_API_KEY"
    elif [ -n "${TS_OAUTH_CLIENT_ID:-}" ] && [ -n "${TS_OAUTH_CLIENT_SECRET:-}" ]; then
        # Every value through curl's config on stdin, quoted; curl URL-encodes the form fields.
        config=$(
            curl_config_line url "$TS_BASE_URL/api/v2/oauth/token"
            curl_config_line data-urlencode "client_id=$TS_OAUTH_CLIENT_ID"
            curl_config_line data-urlencode "client_secret=$TS_OAUTH_CLIENT_SECRET"
        )
        token=$(curl -fsS --retry 3 -K - <<<"$config" | jq -er '.access_token')
        [[ "$token" =~ $TOKEN_PATTERN ]] || die "the Tailscale OAuth token endpoint returned something that is not a token"
        printf '%s' "$token"
    else
        die "no Tailscale API credentials (tailscale:apiKey, or tailscale:oauthClientId and tailscale:oauthClientSecret)"
    fi
}

# curl against the API: tailnet_api <token> <method> <path>. The URL and the bearer token go
# through curl's config on stdin (never on a command line), quoted.
tailnet_api() {
    local token=$1 method=$2 path=$3 config
    config=$(
        curl_config_line url "$TS_BASE_URL$path"
        curl_config_line request "$method"
        curl_config_line header "Authorization: Bearer $token"
    )
    curl -fsS --retry 3 -K - <<<"$config"
}

tailnet_node_delete() {
    : "${NODE_HOSTNAME:?}"
    TS_BASE_URL=${TS_BASE_URL:-https://api.tailscale.com}
    local token devices ids id
    token=$(tailnet_token)
    devices=$(tailnet_api "$token" GET "/api/v2/tailnet/$(jq -rn --arg t "${TS_TAILNET:--}" '$t | @uri')/devices")
    # The machine holding the name project-<name>.<tailnet>; not one whose OS hostname merely
    # matches (a VM of the same name elsewhere, or this VM's successor).
    ids=$(jq -r --arg h "$NODE_HOSTNAME" '.devices[] | select(.name | startswith($h + ".")) | .id' <<<"$devices")
    if [ -z "$ids" ]; then
        log "no tailnet machine named $NODE_HOSTNAME"
        return 0
    fi
    for id in $ids; do
        [[ "$id" =~ ^[A-Za-z0-9]+$ ]] || die "the API returned a device ID that is not one: '$id'"
        tailnet_api "$token" DELETE "/api/v2/device/$id" >/dev/null
        log "deleted tailnet machine $NODE_HOSTNAME ($id)"
    done
}
