// cloud-init/scripts/seal.sh offline: run in a temporary root (a private mount namespace, the
// host's /usr read-only, everything else a scratch tree holding a builder's per-machine traces),
// with stand-ins for systemctl, cloud-init, apt-get, journalctl and fstrim that do what the real
// ones do to that tree. What a VM made from the layer would notice: no identity of the builder
// left, its services in the state a project's first boot expects, and the rest of the system kept.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { requireTool } from "./support/tools";

const SCRIPTS = path.join(__dirname, "..", "cloud-init", "scripts");

/** Stand-ins, run inside the root. Units are "enabled" by a wants/ link and "running" by /run/running/<unit>. */
const STUBS: Record<string, string> = {
    systemctl: `#!/bin/bash
wants=/etc/systemd/system/multi-user.target.wants
case "$1" in
  daemon-reload) ls /run/systemd/system/*.d/ > /run/reloaded-with 2>/dev/null; exit 0 ;;
  disable) [ "$2" = --now ] || exit 9; u=$3; [ -e "/units/$u" ] || { echo "Unit $u does not exist" >&2; exit 1; }
           rm -f "$wants/$u" "/run/running/$u" ;;
  enable) u=$2; [ -e "/units/$u" ] || exit 1; mkdir -p "$wants"; ln -sf "/units/$u" "$wants/$u" ;;
  *) exit 9 ;;
esac
`,
    "cloud-init": `#!/bin/bash
[ "$1" = clean ] || exit 9; shift
for a; do case "$a" in
  --logs) rm -f /var/log/cloud-init.log /var/log/cloud-init-output.log ;;
  --seed) rm -rf /var/lib/cloud/seed ;;
  --machine-id) echo uninitialized > /etc/machine-id ;;
esac; done
rm -rf /var/lib/cloud/instances
`,
    "apt-get": `#!/bin/bash
[ "$1" = clean ] || exit 9
rm -f /var/cache/apt/archives/*.deb
`,
    journalctl: `#!/bin/bash
[ "$1" = --relinquish-var ] || exit 9
touch /run/relinquished; exit 1
`,
    fstrim: `#!/bin/bash
[ "$1" = -av ] || exit 9
touch /run/trimmed; echo "fstrim: /: the discard operation is not supported" >&2; exit 1
`,
};

/** The builder as cloud-init leaves it: [path, content] (a trailing / makes a folder). */
const BUILDER: [string, string][] = [
    ["/etc/project-vms/builder", ""],
    ["/etc/machine-id", "0123456789abcdef0123456789abcdef\n"],
    ["/var/lib/dbus/machine-id", "0123456789abcdef0123456789abcdef\n"],
    ["/etc/hostname", "project-vms-builder-abc\n"],
    ["/etc/ssh/ssh_host_ed25519_key", "PRIVATE"],
    ["/etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 AAAA"],
    ["/etc/ssh/ssh_host_rsa_key", "PRIVATE"],
    ["/etc/ssh/sshd_config", "PasswordAuthentication no\n"],
    ["/var/lib/cloud/seed/nocloud/user-data", "#cloud-config\n"],
    ["/var/lib/cloud/instances/builder/obj.pkl", "x"],
    ["/var/log/cloud-init.log", "x"],
    ["/var/log/cloud-init-output.log", "x"],
    ["/var/lib/dhcp/dhclient.enp1s0.leases", "lease {}"],
    ["/var/lib/systemd/network/lease-2", "x"],
    ["/var/lib/NetworkManager/internal-enp1s0.lease", "x"],
    ["/var/lib/NetworkManager/NetworkManager.state", "[main]\n"],
    ["/var/lib/systemd/random-seed", "seed"],
    ["/var/lib/systemd/credential.secret", "secret"],
    ["/var/lib/docker/engine-id", "engine"],
    ["/var/lib/docker/image/overlay2/repositories.json", "{}"],
    ["/var/lib/tailscale/tailscaled.state", '{"_machinekey":"x"}'],
    ["/var/lib/apt/lists/deb.debian.org_debian_dists_testing_InRelease", "x"],
    ["/var/cache/apt/archives/docker.io_1_amd64.deb", "x"],
    ["/root/.npm/_cacache/index", "x"],
    ["/root/.cache/pip/x", "x"],
    ["/root/.bashrc", "# kept\n"],
    ["/tmp/builder-scratch", "x"],
    ["/var/tmp/systemd-private-x/", ""],
    ["/var/log/journal/0123/system.journal", "x"],
    ["/var/log/syslog.1", "x"],
    ["/var/log/dpkg.log", "x"],
    ["/var/log/apt/history.log", "x"],
    ["/var/log/apt/term.log.2.gz", "x"],
    ["/var/log/wtmp", ""],
    ["/var/log/private/", ""],
    ["/usr-local-marker/", ""],
    ["/run/running/docker.service", ""],
    ["/run/running/tailscaled.service", ""],
    ["/units/docker.service", ""],
    ["/units/docker.socket", ""],
    ["/units/tailscaled.service", ""],
    ["/etc/systemd/system/multi-user.target.wants/tailscaled.service", ""],
    ["/etc/systemd/system/sockets.target.wants/keep.socket", ""],
];

