#!/bin/bash
# fake virsh: -q -c <uri> <verb> args...
F=$FAKE_VIRSH
[ "$1" = -q ] && shift
[ "$1" = -c ] && shift 2
echo "$*" >> "$F/calls"
verb=$1; shift
# Whether project-vm held the stack's lock (FAKE_LOCK: its path) at each call.
[ -z "${FAKE_LOCK:-}" ] || { [ -e "$FAKE_LOCK" ] && echo "held $verb" || echo "free $verb"; } >> "$F/lock-seen"
[ -e "$F/down" ] && { echo "error: failed to connect to the hypervisor" >&2; exit 1; }
arg() { # the value after --name, or the nth positional
  local want=$1; shift
  local i=0 a prev=""
  for a in "$@"; do
    if [ "$prev" = "$want" ]; then echo "$a"; return; fi
    prev=$a
  done
}
positional() { # positional args without --options (and their values)
  local skip=0 a
  for a in "$@"; do
    if [ $skip = 1 ]; then skip=0; continue; fi
    case "$a" in --pool|--inputpool|--timeout|--xmlfile|--mode|--target) skip=1 ;; --*) ;; *) echo "$a" ;; esac
  done
}
vol() { echo "$F/pools/$1/$2"; }
case "$verb" in
  domstate) cat "$F/state" ;;
  list) [ -e "$F/list-fails" ] && { echo "error: failed to connect to the hypervisor" >&2; exit 1; }; if [ -e "$F/state" ]; then echo "$FAKE_DOMAIN"; fi ;;
  domiflist) cat "$F/iflist" 2>/dev/null || printf ' -  network  project-vms  virtio  52:54:00:00:00:01\n' ;;
  qemu-agent-command) [ -e "$F/agent" ] && [ "$(cat "$F/state")" = running ] && echo '{"return":{}}' || { echo "error: Guest agent is not responding" >&2; exit 1; } ;;
  domfsfreeze) [ -e "$F/freeze-fails" ] && { echo "error: freeze failed" >&2; exit 1; }; touch "$F/frozen"
    if [ -e "$F/freeze-slow" ]; then touch "$F/freezing"; sleep 30; fi
    if [ -e "$F/freeze-errs-after" ]; then echo "error: Guest agent is not responding: timed out" >&2; exit 1; fi ;;
  domfsthaw) if [ -e "$F/frozen" ]; then rm -f "$F/frozen"; echo "Thawed 1 filesystem(s)"; else echo "Thawed 0 filesystem(s)"; fi ;;
  domblklist) if [ "$1" = --details ]; then cat "$F/blk-details" 2>/dev/null || printf ' file  disk  vda  /x/disk.qcow2\n file  disk  vdb  /x/project.qcow2\n file  cdrom  hdd  /x/cloud-init.iso\n'
    else printf ' vda  /x/disk.qcow2\n vdb  project.qcow2\n hdd  /x/cloud-init.iso\n'; fi ;;
  undefine) rm -f "$F/state" ;;
  dominfo) cat "$F/dominfo" 2>/dev/null || printf 'Name:           %s\nState:          %s\nManaged save:   no\n' "$FAKE_DOMAIN" "$(cat "$F/state")" ;;
  pool-list) ls "$F/pools" ;;
  pool-info) [ -d "$F/pools/$1" ] || { echo "error: no pool $1" >&2; exit 1; }; printf 'Name: %s\nState:          running\n' "$1" ;;
  pool-define-as) mkdir -p "$F/pools/$1"; echo "$4" > "$F/pooldir-$1" ;;
  pool-build|pool-start|pool-autostart|pool-refresh) [ -d "$F/pools/$1" ] ;;
  pool-dumpxml) echo "<pool><target><path>$(cat "$F/pooldir-$1" 2>/dev/null)</path></target></pool>" ;;
  vol-list) [ -d "$F/pools/$1" ] || exit 1; for v in $(ls "$F/pools/$1" | sort); do echo " $v  /p/$1/$v"; done ;;
  vol-path) p=$(arg --pool "$@"); v=$(positional "$@"); [ -e "$(vol "$p" "$v")" ] || exit 1; echo "/pools/$p/$v" ;;
  vol-info) p=$(arg --pool "$@"); v=$(positional "$@"); f=$(vol "$p" "$v"); [ -e "$f" ] || { echo "error: no vol" >&2; exit 1; }
    read -r cap alloc _ < "$f"; printf 'Name: %s\nCapacity:       %s bytes\nAllocation:     %s bytes\n' "$v" "$cap" "$alloc" ;;
  vol-dumpxml) p=$(arg --pool "$@"); v=$(positional "$@"); f=$(vol "$p" "$v"); [ -e "$f" ] || exit 1
    read -r _ _ backing compat < "$f"
    echo "<volume><name>$v</name><target><format type='qcow2'/>"; [ "$compat" = v2 ] || echo "<compat>1.1</compat>"
    echo "<timestamps><atime>$(stat -c %X "$f").5</atime><mtime>$(stat -c %Y "$f").25</mtime></timestamps></target>"
    [ "$backing" = - ] || [ -z "$backing" ] || echo "<backingStore><path>$backing</path></backingStore>"; echo "</volume>" ;;
  vol-create) p=$1; x=$(cat "$2"); n=$(sed -n 's:.*<name>\([^<]*\)</name>.*:\1:p' <<<"$x")
    [ -e "$(vol "$p" "$n")" ] && { echo "error: storage volume name '$n' already in use." >&2; exit 1; }
    [ -e "$F/pool-full" ] && [[ "$n" == *.qcow2 ]] && { echo "error: cannot allocate '$n': No space left on device" >&2; exit 1; }
    c=$(sed -n 's:.*<capacity[^>]*>\([0-9]*\)</capacity>.*:\1:p' <<<"$x")
    b=$(sed -n 's:.*<backingStore><path>\([^<]*\)</path>.*:\1:p' <<<"$x")
    # As libvirt reports it: a relative backing file resolved against the volume's folder.
    [ -z "$b" ] || [[ "$b" == /* ]] || b="/pools/$p/$b"
    echo "$c 0 ${b:--} v3" > "$(vol "$p" "$n")"; cp "$2" "$F/last-volume.xml" ;;
  vol-create-from) p=$1; ip=$(arg --inputpool "$@"); iv=${@: -1}; x=$(cat "$2"); n=$(sed -n 's:.*<name>\([^<]*\)</name>.*:\1:p' <<<"$x")
    [ -e "$(vol "$ip" "$iv")" ] || { echo "error: no vol $iv" >&2; exit 1; }
    [ -e "$(vol "$p" "$n")" ] && { echo "error: storage volume name '$n' already in use." >&2; exit 1; }
    [ -e "$F/copy-fails" ] && [ "$ip" != "$p" ] && { echo "error: copy failed" >&2; exit 1; }
    if [ -e "$F/copy-slow" ] && [ "$ip" != "$p" ]; then touch "$F/copying"; sleep 30; fi
    read -r cap alloc _ < "$(vol "$ip" "$iv")"
    if [ -e "$F/copy-short" ] && [ "$ip" = "$p" ]; then cap=$((cap / 2)); fi
    echo "$cap $alloc - v3" > "$(vol "$p" "$n")"
    if [ -e "$F/start-on-copy" ]; then rm "$F/start-on-copy"; echo running > "$F/state"; fi ;;
  vol-delete) p=$(arg --pool "$@"); v=$(positional "$@"); rm "$(vol "$p" "$v")" ;;
  vol-resize) p=$(arg --pool "$@"); v=$(positional "$@" | head -n 1); f=$(vol "$p" "$v"); s=$(positional "$@" | tail -n 1); read -r cap alloc rest < "$f"; echo "${s%B} $alloc $rest" > "$f" ;;
  checkpoint-create) x=$(cat "$2"); n=$(sed -n 's:.*<name>\([^<]*\)</name>.*:\1:p' <<<"$x")
    [ -e "$F/bitmaps/$n" ] || { echo "error: checkpoint inconsistent: missing or broken bitmap '$n'" >&2; exit 1; }; touch "$F/meta-$n" ;;
  checkpoint-list) for m in "$F"/meta-*; do [ -e "$m" ] && echo "${m##*/meta-}"; done; true ;;
  checkpoint-info) [ -e "$F/meta-$2" ] ;;
  checkpoint-delete) [ -e "$F/meta-$2" ] || exit 1; rm -f "$F/meta-$2"; [ "$3" = --metadata ] || rm -f "$F/bitmaps/$2" ;;
  backup-begin) if [ -e "$F/begin-hangs" ]; then sleep 30; fi; [ -e "$F/begin-fails" ] && { echo "error: backup failed to start" >&2; exit 1; }
    [ -e "$F/frozen" ] || echo "NOT FROZEN at backup-begin" >> "$F/calls"
    if [ -n "$3" ] && [ "$3" != --reuse-external ]; then n=$(sed -n 's:.*<name>\([^<]*\)</name>.*:\1:p' "$3"); [ -e "$F/v2" ] && { echo "error: Cannot store dirty bitmaps in qcow2 v2 files" >&2; exit 1; }; mkdir -p "$F/bitmaps"; touch "$F/bitmaps/$n" "$F/meta-$n"; fi
    cp "$2" "$F/last-backup.xml"
    if [ -e "$F/begin-kill" ]; then
      # The script's process (under timeout(1), its parent's parent).
      p=$PPID; [ "$(cat "/proc/$p/comm")" = timeout ] && p=$(awk '{print $4}' "/proc/$p/stat")
      kill "-$(cat "$F/begin-kill")" "$p"
    fi
    echo "Backup started" ;;
  domjobinfo) if [ "$2" = --completed ]; then [ -e "$F/job-fails" ] && printf 'Job type:         Failed\nOperation:        Backup\n' || printf 'Job type:         Completed\nOperation:        Backup\n'; else echo "Job type:         None"; fi ;;
  domjobabort) ;;
  shutdown) echo "shut off" > "$F/state" ;;
  destroy) echo "shut off" > "$F/state" ;;
  start) echo running > "$F/state" ;;
  *) echo "fake virsh: unexpected $verb $*" >&2; exit 2 ;;
esac
