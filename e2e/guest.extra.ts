// End to end, on a real guest: a VM described by the program (its own config validation and
// cloud-init renderer, the disks laid out as ProjectVm lays them) boots Debian testing under
// QEMU, comes up as promised, and keeps the developer's project disk through a reboot, a fresh
// system disk with a new instance-id, and changed user-data.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { CLOUD_INIT_DIR, CloudInitFiles, projectDiskLayout, renderCloudInit } from "../components/cloudInit";
import { parseConfig, Project, Settings } from "../components/config";
import { guestConfig } from "../components/projectVm";
import { projectMac } from "../components/names";
import { requireTool } from "../test/support/tools";
import { baseImage } from "./image";
import { pickAccelerator, renderedSeedIso, Vm, VmSpec } from "./vm";

const MINUTE = 60_000;
/** The whole run, all boots included; TCG is slow, and the first provisioning installs Docker. */
const OVERALL_TIMEOUT = 55 * MINUTE;
/** The cloud-init sources to render: the repository's, or a copy given to prove the test can fail. */
const cloudInitDir = process.env.PROJECT_VMS_E2E_CLOUD_INIT_DIR ?? CLOUD_INIT_DIR;

const work = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-e2e-"));
const vms: Vm[] = [];
after(() => {
    for (const vm of vms) vm.kill();
    if (!process.env.PROJECT_VMS_E2E_KEEP) fs.rmSync(work, { recursive: true, force: true });
});

const started = Date.now();
let last = started;
/** Prints one timing line per phase. */
function phase(name: string): void {
    const now = Date.now();
    console.log(`e2e timing: ${name}: ${((now - last) / 1000).toFixed(1)}s (total ${((now - started) / 1000).toFixed(0)}s)`);
    last = now;
}