interface Sealed {
    status: number | null;
    stderr: string;
    root: string;
    exists(p: string): boolean;
    read(p: string): string;
}

function seal(t: { skip: (r: string) => void }, edit: (root: string) => void = () => {}): Sealed | undefined {
    if (!requireTool("unshare", "util-linux", t.skip) || !requireTool("chroot", "coreutils", t.skip)) return undefined;
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-seal-"));
    for (const [p, content] of BUILDER) {
        const full = path.join(root, p);
        if (p.endsWith("/")) {
            fs.mkdirSync(full, { recursive: true });
            continue;
        }
        fs.mkdirSync(path.dirname(full), { recursive: true });
        fs.writeFileSync(full, content);
    }
    // containerd is not installed on this builder: disabling it fails, which must not stop the seal.
    fs.mkdirSync(path.join(root, "stub"), { recursive: true });
    for (const [name, text] of Object.entries(STUBS)) fs.writeFileSync(path.join(root, "stub", name), text, { mode: 0o755 });
    fs.mkdirSync(path.join(root, "opt/scripts"), { recursive: true });
    for (const f of ["seal.sh", "lib.sh"]) fs.copyFileSync(path.join(SCRIPTS, f), path.join(root, "opt/scripts", f));
    fs.chmodSync(path.join(root, "opt/scripts/seal.sh"), 0o755);
    fs.mkdirSync(path.join(root, "usr"));
    fs.mkdirSync(path.join(root, "dev"));
    fs.writeFileSync(path.join(root, "dev/null"), "");
    for (const l of ["bin", "sbin", "lib", "lib64"])
        if (fs.existsSync(`/${l}`)) fs.symlinkSync(fs.readlinkSync(`/${l}`), path.join(root, l));
    edit(root);
    const inside = `mount --bind /usr "$R/usr" && mount -o remount,bind,ro "$R/usr" && mount --bind /dev/null "$R/dev/null" &&
        exec chroot "$R" /usr/bin/env -i PATH=/stub:/usr/sbin:/usr/bin HOME=/root /bin/bash /opt/scripts/seal.sh`;
    const r = spawnSync("unshare", ["-rm", "sh", "-c", inside], { env: { ...process.env, R: root }, encoding: "utf8" });
    assert.ok(!/unshare: |chroot: |mount: /.test(r.stderr), `the temporary root could not be set up: ${r.stderr}`);
    return {
        status: r.status,
        stderr: r.stderr,
        root,
        exists: (p) => {
            try {
                fs.lstatSync(path.join(root, p));
                return true;
            } catch {
                return false;
            }
        },
        read: (p) => fs.readFileSync(path.join(root, p), "utf8"),
    };
}

test("seal.sh removes every per-machine trace of the builder, so each VM of the layer is a new machine", (t) => {
    const s = seal(t);
    if (!s) return;
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stderr.trim().split("\n").pop() ?? "", /^project-vms\[seal\]: sealed$/);
    assert.equal(s.read("/etc/machine-id"), "uninitialized\n", "systemd makes a new machine ID at the next boot");
    assert.equal(fs.readlinkSync(path.join(s.root, "/var/lib/dbus/machine-id")), "/etc/machine-id", "D-Bus follows the new machine ID");
    for (const gone of [
        "/etc/ssh/ssh_host_ed25519_key",
        "/etc/ssh/ssh_host_ed25519_key.pub",
        "/etc/ssh/ssh_host_rsa_key",
        "/var/lib/cloud/seed",
        "/var/lib/cloud/instances",
        "/var/log/cloud-init.log",
        "/var/log/cloud-init-output.log",
        "/var/lib/dhcp/dhclient.enp1s0.leases",
        "/var/lib/systemd/network/lease-2",
        "/var/lib/NetworkManager/internal-enp1s0.lease",
        "/var/lib/systemd/random-seed",
        "/var/lib/systemd/credential.secret",
        "/var/lib/docker/engine-id",
        "/var/lib/tailscale",
    ])
        assert.ok(!s.exists(gone), `${gone} is the builder's identity: it must not reach the layer`);
    assert.equal(s.read("/etc/hostname"), "localhost\n", "cloud-init sets each VM's own hostname");
    assert.ok(!s.exists("/etc/project-vms/builder"), "the layer is no builder: sealing it again is refused");
    // The random seed is not saved back at shutdown this boot (a drop-in on /run that systemd has loaded).
    const dropIn = "/run/systemd/system/systemd-random-seed.service.d/project-vms-seal.conf";
    assert.match(s.read(dropIn), /^\[Service\]\nExecStop=\n$/);
    assert.match(s.read("/run/reloaded-with"), /project-vms-seal\.conf/, "systemd reloaded after the drop-in was written");
});

