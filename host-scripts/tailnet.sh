# shellcheck shell=bash
# Deletes a VM's machine from the tailnet when the VM goes (or gets a fresh system disk), so that
# the next VM of that name is project-<name> again and not project-<name>-1. Tailscale API v2.
# Settings: NODE_HOSTNAME; TS_API_KEY, or TS_OAUTH_CLIENT_ID and TS_OAUTH_CLIENT_SECRET;
# TS_TAILNET (default "-": the credentials' tailnet); TS_BASE_URL (default https://api.tailscale.com).

tailnet_token() {
    if [ -n "${TS_API_KEY:-}" ]; then
        printf '%s' "$TS_API_KEY"
    elif [ -n "${TS_OAUTH_CLIENT_ID:-}" ] && [ -n "${TS_OAUTH_CLIENT_SECRET:-}" ]; then
        curl -fsS --retry 3 "$TS_BASE_URL/api/v2/oauth/token" -K - \
            <<<"data = \"client_id=$TS_OAUTH_CLIENT_ID&client_secret=$TS_OAUTH_CLIENT_SECRET\"" | jq -er '.access_token'
    else
        die "no Tailscale API credentials (tailscale:apiKey, or tailscale:oauthClientId and tailscale:oauthClientSecret)"
    fi
}

# curl against the API, the bearer token passed on stdin (never on a command line).
tailnet_api() {
    local token=$1
    shift
    curl -fsS --retry 3 -K - "$@" <<<"header = \"Authorization: Bearer $token\""
}

tailnet_node_delete() {
    : "${NODE_HOSTNAME:?}"
    TS_BASE_URL=${TS_BASE_URL:-https://api.tailscale.com}
    local token devices ids id
    token=$(tailnet_token)
    devices=$(tailnet_api "$token" "$TS_BASE_URL/api/v2/tailnet/${TS_TAILNET:--}/devices")
    # The machine holding the name project-<name>.<tailnet>; not one whose OS hostname merely
    # matches (a VM of the same name elsewhere, or this VM's successor).
    ids=$(jq -r --arg h "$NODE_HOSTNAME" '.devices[] | select(.name | startswith($h + ".")) | .id' <<<"$devices")
    if [ -z "$ids" ]; then
        log "no tailnet machine named $NODE_HOSTNAME"
        return 0
    fi
    for id in $ids; do
        tailnet_api "$token" -X DELETE "$TS_BASE_URL/api/v2/device/$id" >/dev/null
        log "deleted tailnet machine $NODE_HOSTNAME ($id)"
    done
}
