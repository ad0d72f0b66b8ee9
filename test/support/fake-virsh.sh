#!/bin/bash
# The one stand-in virsh of the tests (driven through FakeHost in fakeVirsh.ts): libvirt's state as
# files under $FAKE_VIRSH. Called as virsh [-q] [-c <uri>] <verb> args...; every call is recorded
# in calls (the arguments after the URI).
#
#   domains/<name>/          a domain: state (absent: defined nowhere), agent (its guest agent
#                            answers), ip, iflist, blk-details, dominfo, xml and transient (made
#                            by create: gone once it stops; its folder is kept to be read), acpi
#                            (domstate polls a shutdown takes; "never": the guest ignores it), and
#                            its guest's answers: cloud-init.txt/.json/.code, log, log-error
#                            (tail fails, printing it), instance-id,
#                            boot-id, tailscale.json, agent-late (pings that fail first), agent-busy
#                            (status polls that fail first), exec-late (commands it cannot start
#                            first: its channel resetting while the guest boots), sealed (seal.sh ran), seal.code
#                            (its exit code; absent: 0)
#   new-domain/              what a domain made by create starts with (copied into it)
#   kvm                      domcapabilities --virttype kvm answers (absent: no KVM)
#   pools/<pool>/<volume>    a volume: "capacity allocation backing compat" (backing "-": none);
#                            content/<pool>/<volume> what vol-upload wrote; pooldir-<pool> its
#                            target path; pools/<pool>.state (absent: running)
#   bitmaps/<name>, meta-<name>  dirty bitmaps in the project disk, checkpoint metadata
#
# Knobs (files): down (no libvirt at all), fail-after (N: every call after the Nth fails, libvirt
# gone), fails/<verb> (the call fails, nothing done; its content the error), errs-after/<verb>
# (the call takes effect, then reports its content as an error), slow/<verb> ("<seconds> before"
# or "<seconds> after" the effect; touches in-<verb> when the wait begins), after/<verb> (a bash
# script run once right after the call, given its arguments: another actor), list-fails, job-fails,
# v2, pool-full, copy-fails, copy-slow (a copy between pools; touches copying), copy-short (a copy
# within a pool comes out at half the size), begin-kill (the
# signal backup-begin sends the calling script), FAKE_LOCK (env: a path whose presence at each
# call is recorded in lock-seen).
F=$FAKE_VIRSH
[ "$1" = -q ] && shift
[ "$1" = -c ] && shift 2
echo "$*" >> "$F/calls"
verb=$1; shift
# Whether project-vm held the stack's lock (FAKE_LOCK: its path) at each call.
[ -z "${FAKE_LOCK:-}" ] || { [ -e "$FAKE_LOCK" ] && echo "held $verb" || echo "free $verb"; } >> "$F/lock-seen"
[ -e "$F/down" ] && { printf "error: failed to connect to the hypervisor\nerror: Cannot recv data: Connection reset by peer\n" >&2; exit 1; }
if [ -e "$F/fail-after" ]; then
  n=$(wc -l < "$F/calls")
  [ "$n" -gt "$(cat "$F/fail-after")" ] && { echo "error: Cannot recv data: Connection reset by peer" >&2; exit 1; }