test("seal.sh leaves the services as a project's first boot expects them, even where one is missing", (t) => {
    const s = seal(t);
    if (!s) return;
    assert.equal(s.status, 0, s.stderr);
    for (const unit of ["docker.service", "tailscaled.service"])
        assert.ok(!s.exists(`/run/running/${unit}`), `${unit} stopped before its state is removed`);
    assert.ok(!s.exists("/etc/systemd/system/multi-user.target.wants/tailscaled.service"), "Tailscale starts only through tailscale.sh");
    assert.ok(s.exists("/etc/systemd/system/multi-user.target.wants/docker.service"), "Docker starts at a project's boot");
    assert.ok(s.exists("/etc/systemd/system/sockets.target.wants/keep.socket"), "other units untouched");
    assert.ok(
        s.exists("/run/relinquished") && s.exists("/run/trimmed"),
        "journal moved off /var first; freed blocks offered back (failures of either are tolerated)",
    );
});

test("seal.sh empties caches, lists, temporary files and logs, and keeps the rest of the system", (t) => {
    const s = seal(t);
    if (!s) return;
    assert.equal(s.status, 0, s.stderr);
    for (const gone of [
        "/var/lib/apt/lists/deb.debian.org_debian_dists_testing_InRelease",
        "/var/cache/apt/archives/docker.io_1_amd64.deb",
        "/root/.npm",
        "/root/.cache",
        "/tmp/builder-scratch",
        "/var/tmp/systemd-private-x",
        "/var/log/journal/0123",
        "/var/log/syslog.1",
        "/var/log/dpkg.log",
        "/var/log/apt/history.log",
        "/var/log/apt/term.log.2.gz",
    ])
        assert.ok(!s.exists(gone), `${gone} only takes room in the layer`);
    for (const kept of [
        "/etc/ssh/sshd_config",
        "/root/.bashrc",
        "/var/lib/docker/image/overlay2/repositories.json",
        "/var/lib/NetworkManager/NetworkManager.state",
        "/var/log/wtmp",
        "/var/log/private",
        "/var/log/journal",
        "/var/lib/apt/lists",
        "/tmp",
        "/var/tmp",
        "/var/lib/dbus",
        "/var/log/apt",
    ])
        assert.ok(s.exists(kept), `${kept} is part of the system, not of the builder`);
});

test("seal.sh refuses to run where it is not a builder, and changes nothing", (t) => {
    const s = seal(t, (root) => fs.rmSync(path.join(root, "etc/project-vms/builder")));
    if (!s) return;
    assert.equal(s.status, 1);
    assert.match(s.stderr, /project-vms\[seal\]: FAILED: this is not a prepared-layer builder \(no \/etc\/project-vms\/builder\)/);
    for (const kept of [
        "/etc/ssh/ssh_host_ed25519_key",
        "/var/lib/tailscale/tailscaled.state",
        "/var/lib/dhcp/dhclient.enp1s0.leases",
        "/run/running/docker.service",
    ]) {
        assert.ok(s.exists(kept), `${kept} untouched on a machine that is not a builder`);
    }
    assert.equal(s.read("/etc/hostname"), "project-vms-builder-abc\n");
});

test("seal.sh fails loudly, still a builder, when cloud-init cannot clean its state", (t) => {
    const broken = seal(t, (root) =>
        fs.writeFileSync(path.join(root, "stub/cloud-init"), "#!/bin/sh\necho 'cloud-init: permission denied' >&2; exit 3\n", {
            mode: 0o755,
        }),
    );
    if (!broken) return;
    assert.equal(broken.status, 3, "a builder cloud-init could not clean is no layer");
    assert.match(broken.stderr, /FAILED \(exit 3\) at line \d+: cloud-init clean/);
    assert.ok(broken.exists("/etc/project-vms/builder"), "still marked a builder: not sealed");
    assert.ok(broken.exists("/etc/ssh/ssh_host_ed25519_key"), "stopped at the failing step");
});