function keyPair(name: string): { key: string; pub: string } {
    const key = path.join(work, name);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${name}@e2e`, "-f", key]);
    return { key, pub: fs.readFileSync(`${key}.pub`, "utf8").trim() };
}

/** The test project as a stack would declare it, through the program's own validation. */
function stack(keys: string[]): Settings {
    return parseConfig({
        sshPublicKeys: keys,
        systemDiskSize: "8G",
        // No Tailscale here: the machine reaches Debian's archive and nothing else.
        tailscale: { enabled: false },
        // The mirror serves testing with Release files past their Valid-Until date.
        aptCheckValidUntil: false,
        projects: [{ name: "e2e", memory: 3072, cpus: 2, disk: "4G", features: { nix: false, claudeCode: false } }],
    });
}

/** The NoCloud ISO of a render, in the run's folder. */
function seedIso(files: CloudInitFiles, name: string): string {
    return renderedSeedIso(work, files, name);
}

function qemuImg(...args: string[]): void {
    execFileSync("qemu-img", args, { stdio: "ignore" });
}

/** Boots, waits for SSH and cloud-init, and fails with the console and cloud-init's log if it does not finish cleanly. */
async function boot(vm: Vm, label: string): Promise<void> {
    await vm.start();
    await vm.waitForSsh(10 * MINUTE);
    phase(`${label}: boot → SSH`);
    const ci = await vm.waitForCloudInit(30 * MINUTE);
    phase(`${label}: SSH → cloud-init done`);
    if (ci.code !== 0) {
        const log = vm.ssh("sudo tail -n 60 /var/log/cloud-init-output.log").stdout;
        throw new Error(
            `${label}: cloud-init did not finish cleanly (exit ${ci.code}):\n${ci.output}\n--- cloud-init-output.log ---\n${log}`,
        );
    }
}

test(
    "a project VM comes up as promised, and its project disk outlives reboots, rebuilds, config changes and growth",
    { timeout: OVERALL_TIMEOUT },
    async (t) => {
        const skip = (r: string) => t.skip(r);
        for (const [tool, pkg] of [
            ["qemu-system-x86_64", "qemu-system-x86"],
            ["qemu-img", "qemu-utils"],
            ["mmdebstrap", "mmdebstrap"],
            ["genisoimage", "genisoimage"],
            ["ssh", "openssh-client"],
            ["ssh-keygen", "openssh-client"],
            ["mke2fs", "e2fsprogs"],
            ["sfdisk", "fdisk"],
        ]) {
            if (!requireTool(tool, pkg, skip)) return;
        }

        const base = baseImage((line) => console.log(`e2e image: ${line}`));
        phase(base.built ? "image build" : "image cache hit");
        const accel = pickAccelerator(base);
        console.log(`e2e: accelerator ${accel}`);

        const first = keyPair("first");
        let settings = stack([first.pub]);
        const project: Project = settings.projects[0];
        const mac = projectMac("e2e", project.name);
        const disk = projectDiskLayout(cloudInitDir);
        let files = renderCloudInit(guestConfig(project, settings, mac, false), cloudInitDir);

        // Disks as ProjectVm lays them: an overlay of the base (vda), an empty project disk (vdb).
        const systemDisk = path.join(work, "disk.qcow2");
        const projectDisk = path.join(work, "project.qcow2");
        qemuImg("create", "-q", "-f", "qcow2", "-b", base.disk, "-F", "qcow2", systemDisk, String(settings.systemDiskSize.bytes));
        qemuImg("create", "-q", "-f", "qcow2", projectDisk, String(project.disk.bytes));

        const spec: VmSpec = {
            dir: work,
            base,
            systemDisk,
            projectDisk,
            seedIso: seedIso(files, "seed-1"),
            mac,
            memoryMiB: project.memory,
            cpus: project.cpus,
            accel,
            sshKey: first.key,
        };
        let vm = new Vm(spec);
        vms.push(vm);

        try {
            // ---- First boot: everything the user is promised.
            await boot(vm, "first boot");
            assert.equal(vm.sh("hostname"), project.hostname);
            assert.equal(vm.sh("sudo cat /var/lib/cloud/data/instance-id"), files.instanceId);
            const status = JSON.parse(vm.sh("cloud-init status --format json"));
            assert.deepEqual(status.errors, [], "cloud-init reports no error");
            assert.equal(vm.sh("sudo -n true && echo sudo-ok"), "sudo-ok", "passwordless sudo");
            assert.ok(vm.sh("id -nG").split(" ").includes("docker"), "dev is in group docker");

            const pw = vm.ssh("true", {
                extra: ["-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive"],
            });
            assert.notEqual(pw.status, 0, "password login is refused");
            assert.match(pw.stderr, /Permission denied \(publickey\)/, "the server offers public keys only");
            assert.match(vm.sh("sudo sshd -T"), /^passwordauthentication no$/im);
            const root = vm.ssh("whoami", { user: "root" });
            assert.notEqual(root.status, 0, "no root login");
            assert.ok(!root.stdout.includes("root"), "root gets no shell");

            const mount = vm.sh(`findmnt -n -o SOURCE,FSTYPE,LABEL ${disk.mountPoint}`).split(/\s+/);
            assert.deepEqual(mount, [disk.device, "ext4", disk.label], "the project disk is vdb, ext4, labelled");
            assert.match(vm.sh("cat /etc/fstab"), new RegExp(`^LABEL=${disk.label}\\s+${disk.mountPoint}\\s`, "m"), "mounted by label");
            assert.equal(vm.sh(`stat -c %U ${disk.mountPoint}`), "dev");
            assert.equal(vm.sh("stat -c %U ~"), "dev");
            vm.sh(`touch ~/.probe ${disk.mountPoint}/.probe && test -f ~/.bashrc`);

            assert.match(vm.sh("docker info --format '{{.ServerVersion}}'"), /^\d+\./, "docker info works for dev without sudo");
            assert.equal(vm.sh("systemctl is-active qemu-guest-agent"), "active");
            assert.deepEqual(await vm.guestAgentSync(4242), { return: 4242 }, "the host reaches the guest agent");
            const rootBytes = Number(vm.sh("df -B1 --output=size / | tail -1"));
            assert.ok(rootBytes > 6 * 1024 ** 3, `the root filesystem grew to the system disk (${rootBytes} bytes)`);

            const marker = randomBytes(16).toString("hex");
            vm.sh(`echo ${marker} > ${disk.mountPoint}/marker && sync`);
            const uuid = vm.sh(`sudo blkid -s UUID -o value ${disk.device}`);
            const intact = (label: string) => {
                assert.equal(vm.sh(`cat ${disk.mountPoint}/marker`), marker, `${label}: the marker is intact`);
                assert.equal(vm.sh(`sudo blkid -s UUID -o value ${disk.device}`), uuid, `${label}: the filesystem was never recreated`);
            };

            // ---- (a) A reboot.
            const bootId = vm.sh("cat /proc/sys/kernel/random/boot_id");
            vm.ssh("sudo systemctl reboot");
            await new Promise((r) => setTimeout(r, 5000));
            await vm.waitForSsh(10 * MINUTE);
            assert.notEqual(vm.sh("cat /proc/sys/kernel/random/boot_id"), bootId, "it really rebooted");
            assert.equal((await vm.waitForCloudInit(10 * MINUTE)).code, 0);
            phase("(a) reboot → ready");
            intact("after a reboot");

            // ---- (b) A fresh system disk and a new instance-id (a base image refresh): cloud-init runs
            // every step again, fs_setup included, on the same project disk.
            assert.ok(await vm.shutdown(5 * MINUTE), "the guest powers off on ACPI shutdown");
            const second = keyPair("second");
            settings = stack([first.pub, second.pub]);
            const filesB = renderCloudInit(guestConfig(settings.projects[0], settings, mac, false), cloudInitDir);
            assert.notEqual(filesB.instanceId, files.instanceId);
            files = filesB;
            fs.rmSync(systemDisk);
            qemuImg("create", "-q", "-f", "qcow2", "-b", base.disk, "-F", "qcow2", systemDisk, String(settings.systemDiskSize.bytes));
            vm = new Vm({ ...spec, seedIso: seedIso(files, "seed-2") });
            vms.push(vm);
            await boot(vm, "(b) fresh system disk");
            assert.equal(vm.sh("sudo cat /var/lib/cloud/data/instance-id"), files.instanceId);
            intact("after a fresh system disk");
            assert.match(
                vm.sh("sudo cat /var/log/cloud-init.log"),
                /Found filesystem match, skipping formatting/,
                "fs_setup saw the disk and kept it",
            );

            // ---- (c) Changed user-data on the same system disk: a new instance to cloud-init, whose
            // per-instance steps (users, disk setup, mounts, scripts) run again over the existing system.
            // Meanwhile the project disk grows by 2 GiB, as grow-disk.sh grows a stopped VM's disk
            // (libvirt's vol-resize is qemu-img resize): the guest must grow the filesystem at boot.
            const fsBytes = () => Number(vm.sh(`df -B1 --output=size ${disk.mountPoint} | tail -1`));
            const before = fsBytes();
            assert.ok(await vm.shutdown(5 * MINUTE));
            qemuImg("resize", "-q", projectDisk, String(project.disk.bytes + 2 * 1024 ** 3));
            const third = keyPair("third");
            settings = stack([second.pub, third.pub]);
            files = renderCloudInit(guestConfig(settings.projects[0], settings, mac, false), cloudInitDir);
            vm = new Vm({ ...spec, seedIso: seedIso(files, "seed-3"), sshKey: third.key });
            vms.push(vm);
            await boot(vm, "(c) changed user-data");
            assert.equal(vm.sh("sudo cat /var/lib/cloud/data/instance-id"), files.instanceId, "cloud-init took the new instance");
            intact("after changed user-data");
            assert.ok(vm.sh("cat ~/.ssh/authorized_keys").includes(third.pub), "the change was applied");
            assert.equal(
                vm.sh("sudo grep -c 'Found filesystem match, skipping formatting' /var/log/cloud-init.log"),
                "2",
                "fs_setup ran again and kept the disk",
            );
            assert.ok(fsBytes() > before + 1.5 * 1024 ** 3, `the project filesystem grew with its disk (${before} → ${fsBytes()} bytes)`);
            assert.ok(await vm.shutdown(5 * MINUTE));
        } catch (e) {
            console.log(`---- serial console (last lines) ----\n${vm.serialTail(120)}`);
            throw e;
        }
    },
);