fi
[ -e "$F/fails/$verb" ] && { cat "$F/fails/$verb" >&2; exit 1; }
wait_slow() { # $1: before|after
  local s when
  [ -e "$F/slow/$verb" ] || return 0
  read -r s when < "$F/slow/$verb"
  [ "$when" = "$1" ] || return 0
  touch "$F/in-$verb"; read -rt "$s" <> <(:) || true
}
arg() { # the value after option $1
  local want=$1; shift
  local a prev=""
  for a in "$@"; do
    if [ "$prev" = "$want" ]; then echo "$a"; return; fi
    prev=$a
  done
}
positional() { # positional args without --options (and their values)
  local skip=0 a
  for a in "$@"; do
    if [ $skip = 1 ]; then skip=0; continue; fi
    case "$a" in --pool|--inputpool|--timeout|--xmlfile|--mode|--target|--source|--size|--format|--virttype|--backing-vol|--backing-vol-format) skip=1 ;; --*) ;; *) echo "$a" ;; esac
  done
}
vol() { echo "$F/pools/$1/$2"; }
dom() { echo "$F/domains/$1"; }
state() { cat "$(dom "$1")/state" 2>/dev/null; }
nodomain() { echo "error: failed to get domain '$1'" >&2; exit 1; }
running() { [ "$(state "$1")" = running ] || { echo "error: Requested operation is not valid: domain is not running" >&2; exit 1; }; }
name_in() { sed -n 's:.*<name>\([^<]*\)</name>.*:\1:p' "$1" | head -n 1; }
b64() { base64 -w0; }
# The guest's answer to a command run by its agent: its stdout, and its exit code.
guest() {
  local d=$1; shift
  case "$*" in
    "cloud-init status --format json"*) cat "$d/cloud-init.json" 2>/dev/null || echo '{"status":"done","extended_status":"done","errors":[]}'; return "$(cat "$d/cloud-init.code" 2>/dev/null || echo 0)" ;;
    "cloud-init status"*) cat "$d/cloud-init.txt" 2>/dev/null || echo "status: done"; return "$(cat "$d/cloud-init.code" 2>/dev/null || echo 0)" ;;
    "tail -n "*) [ ! -e "$d/log-error" ] || { cat "$d/log-error" >&2; return 1; }; [ ! -e "$d/log" ] || tail -n "$3" "$d/log" ;;
    "sh -c "*cloud-init-output.log*) cat "$d/log" 2>/dev/null; true ;;
    "sh -c "*"tailscale status"*) cat "$d/tailscale.json" 2>/dev/null; true ;;
    "cat /var/lib/cloud/data/instance-id") cat "$d/instance-id" 2>/dev/null; true ;;
    "cat /proc/sys/kernel/random/boot_id") cat "$d/boot-id" 2>/dev/null || echo boot-1 ;;
    */seal.sh) touch "$d/sealed"; echo sealed; return "$(cat "$d/seal.code" 2>/dev/null || echo 0)" ;;
    *) return 127 ;;
  esac
}
countdown() { # true (and one less left) while the file $1 holds a count above 0
  local n
  [ -e "$1" ] || return 1
  n=$(cat "$1"); [ "$n" -gt 0 ] || return 1
  echo $((n - 1)) > "$1"
}
wait_slow before
case "$verb" in
  list) [ -e "$F/list-fails" ] && { echo "error: failed to connect to the hypervisor" >&2; exit 1; }
    i=0
    for d in "$F"/domains/*/; do
      [ -e "$d/state" ] || continue
      n=$(basename "$d"); s=$(cat "$d/state"); i=$((i + 1))
      if [ "$1" = --name ] || [ "$2" = --name ]; then echo "$n"; else printf ' %-5s %-20s %s\n' "$([ "$s" = running ] && echo $i || echo -)" "$n" "$s"; fi
    done ;;
  domstate) d=$(dom "$1"); [ -e "$d/state" ] || nodomain "$1"
    if [ -e "$d/acpi-left" ]; then countdown "$d/acpi-left" || { echo "shut off" > "$d/state"; rm -f "$d/acpi-left"; }; fi
    cat "$d/state" ;;
  dominfo) d=$(dom "$1"); [ -e "$d/state" ] || nodomain "$1"
    cat "$d/dominfo" 2>/dev/null || printf 'Name:           %s\nState:          %s\nManaged save:   no\n' "$1" "$(cat "$d/state")" ;;
  domiflist) d=$(dom "$1"); [ -e "$d/state" ] || nodomain "$1"; cat "$d/iflist" 2>/dev/null || printf ' -  network  project-vms  virtio  52:54:00:00:00:01\n' ;;
  domifaddr) d=$(dom "$1"); [ -e "$d/state" ] || nodomain "$1"
    [ -e "$d/ip" ] && [ "$(arg --source "$@")" = lease ] && printf ' vnet0      52:54:00:aa:bb:cc    ipv4         %s/24\n' "$(cat "$d/ip")"
    [ -e "$d/agent-ip" ] && [ "$(arg --source "$@")" = agent ] && printf ' lo         00:00:00:00:00:00    ipv4         127.0.0.1/8\n eth0       52:54:00:aa:bb:cc    ipv4         %s/24\n' "$(cat "$d/agent-ip")"; true ;;
  domblklist) if [ "$1" = --details ]; then d=$(dom "$2"); else d=$(dom "$1"); fi
    if [ "$1" = --details ]; then cat "$d/blk-details" 2>/dev/null || printf ' file  disk  vda  /x/disk.qcow2\n file  disk  vdb  /x/project.qcow2\n file  cdrom  hdd  /x/cloud-init.iso\n'
    else printf ' vda  /x/disk.qcow2\n vdb  project.qcow2\n hdd  /x/cloud-init.iso\n'; fi ;;
  qemu-agent-command) d=$(dom "$1")
    { [ -e "$d/agent" ] && [ "$(state "$1")" = running ]; } || { echo "error: Guest agent is not responding: QEMU guest agent is not connected" >&2; exit 1; }
    case "$(jq -r .execute <<<"$2")" in
      guest-ping) countdown "$d/agent-late" && { echo "error: Guest agent is not responding" >&2; exit 1; }; echo '{"return":{}}' ;;
      guest-exec) countdown "$d/exec-late" && { echo "error: Guest agent is not responding: Guest agent not available for now" >&2; exit 1; }
        [ -e "$d/exec-no-pid" ] && { echo '{"return":{}}'; exit 0; }
        pid=$(( $(cat "$F/last-pid" 2>/dev/null || echo 0) + 1 )); echo "$pid" > "$F/last-pid"
        mapfile -t argv < <(jq -r '.arguments.path, .arguments.arg[]' <<<"$2")
        code=0; guest "$d" "${argv[@]}" > "$F/exec-$pid.out" 2> "$F/exec-$pid.err" || code=$?; echo "$code" > "$F/exec-$pid.code"
        echo "{\"return\":{\"pid\":$pid}}" ;;
      guest-exec-status) countdown "$d/agent-busy" && { echo "error: guest agent is busy" >&2; exit 1; }
        [ -e "$d/exec-hangs" ] && { echo '{"return":{"exited":false}}'; exit 0; }
        pid=$(jq -r .arguments.pid <<<"$2")
        printf '{"return":{"exited":true,"exitcode":%s,"out-data":"%s","err-data":"%s"}}\n' "$(cat "$F/exec-$pid.code")" "$(b64 < "$F/exec-$pid.out")" "$(b64 < "$F/exec-$pid.err")" ;;
      *) echo "fake virsh: unexpected agent command $2" >&2; exit 2 ;;
    esac ;;
  reboot) [ -e "$(dom "$1")/state" ] || nodomain "$1"; running "$1"; echo "boot-$RANDOM" > "$(dom "$1")/boot-id"; echo "Domain '$1' is being rebooted" ;;
  create) n=$(name_in "$1"); [ -e "$(dom "$n")/state" ] && { echo "error: domain '$n' already exists" >&2; exit 1; }
    mkdir -p "$(dom "$n")"; cp -r "$F/new-domain/." "$(dom "$n")/"; cp "$1" "$(dom "$n")/xml"; touch "$(dom "$n")/transient"; echo running > "$(dom "$n")/state" ;;
  shutdown) d=$(dom "$1"); [ -e "$d/state" ] || nodomain "$1"; running "$1"; echo "$1" >> "$F/shut-down"
    if [ -e "$d/transient" ]; then rm "$d/state"; elif [ ! -e "$d/acpi" ]; then echo "shut off" > "$d/state"; elif [ "$(cat "$d/acpi")" != never ] && [ ! -e "$d/acpi-left" ]; then cp "$d/acpi" "$d/acpi-left"; fi ;;
  destroy) d=$(dom "$1"); [ -e "$d/state" ] || nodomain "$1"; running "$1"; rm -f "$d/acpi-left"
    if [ -e "$d/transient" ]; then rm "$d/state"; else echo "shut off" > "$d/state"; fi ;;
  start) [ -e "$(dom "$1")/state" ] || nodomain "$1"; echo running > "$(dom "$1")/state" ;;
  undefine) rm -f "$(dom "$1")/state" ;;
  domfsfreeze) touch "$F/frozen" ;;
  domfsthaw) if [ -e "$F/frozen" ]; then rm -f "$F/frozen"; echo "Thawed 1 filesystem(s)"; else echo "Thawed 0 filesystem(s)"; fi ;;
  blockresize) running "$1"; t=$(arg --size "$@"); p=$(awk -v t="$2" '$3 == t { print $4 }' "$(dom "$1")/blk-details")
    f=$(vol "$(basename "$(dirname "$p")")" "$(basename "$p")"); read -r _ alloc rest < "$f"; echo "${t%B} $alloc $rest" > "$f" ;;
  domcapabilities) [ -e "$F/kvm" ] || { echo "error: KVM is not available" >&2; exit 1; }; echo "<domainCapabilities/>" ;;
  pool-list) for p in "$F"/pools/*/; do [ -d "$p" ] && basename "$p"; done; true ;;
  pool-info) p=$(positional "$@"); [ -d "$F/pools/$p" ] || { echo "error: failed to get pool '$p'" >&2; exit 1; }
    printf 'Name:           %s\nState:          %s\n' "$p" "$(cat "$F/pools/$p.state" 2>/dev/null || echo running)" ;;
  pool-define-as) [ -e "$F/pools/$1.state" ] && { echo "error: pool '$1' already exists" >&2; exit 1; }; mkdir -p "$F/pools/$1"; t=$(arg --target "$@"); echo "${t:-$4}" > "$F/pooldir-$1"; echo inactive > "$F/pools/$1.state" ;;
  pool-start) [ -d "$F/pools/$1" ] && echo running > "$F/pools/$1.state" ;;
  pool-destroy) [ -d "$F/pools/$1" ] && echo inactive > "$F/pools/$1.state" ;;
  pool-delete) rmdir "$F/pools/$1" ;;
  pool-undefine) [ -e "$F/pools/$1.state" ] || exit 1; rm -f "$F/pools/$1.state" "$F/pooldir-$1" ;;
  pool-build|pool-autostart|pool-refresh) p=$(positional "$@"); [ -d "$F/pools/$p" ] ;;
  pool-dumpxml) printf '<pool type="dir">\n  <target>\n    <path>%s</path>\n  </target>\n</pool>\n' "$(cat "$F/pooldir-$1" 2>/dev/null)" ;;
  vol-list) p=$(arg --pool "$@"); [ -n "$p" ] || p=$1; [ -d "$F/pools/$p" ] || { echo "error: failed to get pool '$p'" >&2; exit 1; }
    for f in "$F/pools/$p"/*; do [ -e "$f" ] && echo " ${f##*/}  /p/$p/${f##*/}"; done; true ;;
  vol-path) p=$(arg --pool "$@"); v=$(positional "$@"); [ -e "$(vol "$p" "$v")" ] || { echo "error: no vol $v" >&2; exit 1; }; echo "/pools/$p/$v" ;;
  vol-info) p=$(arg --pool "$@"); v=$(positional "$@"); f=$(vol "$p" "$v"); [ -e "$f" ] || { echo "error: failed to get vol '$v'" >&2; exit 1; }
    read -r cap alloc _ < "$f"; printf 'Name:           %s\nType:           file\nCapacity:       %s bytes\nAllocation:     %s bytes\n' "$v" "$cap" "$alloc" ;;
  vol-dumpxml) p=$(arg --pool "$@"); v=$(positional "$@"); f=$(vol "$p" "$v"); [ -e "$f" ] || exit 1
    read -r _ _ backing compat < "$f"
    echo "<volume><name>$v</name><target><format type='qcow2'/>"; [ "$compat" = v2 ] || echo "<compat>1.1</compat>"
    echo "<timestamps><atime>$(stat -c %X "$f").5</atime><mtime>$(stat -c %Y "$f").25</mtime></timestamps></target>"
    [ "$backing" = - ] || [ -z "$backing" ] || echo "<backingStore><path>$backing</path></backingStore>"; echo "</volume>" ;;
  vol-create-as) mapfile -t pos < <(positional "$@"); set -- "${pos[@]}"; [ -d "$F/pools/$1" ] || exit 1
    [ -e "$(vol "$1" "$2")" ] && { echo "error: storage volume name '$2' already in use." >&2; exit 1; }
    echo "$3 0 - v3" > "$(vol "$1" "$2")" ;;
  vol-create) p=$1; x=$(cat "$2"); n=$(name_in "$2")
    [ -e "$(vol "$p" "$n")" ] && { echo "error: storage volume name '$n' already in use." >&2; exit 1; }
    [ -e "$F/pool-full" ] && [[ "$n" == *.qcow2 ]] && { echo "error: cannot allocate '$n': No space left on device" >&2; exit 1; }
    c=$(sed -n 's:.*<capacity[^>]*>\([0-9]*\)</capacity>.*:\1:p' <<<"$x")
    b=$(sed -n 's:.*<backingStore><path>\([^<]*\)</path>.*:\1:p' <<<"$x")
    # As libvirt reports it: a relative backing file resolved against the volume's folder.
    [ -z "$b" ] || [[ "$b" == /* ]] || b="/pools/$p/$b"
    echo "$c 0 ${b:--} v3" > "$(vol "$p" "$n")"; cp "$2" "$F/last-volume.xml" ;;
  vol-create-from) p=$1; ip=$(arg --inputpool "$@"); mapfile -t pos < <(positional "$@"); iv=${pos[2]}; n=$(name_in "$2")
    [ -e "$(vol "$ip" "$iv")" ] || { echo "error: no vol $iv" >&2; exit 1; }
    [ -e "$(vol "$p" "$n")" ] && { echo "error: storage volume name '$n' already in use." >&2; exit 1; }
    [ -e "$F/copy-fails" ] && [ "$ip" != "$p" ] && { echo "error: copy failed" >&2; exit 1; }
    if [ -e "$F/copy-slow" ] && [ "$ip" != "$p" ]; then touch "$F/copying"; read -rt 30 <> <(:) || true; fi
    read -r cap alloc _ < "$(vol "$ip" "$iv")"
    if [ -e "$F/copy-short" ] && [ "$ip" = "$p" ]; then cap=$((cap / 2)); fi
    echo "$cap $alloc - v3" > "$(vol "$p" "$n")" ;;
  vol-upload) p=$(arg --pool "$@"); mapfile -t pos < <(positional "$@"); set -- "${pos[@]}"; [ -e "$(vol "$p" "$1")" ] || exit 1
    mkdir -p "$F/content/$p"; cp "$2" "$F/content/$p/$1" ;;
  vol-download) p=$(arg --pool "$@"); mapfile -t pos < <(positional "$@"); set -- "${pos[@]}"; [ -e "$(vol "$p" "$1")" ] || exit 1
    cat "$F/content/$p/$1" > "$2" 2>/dev/null || : > "$2" ;;
  vol-delete) p=$(arg --pool "$@"); v=$(positional "$@"); [ -e "$(vol "$p" "$v")" ] || { echo "error: failed to get vol '$v'" >&2; exit 1; }
    rm "$(vol "$p" "$v")"; rm -f "$F/content/$p/$v"; echo "Vol $v deleted" ;;
  vol-resize) p=$(arg --pool "$@"); mapfile -t pos < <(positional "$@"); set -- "${pos[@]}"; f=$(vol "$p" "$1"); read -r _ alloc rest < "$f"; echo "${2%B} $alloc $rest" > "$f" ;;
  checkpoint-create) n=$(name_in "$2")
    [ -e "$F/bitmaps/$n" ] || { echo "error: checkpoint inconsistent: missing or broken bitmap '$n'" >&2; exit 1; }; touch "$F/meta-$n" ;;
  checkpoint-list) for m in "$F"/meta-*; do [ -e "$m" ] && echo "${m##*/meta-}"; done; true ;;
  checkpoint-info) [ -e "$F/meta-$2" ] ;;
  checkpoint-delete) [ -e "$F/meta-$2" ] || exit 1; rm -f "$F/meta-$2"; [ "$3" = --metadata ] || rm -f "$F/bitmaps/$2" ;;
  backup-begin) [ -e "$F/frozen" ] || echo "NOT FROZEN at backup-begin" >> "$F/calls"
    if [ -n "$3" ] && [ "$3" != --reuse-external ]; then n=$(name_in "$3"); [ -e "$F/v2" ] && { echo "error: Cannot store dirty bitmaps in qcow2 v2 files" >&2; exit 1; }; mkdir -p "$F/bitmaps"; touch "$F/bitmaps/$n" "$F/meta-$n"; fi
    cp "$2" "$F/last-backup.xml"
    if [ -e "$F/begin-kill" ]; then
      # The script's process (under timeout(1), its parent's parent).
      p=$PPID; [ "$(cat "/proc/$p/comm")" = timeout ] && p=$(awk '{print $4}' "/proc/$p/stat")
      kill "-$(cat "$F/begin-kill")" "$p"
    fi
    echo "Backup started" ;;
  domjobinfo) if [ "$2" = --completed ]; then [ -e "$F/job-fails" ] && printf 'Job type:         Failed\nOperation:        Backup\n' || printf 'Job type:         Completed\nOperation:        Backup\n'; else echo "Job type:         None"; fi ;;
  domjobabort) ;;
  *) echo "fake virsh: unexpected $verb $*" >&2; exit 2 ;;
esac
wait_slow after
# Something else acting on the host right after this call (once): after/<verb> run with its arguments.
if [ -e "$F/after/$verb" ]; then mv "$F/after/$verb" "$F/after/$verb.done"; bash "$F/after/$verb.done" "$@"; fi
[ -e "$F/errs-after/$verb" ] && { cat "$F/errs-after/$verb" >&2; exit 1; }
exit 0
