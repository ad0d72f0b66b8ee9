# shellcheck shell=bash
# Shared by the host scripts: strict mode, logging, and virsh against the stack's libvirt URI.
# The program runs these on the machine running Pulumi (through @pulumi/command), as the shared
# library followed by one script and the call of one of its functions, with their settings in
# the environment. Messages go to stderr, which Pulumi shows.
set -Eeuo pipefail
# A failing command inside $(…) fails the substitution too (bash leaves -e off there by default).
shopt -s inherit_errexit

: "${LIBVIRT_URI:?LIBVIRT_URI is not set}"

log() {
    printf 'project-vms: %s\n' "$*" >&2
}

die() {
    log "ERROR: $*"
    exit 1
}

# virsh against the host of this stack.
v() {
    virsh -q -c "$LIBVIRT_URI" "$@"
}

# The state of a domain ("running", "shut off", …), empty when it does not exist (or when libvirt
# cannot be asked: for a check that only skips work; see domain_state_sure).
domain_state() {
    v domstate "$1" 2>/dev/null | head -n 1 || true
}

# The state of a domain as domain_state gives it, empty only when libvirt lists no such domain;
# dies when libvirt cannot say. For the checks that copy or replace a disk, where "not defined"
# guessed for a running VM would copy it torn or replace it under the running guest.
domain_state_sure() {
    local out names
    if out=$(v domstate "$1" 2>/dev/null); then
        head -n 1 <<<"$out"
        return 0
    fi
    names=$(v list --all --name 2>/dev/null) || die "could not read the state of $1: libvirt at $LIBVIRT_URI does not answer"
    ! grep -qxF -- "$1" <<<"$names" || die "could not read the state of $1 from libvirt at $LIBVIRT_URI"
}

# Runs a command in the guest of $DOMAIN through the QEMU guest agent (needs jq): prints its output, returns its exit code (124 when time runs out
# before it ends, 125 when the agent cannot start it by then or the domain stops). Polls until $deadline (seconds since start).
guest_exec() {
    local request pid status exited args
    local arg
    args=$(for arg in "${@:2}"; do printf '%s' "$arg" | jq -Rs .; done | jq -cs .)
    request=$(jq -cn --arg path "$1" --argjson arg "$args" '{execute: "guest-exec", arguments: {path: $path, arg: $arg, "capture-output": true}}')
    # The agent may refuse to start it for a while though it answered a ping: its channel resets
    # while the guest boots ("Guest agent not available for now", seen 5 minutes into a boot under
    # TCG). That is no verdict on the command: started again while the domain runs, until $deadline.
    until pid=$(v qemu-agent-command "$DOMAIN" "$request" | jq -r '.return.pid // empty') && [[ "$pid" =~ ^[0-9]+$ ]]; do
        if [ "$(domain_state "$DOMAIN")" != running ] || [ "$SECONDS" -ge "${deadline:?guest_exec needs a deadline}" ]; then
            log "the guest agent could not run $1"
            return 125
        fi
        sleep 5
    done
    while :; do
        # A failed poll (the agent busy for a moment) is polled again, until the deadline.
        status=$(v qemu-agent-command "$DOMAIN" "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":$pid}}") || status='{}'
        exited=$(jq -r '.return.exited' <<<"$status" 2>/dev/null) || exited=""
        [ "$exited" = true ] && break
        [ "$SECONDS" -lt "${deadline:?guest_exec needs a deadline}" ] || return 124
        sleep 5
    done
    jq -r '(.return["out-data"] // "" | @base64d), (.return["err-data"] // "" | @base64d)' <<<"$status"
    return "$(jq -r '.return.exitcode // 1' <<<"$status")"
}

# 107374182400 -> 100G: the largest binary unit that divides the size, as the config writes it.
human_size() {
    local bytes=$1 unit=T factor=1099511627776
    for unit in T G M K; do
        if [ $((bytes % factor)) -eq 0 ]; then
            echo "$((bytes / factor))$unit"
            return
        fi
        factor=$((factor / 1024))
    done
    echo "${bytes}B"
}

# One option line of a curl config (read with `curl -K -`, so that values never show on a command
# line): `name = "value"`, quoted as curl's config syntax requires (\ and " escaped inside double
# quotes). A value holding a newline, CR or any other control character is refused: curl's config
# has no escape for it that is safe, and a line break would start a new option (another url).
curl_config_line() {
    local name=$1 value=$2
    [[ "$name" =~ ^[a-z][a-z-]*$ ]] || die "curl_config_line: bad option name '$name'"
    if [[ "$value" =~ [[:cntrl:]] ]]; then
        die "the value for curl's $name holds a newline or another control character: refusing to use it"
    fi
    value=${value//\\/\\\\}
    value=${value//\"/\\\"}
    printf '%s = "%s"\n' "$name" "$value"
}

# Shuts a running domain down through ACPI (asked again every 20 s), forced off after $2 seconds.
acpi_shutdown() {
    local dom=$1 timeout=$2 waited=0 state
    log "shutting down $dom (ACPI; forced off after ${timeout}s)"
    while [ "$waited" -lt "$timeout" ]; do
        if [ $((waited % 20)) -eq 0 ]; then
            v shutdown "$dom" --mode acpi >/dev/null 2>&1 || true
        fi
        sleep 2
        waited=$((waited + 2))
        state=$(domain_state "$dom")
        if [ -z "$state" ] || [ "$state" = "shut off" ]; then
            log "$dom shut down after ${waited}s"
            return 0
        fi
    done
    log "$dom did not shut down within ${timeout}s: forcing it off"
    # (A transient domain that went away meanwhile is off too.)
    v destroy "$dom" >/dev/null || [ -z "$(domain_state "$dom")" ]
}

# A libvirt dir pool $1 at folder $2, made idempotently (taken up again when it exists), started
# and autostarted; refused when a pool of that name is at another folder ($3: a hint to add then).
dir_pool_ensure() {
    local pool=$1 dir=$2 hint=$3
    if ! v pool-info "$pool" >/dev/null 2>&1; then
        v pool-define-as "$pool" dir --target "$dir" >/dev/null
        v pool-build "$pool" >/dev/null
        log "defined pool $pool at $dir"
    fi
    local target
    target=$(v pool-dumpxml "$pool" | sed -n 's:.*<path>\(.*\)</path>.*:\1:p' | head -n 1)
    [ "$target" = "$dir" ] || die "pool $pool already exists at $target, not at $dir${hint:+ ($hint)}"
    local info
    info=$(v pool-info "$pool")
    if ! grep -Eq '^State:[[:space:]]+running' <<<"$info"; then
        v pool-start "$pool" >/dev/null
    fi
    v pool-autostart "$pool" >/dev/null
    v pool-refresh "$pool" >/dev/null
}
