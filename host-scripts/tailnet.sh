# shellcheck shell=bash
# A VM's machine on the tailnet, by identity and never by name: several hosts may share a tailnet,
# each with a VM project-<name> (the second joins as project-<name>-1), so a name or hostname says
# nothing about whose machine it is. Once the VM has joined, tailnet_node_record asks the guest
# (through the QEMU guest agent) for its node ID and node key, checks them against the API and
# prints the node ID, which Pulumi keeps as the command's stdout; tailnet_node_delete deletes that
# node (and only it, if it is still this VM's machine) when the VM goes or gets a fresh system disk.
# The guest may be hostile, and it sees its peers' node IDs and node keys in its own netmap: what it
# reports is recorded only when the API's own record of that node agrees with something the guest
# cannot copy from a peer: the node was added to the tailnet (the API's `created`) while this VM's
# single-use auth key was valid (the key's creation and expiry, as the API reported them to the
# provider). A node that cannot be proven is not recorded (a warning names it), so nothing is ever
# deleted on its account; `pulumi up` goes on.
# Tailscale API v2. Settings: NODE_HOSTNAME (project-<name>); TS_TAGS (the tags of the VM's auth
# key, comma-separated); TS_API_KEY, or TS_OAUTH_CLIENT_ID and TS_OAUTH_CLIENT_SECRET;
# TS_BASE_URL (default https://api.tailscale.com). Node IDs are global: no tailnet name is needed.
# tailnet_node_record also DOMAIN, TS_KEY_CREATED and TS_KEY_EXPIRES (RFC 3339, the VM's auth key's
# createdAt and expiresAt); tailnet_node_delete and tailnet_node_keep read PULUMI_COMMAND_STDOUT.

# A Bearer token as the API hands it out: printable, no quotes, spaces or line breaks.
TOKEN_PATTERN='^[A-Za-z0-9._~+/=-]+$'
# A Tailscale node ID (stable ID, e.g. nAbC123CNTRL): letters and digits only.
NODE_ID_PATTERN='^[A-Za-z0-9]+$'

