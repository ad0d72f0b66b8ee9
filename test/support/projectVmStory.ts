// Step k of the engine suite: `project-vm` driving the real engine on one VM of the real program,
// from create to destroy, with the backups a developer relies on. The VM's project disk is the one
// the provider made (libvirt's qcow2 v2), written to all along by an appender in the guest:
// create → 512 MiB, a marker and an appended log → a backup of the running VM (frozen; full: v2
// holds no bitmap) → the marker deleted, stopped, a backup of the stopped VM → the running VM's
// backup restored by name (the disk now qcow2 v3), resized, started: marker back, log whole,
// filesystem grown → full (no bitmap yet), a small change, incremental (much smaller), its chain
// readable from another folder → files deleted and the superblock zeroed → a restore refused while
// running, another project's refused → the chain restored with --stop: e2fsck clean, marker,
// change and log back → a backup of the stopped VM between two of the running one leaves one
// bitmap → backup --all backs up the stopped VM whose disk changed, then skips it → destroy: the
// project disk kept, every backup still listed.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { guestOk, guestSh } from "./guestAgent";
import {
    BOOT_WAIT,
    cloudInitStatus,
    domState,
    host,
    MARKER,
    MINUTE,
    projectVm,
    ProjectVmRun,
    storageDir,
    timing,
    URI,
    virsh,
    volumeBytes,
    waitFor,
} from "./programWorld";

const GiB = 1024 ** 3;
const MOUNT = "/home/dev/project";

/** One backup as `backup --json` and `backups --json` give it. */
interface BackupJson {
    project: string;
    ok: boolean;
    volume: string;
    kind: "full" | "inc";
    size: number;
    base?: string;
    skipped?: string;
}