# TS_BASE_URL defaulted and checked: https to a host name (plain http only to this machine, for
# a local stand-in), no path: the credentials go to it.
tailnet_base_url() {
    TS_BASE_URL=${TS_BASE_URL:-https://api.tailscale.com}
    TS_BASE_URL=${TS_BASE_URL%/}
    [[ "$TS_BASE_URL" =~ ^(https://[A-Za-z0-9.-]+|http://(127\.0\.0\.1|localhost))(:[0-9]+)?$ ]] ||
        die "tailscale:baseUrl must be https://<host>[:port] (without a path), not '$TS_BASE_URL'"
}

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

# curl against the API: tailnet_api <token> <method> <path> [extra config lines]. The URL and the
# bearer token go through curl's config on stdin (never on a command line), quoted.
tailnet_api() {
    local token=$1 method=$2 path=$3 config
    config=$(
        curl_config_line url "$TS_BASE_URL$path"
        curl_config_line request "$method"
        curl_config_line header "Authorization: Bearer $token"
    )
    curl -sS --retry 3 -K - "${@:4}" <<<"$config"
}

# The API's record of node $2 (all fields), or nothing when there is no such node.
tailnet_device() {
    local token=$1 id=$2 out code
    [[ "$id" =~ $NODE_ID_PATTERN ]] || die "'$id' is not a Tailscale node ID"
    out=$(tailnet_api "$token" GET "/api/v2/device/$id?fields=all" --write-out '\n%{http_code}')
    code=${out##*$'\n'}
    case "$code" in
        200) printf '%s\n' "${out%$'\n'*}" ;;
        404) ;;
        *) die "the Tailscale API answered $code when asked for node $id" ;;
    esac
}

# Why the device $1 (the API's JSON) is not this VM's machine: node ID $2, hostname
# $NODE_HOSTNAME, every tag of $TS_TAGS, and node key $3 when given. Empty when it is.
tailnet_device_mismatch() {
    jq -r --arg id "$2" --arg host "$NODE_HOSTNAME" --arg tags "${TS_TAGS:-}" --arg key "${3:-}" '[
        (select(.nodeId != $id) | "its node ID is \(.nodeId)"),
        (select(.hostname != $host) | "its hostname is \(.hostname)"),
        (($tags | split(",") | map(select(. != ""))) - (.tags // []) | select(length > 0) | "it lacks the tags \(join(","))"),
        (select($key != "" and .nodeKey != $key) | "its node key is not the one the VM holds")
    ] | join("; ")' <<<"$1"
}

# Why the device $1 (the API's JSON) cannot be proven to be the machine this VM made with its auth
# key, given the node key $2 the guest reported: empty when it can. A guest can copy a peer's node
# ID and node key, not the time the API says that node joined: only a node that joined within the
# life of this VM's single-use key (TS_KEY_CREATED to TS_KEY_EXPIRES) can be this VM's. Times are
# the API's own (RFC 3339 in UTC, as it writes them); one that is not, or before 2017, is unknown.
tailnet_device_unproven() {
    jq -r --arg key "$2" --arg c "${TS_KEY_CREATED:-}" --arg e "${TS_KEY_EXPIRES:-}" '
        def t: [strings | select(test("^[0-9-]{10}T[0-9:]{8}([.][0-9]+)?Z$")) | sub("[.][0-9]+"; "") | try fromdateiso8601 | select(. > 1.5e9)][0];
        [(select($key == "") | "the guest reported no node key"),
         if ($c | t) == null then "the VM'"'"'s auth key has no known creation time"
         elif (.created | t) == null then "the API gives no time it joined"
         elif (.created | t) < ($c | t) then "it joined the tailnet at \(.created), before the VM'"'"'s auth key was made (\($c))"
         elif (.created | t) > ($e | t // infinite) then "it joined the tailnet at \(.created), after the VM'"'"'s auth key expired (\($e))"
         else empty end] | join("; ")' <<<"$1"
}

# The other machines of this VM's hostname and tags that joined the tailnet within its auth key's
# life (TS_KEY_CREATED up to now), as a reason not to record node $2; empty when there are none.
# The device list is the API's; a list that cannot be read is a reason too.
tailnet_twins() {
    local token=$1 id=$2 out code
    out=$(tailnet_api "$token" GET "/api/v2/tailnet/${TS_TAILNET:--}/devices?fields=all" --write-out '\n%{http_code}')
    code=${out##*$'\n'}
    if [ "$code" != 200 ]; then
        echo "the tailnet's machines could not be listed (HTTP $code), so another of the same name cannot be ruled out"
        return 0
    fi
    jq -r --arg id "$id" --arg host "$NODE_HOSTNAME" --arg tags "${TS_TAGS:-}" --arg c "${TS_KEY_CREATED:-}" '
        def t: [strings | select(test("^[0-9-]{10}T[0-9:]{8}([.][0-9]+)?Z$")) | sub("[.][0-9]+"; "") | try fromdateiso8601 | select(. > 1.5e9)][0];
        ($tags | split(",") | map(select(. != ""))) as $want
        | [.devices[]? | select(.nodeId != $id and .hostname == $host and (($want - (.tags // [])) | length) == 0
            and ((.created | t) // 0) >= ($c | t))]
        | if length > 0 then "\(map(.nodeId) | join(", ")) of the same name and tags joined the tailnet too while this VM'"'"'s auth key was valid (another host'"'"'s VM of this project name?)" else empty end
    ' <<<"${out%$'\n'*}"
}

tailnet_node_record() {
    : "${DOMAIN:?}" "${NODE_HOSTNAME:?}"
    tailnet_base_url
    local status node_id node_key token device problem why name
    # shellcheck disable=SC2034 # guest_exec's deadline
    deadline=$((SECONDS + ${RECORD_TIMEOUT:-120}))
    [ "$(domain_state "$DOMAIN")" = running ] ||
        die "$DOMAIN is not running: its tailnet node can only be read from the guest. Set it running: true, pulumi up, then stop it again"
    status=$(guest_exec sh -c 'tailscale status --json --peers=false 2>/dev/null') || die "$DOMAIN: could not read 'tailscale status' in the guest"
    node_id=$(jq -r '.Self.ID // empty' <<<"$status" 2>/dev/null) || node_id=""
    node_key=$(jq -r '.Self.PublicKey // empty' <<<"$status" 2>/dev/null) || node_key=""
    [[ "$node_id" =~ $NODE_ID_PATTERN ]] || die "$DOMAIN has not joined the tailnet: 'tailscale status' in the guest names no node"
    token=$(tailnet_token)
    device=$(tailnet_device "$token" "$node_id")
    [ -n "$device" ] || die "$DOMAIN says it is tailnet node $node_id, which the Tailscale API does not know"
    name=$(jq -r '.name' <<<"$device")
    # Every check, the node key's included (reporting none does not skip it).
    problem=$(tailnet_device_mismatch "$device" "$node_id" "$node_key")
    why=$(tailnet_device_unproven "$device" "$node_key")
    problem+=${problem:+${why:+; }}$why
    if [ -z "$problem" ]; then
        # Another host's VM of this name (same hostname and tags) that joined within this key's
        # life is as good a match as the one reported: which is this VM's cannot be told.
        problem=$(tailnet_twins "$token" "$node_id")
    fi
    if [ -n "$problem" ]; then
        log "WARNING: not recording tailnet node $node_id ($name), which $DOMAIN says it is: not provably its machine: $problem. Nothing is deleted for it: remove it in the admin console if it is a leftover"
        jq -cn --arg host "$NODE_HOSTNAME" --arg why "$node_id ($name): $problem" '{hostname: $host, unproven: $why}'
        return 0
    fi
    log "$DOMAIN is tailnet node $node_id ($name)"
    if [[ "$name" != "$NODE_HOSTNAME".* ]]; then
        log "note: another machine already holds the name $NODE_HOSTNAME on the tailnet (another host's project of the same name, or a machine left behind), so this VM is ${name%%.*}. That machine is not deleted on this VM's behalf: remove it in the admin console if it is a leftover"
    fi
    jq -cn --arg id "$node_id" --arg host "$NODE_HOSTNAME" '{nodeId: $id, hostname: $host}'
}

tailnet_node_delete() {
    : "${NODE_HOSTNAME:?}"
    tailnet_base_url
    local node_id token device problem why
    node_id=$(jq -r '.nodeId // empty' <<<"${PULUMI_COMMAND_STDOUT:-}" 2>/dev/null) || node_id=""
    if [ -z "$node_id" ]; then
        why=$(jq -r '.unproven // empty | strings' <<<"${PULUMI_COMMAND_STDOUT:-}" 2>/dev/null) || why=""
        log "no tailnet node was recorded for $NODE_HOSTNAME${why:+ (the node its guest named was not provably its own: }$why${why:+)}: deleting none (if it joined, remove it in the admin console)"
        return 0
    fi
    token=$(tailnet_token)
    device=$(tailnet_device "$token" "$node_id")
    if [ -z "$device" ]; then
        log "tailnet node $node_id of $NODE_HOSTNAME is already gone"
        return 0
    fi
    problem=$(tailnet_device_mismatch "$device" "$node_id")
    if [ -n "$problem" ]; then
        log "WARNING: not deleting tailnet node $node_id, recorded as $NODE_HOSTNAME's: $problem. Remove it in the admin console if it is still this VM's"
        return 0
    fi
    tailnet_api "$token" DELETE "/api/v2/device/$node_id" --fail >/dev/null
    log "deleted tailnet machine $NODE_HOSTNAME ($node_id, $(jq -r '.name' <<<"$device"))"
}

# An update (rotated credentials, new tags, new inputs such as the auth key's times, a new version
# of these scripts) is the same machine: the node recorded stays recorded, whatever the VM's power
# state, and so does a node found unprovable (asking the guest again would prove nothing more).
# Only a VM never recorded is read from the guest (as at create).
tailnet_node_keep() {
    : "${NODE_HOSTNAME:?}"
    local node_id unproven
    node_id=$(jq -r '.nodeId // empty' <<<"${PULUMI_COMMAND_STDOUT:-}" 2>/dev/null) || node_id=""
    if [[ "$node_id" =~ $NODE_ID_PATTERN ]]; then
        jq -cn --arg id "$node_id" --arg host "$NODE_HOSTNAME" '{nodeId: $id, hostname: $host}'
        return 0
    fi
    unproven=$(jq -c --arg host "$NODE_HOSTNAME" '{hostname: $host, unproven} | select(.unproven | strings)' <<<"${PULUMI_COMMAND_STDOUT:-}" 2>/dev/null) || unproven=""
    if [ -z "$node_id" ] && [ -n "$unproven" ]; then
        printf '%s\n' "$unproven"
        return 0
    fi
    tailnet_node_record
}