/** Runs the whole story on a new project `name`; leaves it destroyed, its project disk kept. */
export async function projectVmStory(name: string): Promise<void> {
    const domain = host(name);
    const disk = `${storageDir}/${name}/project.qcow2`;
    const backupsDir = `${storageDir}/_backups`;
    const compat = () => /compat: (\S+)/.exec(execFileSync("qemu-img", ["info", "-U", disk], { encoding: "utf8" }))?.[1];
    const sh = async (script: string, ms = 10 * MINUTE) => (await guestOk(URI, domain, script, ms)).trim();

    /** project-vm, which must succeed and (if given) say `expect`; timed. */
    const run = async (label: string, args: string[], expect?: RegExp): Promise<ProjectVmRun> => {
        const started = Date.now();
        const r = await projectVm(...args);
        assert.equal(r.code, 0, `project-vm ${args.join(" ")}:\n${r.out.slice(-3000)}`);
        if (expect) assert.match(r.out, expect, `project-vm ${args.join(" ")} says what happened:\n${r.out.slice(-2000)}`);
        timing(`project-vm ${label}`, (Date.now() - started) / 1000);
        return r;
    };
    /** `project-vm backup <name> --json`: the backup made, and what it said on the way. */
    const backup = async (label: string): Promise<{ made: BackupJson; said: string }> => {
        const r = await run(`backup (${label})`, ["backup", name, "--json"]);
        const made: BackupJson = JSON.parse(r.stdout).backups[0];
        console.log(`engine: ${label}: ${made.volume} ${made.kind}, ${(made.size / 1024 ** 2).toFixed(1)} MiB`);
        return { made, said: r.stderr };
    };
    /** Waits for the guest's agent, its project disk mounted and this boot's cloud-init done, after a start. */
    const booted = async (what: string) => {
        const started = Date.now();
        let status = "";
        await waitFor(
            async () => {
                status = (await guestSh(URI, domain, `mountpoint -q ${MOUNT} && cloud-init status`)).stdout;
                return /status: (done|error|degraded)/.test(status);
            },
            `${domain} up with its project disk mounted and cloud-init done (${what})`,
            BOOT_WAIT,
        );
        assert.match(status, /status: done/, `cloud-init at this boot of ${domain} (${what})`);
        timing(`guest back with its project disk, cloud-init done (${what})`, (Date.now() - started) / 1000);
    };
    const appender = () =>
        sh(
            `setsid sh -c 'echo $$ > /run/appender.pid; i=$(wc -l < ${MOUNT}/append.log 2>/dev/null || echo 0); ` +
                `while :; do echo "line $i" >> ${MOUNT}/append.log; i=$((i+1)); sleep 0.05; done' >/dev/null 2>&1 < /dev/null &`,
        );
    const lines = async () => Number(await sh(`wc -l < ${MOUNT}/append.log`));
    const appending = async (why: string) => {
        const before = await lines();
        await new Promise((r) => setTimeout(r, 2000));
        assert.ok((await lines()) > before, why);
    };
    /** The appended log is whole: line 0, 1, 2, … up to its last, nothing torn. */
    const logWhole = async () => {
        const log = (await sh(`cat ${MOUNT}/append.log`)).split("\n");
        assert.ok(log.length > 10, `the appended log has ${log.length} lines`);
        log.forEach((l, i) => assert.equal(l, `line ${i}`));
    };

    // Created by project-vm; the provider's project disk is qcow2 v2.
    await run(
        "create",
        // Two vCPUs: under emulation each is a host thread, and the host has two cores.
        ["create", name, "1024", "2", "2G", "--no-nix", "--no-claude-code"],
        new RegExp(`ssh dev@${domain}\\.standin\\.ts\\.net`),
    );
    assert.equal(domState(domain), "running");
    assert.match(await cloudInitStatus(name), /done/);
    assert.equal(compat(), "0.10", "the provider makes the project disk qcow2 v2 (libvirt's default without <compat>)");
    const clock = Date.now();
    await sh(`dd if=/dev/urandom of=${MOUNT}/big bs=1M count=512 status=none && echo ${MARKER} > ${MOUNT}/marker && sync`);
    timing("512 MiB written in the guest", (Date.now() - clock) / 1000);
    await appender();
    await appending("the appender runs");

    // The running VM: frozen, a full backup (v2: no checkpoint), thawed at once.
    const hot = await backup("running, qcow2 v2");
    assert.equal(hot.made.kind, "full");
    assert.match(hot.said, /qcow2 v2 \(compat 0\.10\), which cannot hold the dirty bitmap incrementals need: full backups only/);
    assert.match(hot.said, /freezing the filesystems[\s\S]*thawed the filesystems/);
    assert.ok(hot.made.size > 0.45 * GiB, "the full backup holds the 512 MiB");
    await appending("the guest's filesystems were thawed: the appender goes on");

    // Stopped (ACPI), backed up stopped; the running VM's backup restored by name: the marker
    // deleted since is back, and the disk is qcow2 v3. Resized while stopped, then started.
    await sh(`rm ${MOUNT}/marker && sync`);
    await run("stop", ["stop", name], /stop|shut/i);
    assert.equal(domState(domain), "shut off");
    const cold = await backup("stopped");
    assert.equal(cold.made.kind, "full");
    assert.match(cold.said, /is shut off: a full copy of its project disk/);
    const first = JSON.parse((await run("restore (by name, stopped)", ["restore", name, hot.made.volume, "--yes", "--json"])).stdout);
    assert.equal(first.restored, hot.made.volume);
    assert.equal(first.verified, true, "the restore compared what it wrote with the backup");
    assert.equal(compat(), "1.1", "a restored disk is qcow2 v3");
    assert.equal(domState(domain), "shut off", "a VM that was stopped stays stopped");
    await run("resize (disk, stopped)", ["resize", name, "--disk", "3G", "--yes"], /3(\.0)? ?G/);
    assert.equal(volumeBytes(disk), 3 * GiB);
    await run("start", ["start", name], /start|running/i);
    assert.equal(domState(domain), "running");
    await booted("start");
    assert.equal(await sh(`cat ${MOUNT}/marker`), MARKER, "the marker is back from the backup");
    await logWhole();
    assert.ok(Number(await sh(`df -B1 --output=size ${MOUNT} | tail -1`)) > 2.5 * GiB, "the filesystem grew with the disk");
    await run("restore --confirm", ["restore", "--confirm", name, "--yes"], /delet|kept|before-restore/i);

    // Now with checkpoints: full first (the restored disk has no bitmap), then an incremental.
    await appender();
    const full = await backup("qcow2 v3, first");
    assert.equal(full.made.kind, "full");
    assert.match(full.said, /no longer has the dirty bitmap of .*: a full backup instead/);
    assert.equal(
        virsh("checkpoint-list", domain, "--name"),
        "",
        "no checkpoint metadata left in libvirt: the provider can still replace the domain",
    );
    await appending("thawed again");
    await sh(
        `dd if=/dev/urandom of=${MOUNT}/change bs=1M count=3 status=none && echo 'changed after the full backup' >> ${MOUNT}/marker && sync`,
    );
    const changeSum = await sh(`sha256sum ${MOUNT}/change | cut -d' ' -f1`);
    const inc = await backup("after a 3 MiB change");
    assert.equal(inc.made.kind, "inc", inc.said);
    assert.ok(inc.made.size < full.made.size / 10, `the incremental (${inc.made.size}) is much smaller than the full (${full.made.size})`);

    // The chain copied to another folder (as when the backups folder moves to another disk): the
    // incremental still finds its full there, and reads exactly as before.
    const moved = `${backupsDir}-moved`;
    fs.mkdirSync(moved);
    try {
        for (const v of [full.made.volume, inc.made.volume]) execFileSync("cp", ["--sparse=always", path.join(backupsDir, v), moved]);
        const chain = JSON.parse(
            execFileSync("qemu-img", ["info", "-U", "--backing-chain", "--output=json", `${moved}/${inc.made.volume}`], {
                encoding: "utf8",
            }),
        );
        assert.deepEqual(
            chain.map((i: { filename: string }) => i.filename),
            [`${moved}/${inc.made.volume}`, `${moved}/${full.made.volume}`],
            "the moved incremental rests on the moved full",
        );
        execFileSync("qemu-img", ["compare", "-U", `${moved}/${inc.made.volume}`, `${backupsDir}/${inc.made.volume}`]);
    } finally {
        fs.rmSync(moved, { recursive: true, force: true });
    }
    const listed = JSON.parse((await run("backups", ["backups", name, "--json"])).stdout);
    assert.deepEqual(
        listed.backups.map((b: BackupJson) => [b.volume, b.kind, b.base]),
        [hot, cold, full, inc].map(({ made }) => [made.volume, made.kind, made.kind === "inc" ? full.made.volume : made.volume]),
    );

    // Damage: the appender stopped, files deleted, the superblock zeroed.
    await sh(
        `kill $(cat /run/appender.pid); sleep 1; rm -f ${MOUNT}/marker ${MOUNT}/change ${MOUNT}/big; sync; ` +
            "dd if=/dev/zero of=/dev/vdb bs=4096 count=16 conv=fsync status=none; echo 3 > /proc/sys/vm/drop_caches",
    );
    assert.notEqual((await guestSh(URI, domain, "/sbin/e2fsck -fn /dev/vdb", 5 * MINUTE)).code, 0, "the filesystem is damaged");

    // Refused while running without --stop, and another project's backup refused; then the chain
    // restored with --stop: the VM shut down, its disk kept aside, the chain written and compared.
    const refused = await projectVm("restore", name, "latest", "--yes");
    assert.equal(refused.code, 1, refused.out);
    assert.match(refused.out, /is running: a restore replaces its project disk/);
    const other = await projectVm("restore", name, `other--${inc.made.volume.split("--")[1]}--full.qcow2`, "--yes");
    assert.equal(other.code, 2, other.out);
    assert.match(other.out, /is a backup of other, not of/);
    const second = JSON.parse(
        (await run("restore of the chain (--stop)", ["restore", name, "latest", "--stop", "--yes", "--json"])).stdout,
    );
    assert.equal(second.restored, inc.made.volume);
    assert.match(second.keptAside, /^project\.qcow2\.before-restore-\d{8}T\d{6}Z$/);
    assert.equal(second.verified, true);
    assert.equal(domState(domain), "running", "started again");
    await booted("restore --stop");
    // A full check of the restored filesystem, unmounted (nothing else uses it), then mounted again.
    const fsck = await guestSh(URI, domain, `umount ${MOUNT} && /sbin/e2fsck -fn /dev/vdb; rc=$?; mount ${MOUNT}; exit $rc`, 5 * MINUTE);
    assert.equal(fsck.code, 0, `e2fsck -fn is clean after the restore: ${fsck.stdout}${fsck.stderr}`);
    assert.equal(await sh(`cat ${MOUNT}/marker`), `${MARKER}\nchanged after the full backup`);
    assert.equal(await sh(`sha256sum ${MOUNT}/change | cut -d' ' -f1`), changeSum, "the change, from the incremental");
    assert.equal(await sh(`stat -c %s ${MOUNT}/big`), String(512 * 1024 ** 2));
    await logWhole();
    assert.equal(compat(), "1.1");

    // The restored disk has no bitmap: the next backup is full, and says why. --confirm deletes
    // the disk kept aside, and only it.
    const next = await backup("after the restore");
    assert.equal(next.made.kind, "full");
    assert.match(next.said, /no longer has the dirty bitmap/);
    await run("restore --confirm (after the chain)", ["restore", "--confirm", name, "--yes"]);
    const volumes = virsh("vol-list", domain)
        .split("\n")
        .map((l) => l.trim().split(/\s+/)[0]);
    assert.deepEqual(
        volumes.filter((v) => v.startsWith("project.qcow2")),
        ["project.qcow2"],
        "the copy kept aside is deleted, the project disk stays",
    );

    // A backup of the stopped VM between two of the running one: the next cannot build on the
    // bitmap the first left, so it is full and drops that bitmap; one bitmap stays in the disk.
    const stampOf = (volume: string) => volume.split("--")[1];
    await run("stop (again)", ["stop", name]);
    assert.equal((await backup("stopped, between two")).made.kind, "full");
    await run("start (again)", ["start", name]);
    await booted("start again");
    const last = await backup("running, after a stopped one");
    assert.equal(last.made.kind, "full");
    assert.match(last.said, new RegExp(`dropped the dirty bitmap of an earlier backup \\(project-vms-${stampOf(next.made.volume)}\\)`));
    await run("stop (for --all)", ["stop", name]);
    const info = JSON.parse(execFileSync("qemu-img", ["info", "-U", "--output=json", disk], { encoding: "utf8" }));
    assert.deepEqual(
        (info["format-specific"].data.bitmaps ?? []).map((b: { name: string }) => b.name),
        [`project-vms-${stampOf(last.made.volume)}`],
        "one bitmap at rest: the newest backup's",
    );

    // The timer's backup --all: the VM ran after its newest backup and was then stopped, so its
    // disk changed since: backed up; the next --all skips it.
    const all = await run("backup --all", ["backup", "--all", "--json"]);
    const mine = (r: ProjectVmRun) => (JSON.parse(r.stdout).backups as BackupJson[]).filter((b) => b.project === name);
    assert.deepEqual(
        mine(all).map((b) => [b.ok, b.kind]),
        [[true, "full"]],
        all.stderr,
    );
    assert.match(all.stderr, new RegExp(`${name}: ${domain} is shut off, but its disk changed at .*, after its newest backup`));
    const again = await run("backup --all (nothing changed)", ["backup", "--all", "--json"]);
    assert.deepEqual(
        mine(again).map((b) => [b.ok, /is shut off: its disk has not changed since its newest backup/.test(b.skipped ?? "")]),
        [[true, true]],
    );

    // Destroyed: the project disk kept, and its backups still listed.
    await run("destroy", ["destroy", name, "--yes"], /kept|project disk/i);
    assert.equal(domState(domain), "");
    assert.equal(fs.existsSync(disk), true, "its project disk is kept");
    const survived = JSON.parse((await run("backups (destroyed)", ["backups", name, "--json"])).stdout);
    assert.equal(survived.backups.length, 8, "every backup is still listed");
}
