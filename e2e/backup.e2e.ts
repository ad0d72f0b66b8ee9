// Backups end to end: project-vm backup / backups / restore against a real libvirtd and one real
// guest (guest agent running, the project disk a volume in the project's pool as the provider
// attaches it). The story: a project disk made as the provider makes it (libvirt's qcow2 v2) →
// 1 GiB written and a file appended to during a backup → full (v2 holds no bitmap: full only) →
// the way to qcow2 v3: VM stopped, a backup of the stopped VM, restored, started → full backup
// (the restored disk has no bitmap) → a small change → incremental (much smaller) → files deleted
// and the superblock zeroed → restore of the chain → the marker, the change and an untorn append
// log are back and e2fsck is clean → the replaced disk deleted on --confirm → the project removed
// (VM, disk, pool), and its backups still listed.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { after, test } from "node:test";
import { PROJECT_DISK_TARGET } from "../components/domainShape";
import { hostScript } from "../components/hostCommands";
import { Libvirt, virshOnPath } from "../cli/libvirt";
import { main } from "../cli/main";
import { World } from "../test/support/cli";
import { libvirtReachable, requireTool } from "../test/support/tools";
import { baseImage } from "./image";
import { guestDomainXml, seedIso, waitForGuest } from "./libvirtGuest";

const URI = process.env.PROJECT_VMS_E2E_LIBVIRT_URI ?? "qemu:///system";
const MINUTE = 60_000;
const id = randomBytes(3).toString("hex");
const storageDir = `/var/lib/pvms-bk-e2e-${id}`;
const backupDir = `/var/lib/pvms-bk-e2e-${id}-backups`;
const backupPool = `pvms-bk-e2e-${id}`;
const project = `bk${id}`;
const domain = `project-${project}`;
const GiB = 1024 ** 3;

function virsh(...args: string[]): string {
    return execFileSync("virsh", ["-q", "-c", URI, ...args], { encoding: "utf8" }).trim();
}
const quiet = (...args: string[]) => spawnSync("virsh", ["-q", "-c", URI, ...args], { stdio: "ignore" });

after(() => {
    if (process.env.PROJECT_VMS_E2E_KEEP) return;
    quiet("destroy", domain);
    quiet("undefine", domain, "--checkpoints-metadata");
    for (const pool of [domain, backupPool]) {
        quiet("pool-destroy", pool);
        quiet("pool-undefine", pool);
    }
    fs.rmSync(storageDir, { recursive: true, force: true });
    fs.rmSync(backupDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("backup, incremental, damage, restore and keep: a real guest on a real libvirtd", { timeout: 45 * MINUTE }, async (t) => {
    if (!libvirtReachable(URI, (r) => t.skip(r))) return;
    for (const [tool, pkg] of [
        ["mmdebstrap", "mmdebstrap"],
        ["qemu-img", "qemu-utils"],
        ["genisoimage", "genisoimage"],
        ["ssh-keygen", "openssh-client"],
    ]) {
        if (!requireTool(tool, pkg, (r) => t.skip(r))) return;
    }
    const base = baseImage((line) => console.log(`e2e image: ${line}`));
    const guestDir = `${storageDir}/guest`;
    fs.mkdirSync(guestDir, { recursive: true });
    fs.copyFileSync(base.kernel, `${guestDir}/kernel`);
    fs.copyFileSync(base.initrd, `${guestDir}/initrd`);
    fs.copyFileSync(base.disk, `${guestDir}/base.qcow2`);
    execFileSync("qemu-img", [
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        `${guestDir}/base.qcow2`,
        "-F",
        "qcow2",
        `${guestDir}/disk.qcow2`,
        "4G",
    ]);

    // The project's pool as pool.sh makes it, and a 2 GiB project disk in it made as the provider
    // makes it: a qcow2 volume whose XML names no <compat>, which libvirt 9 makes qcow2 v2.
    const pool = spawnSync("bash", ["-c", hostScript("pool.sh", "pool_ensure")], {
        encoding: "utf8",
        env: { PATH: process.env.PATH, LIBVIRT_URI: URI, POOL: domain, POOL_DIR: `${storageDir}/${project}` },
    });
    assert.equal(pool.status, 0, pool.stderr);
    const volXml = `${guestDir}/project-volume.xml`;
    fs.writeFileSync(
        volXml,
        `<volume><name>project.qcow2</name><capacity unit='bytes'>${2 * GiB}</capacity><target><format type='qcow2'/></target></volume>`,
    );
    virsh("vol-create", domain, volXml);
    const projectDisk = `${storageDir}/${project}/project.qcow2`;
    const compat = () => /compat: (\S+)/.exec(execFileSync("qemu-img", ["info", "-U", projectDisk], { encoding: "utf8" }))?.[1];
    assert.equal(compat(), "0.10", "libvirt makes qcow2 v2 when the volume XML does not ask for v3");

    // The guest: the agent from Debian, the project disk formatted and mounted at first boot.
    const userData = {
        apt: { conf: 'Acquire::Check-Valid-Until "false";\n' },
        packages: ["qemu-guest-agent"],
        runcmd: [
            ["mkfs.ext4", "-q", "-L", "project", "/dev/vdb"],
            ["mkdir", "-p", "/mnt/project"],
            ["mount", "/dev/vdb", "/mnt/project"],
            ["touch", "/run/bk-ready"],
        ],
    };
    const serial = `${guestDir}/serial.log`;
    fs.writeFileSync(
        `${guestDir}/domain.xml`,
        guestDomainXml({
            name: domain,
            dir: guestDir,
            iso: seedIso(guestDir, "seed", userData, domain, domain),
            serial,
            extraDisks: [
                `<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='${domain}' volume='project.qcow2'/><target dev='${PROJECT_DISK_TARGET}' bus='virtio'/></disk>`,
            ],
        }),
    );
    virsh("define", `${guestDir}/domain.xml`);
    const libvirt = new Libvirt(URI, virshOnPath);
    const sh = async (script: string, timeoutMs = 10 * MINUTE) => {
        const r = await libvirt.guestExec(domain, "/bin/sh", ["-c", script], timeoutMs);
        if (r.code !== 0) throw new Error(`in the guest: ${script}: exit ${r.code}: ${r.stdout}${r.stderr}`);
        return r.stdout.trim();
    };
    const waitFor = (what: string, ok: () => Promise<boolean>, timeoutMs: number) => waitForGuest(what, serial, ok, timeoutMs);
    const agentUp = () =>
        waitFor("no guest agent", async () => (await libvirt.guestExec(domain, "/bin/true", [], 20_000)).code === 0, 20 * MINUTE);

    let clock = Date.now();
    virsh("start", domain);
    await agentUp();
    await waitFor(
        "the project disk was not mounted",
        async () => (await libvirt.guestExec(domain, "/usr/bin/test", ["-e", "/run/bk-ready"], 20_000)).code === 0,
        10 * MINUTE,
    );
    console.log(`e2e timing: guest up with its agent: ${((Date.now() - clock) / 1000).toFixed(1)}s`);

    // The CLI over a stack file naming this host, project and backups folder.
    const w = new World(["storage"]);
    t.after(() => w.cleanup());
    const key = `${guestDir}/id`;
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    const stackText = (withProject: boolean) =>
        [
            "config:",
            `  project-vms:libvirtUri: ${URI}`,
            `  project-vms:storageDir: ${storageDir}`,
            `  project-vms:sshPublicKeys:\n    - ${fs.readFileSync(`${key}.pub`, "utf8").trim()}`,
            "  project-vms:tailscale:\n    enabled: false",
            `  project-vms:backups:\n    dir: ${backupDir}\n    keepDaily: 7\n    keepWeekly: 4\n    keepLast: 10`,
            withProject
                ? `  project-vms:projects:\n    - name: ${project}\n      memory: 1536\n      disk: 2G`
                : "  project-vms:projects: []",
            "",
        ].join("\n");
    w.writeStack("storage", stackText(true));
    w.env = { PATH: process.env.PATH, PROJECT_VMS_BACKUP_POOL: backupPool };
    const cli = async (...args: string[]) => {
        w.out.length = 0;
        w.err.length = 0;
        const code = await main(args, { ...w.deps(), virsh: virshOnPath });
        const err = w.errText();
        for (const l of w.err) console.log(`  | ${l}`);
        return { code, out: w.out.join("\n"), err };
    };

    // 1 GiB of data, a marker, and a file appended to all along.
    clock = Date.now();
    await sh("dd if=/dev/urandom of=/mnt/project/big bs=1M count=1024 status=none && echo 'marker e2e' > /mnt/project/marker && sync");
    console.log(`e2e timing: 1 GiB written in the guest: ${((Date.now() - clock) / 1000).toFixed(1)}s`);
    const appender = () =>
        sh(
            "setsid sh -c 'echo $$ > /run/appender.pid; i=$(wc -l < /mnt/project/append.log 2>/dev/null || echo 0); " +
                'while :; do echo "line $i" >> /mnt/project/append.log; i=$((i+1)); sleep 0.05; done\' >/dev/null 2>&1 < /dev/null &',
        );
    await appender();
    await sleep(3000);
    const lines = async () => Number(await sh("wc -l < /mnt/project/append.log"));

    // The provider's v2 disk: a consistent full backup, and no checkpoint.
    clock = Date.now();
    const v2 = await cli("backup", project, "--json");
    const v2Seconds = (Date.now() - clock) / 1000;
    assert.equal(v2.code, 0, v2.err);
    const v2Result = JSON.parse(v2.out).backups[0];
    assert.equal(v2Result.kind, "full");
    assert.match(v2.err, /qcow2 v2 \(compat 0\.10\), which cannot hold the dirty bitmap incrementals need: full backups only/);
    assert.match(v2.err, /freezing the filesystems[\s\S]*thawed the filesystems/);
    console.log(
        `timing: full backup of a 2 GiB disk with 1 GiB written (running VM, frozen): ${v2Seconds.toFixed(1)}s (${(v2Result.size / GiB).toFixed(2)} GiB)`,
    );
    assert.ok(v2Result.size > 0.9 * GiB, "the full backup holds the 1 GiB");
    let before = await lines();
    await sleep(2000);
    assert.ok((await lines()) > before, "the guest's filesystems were thawed: the appender goes on");

    // To qcow2 v3 losing nothing: stopped (ACPI, power.sh), backed up stopped, restored, started.
    const power = (desired: string) =>
        spawnSync("bash", ["-c", hostScript("power.sh", "power_apply")], {
            encoding: "utf8",
            env: { PATH: process.env.PATH, LIBVIRT_URI: URI, DOMAIN: domain, DESIRED: desired, SHUTDOWN_TIMEOUT: "300" },
        });
    assert.equal(power("stopped").status, 0);
    clock = Date.now();
    const cold = await cli("backup", project, "--json");
    assert.equal(cold.code, 0, cold.err);
    const coldResult = JSON.parse(cold.out).backups[0];
    assert.equal(coldResult.kind, "full");
    assert.match(cold.err, /is shut off: a full copy of its project disk/);
    console.log(`timing: full backup of the stopped VM (vol-create-from): ${((Date.now() - clock) / 1000).toFixed(1)}s`);
    const upgraded = await cli("restore", project, "latest", "--yes");
    assert.equal(upgraded.code, 0, upgraded.err);
    assert.equal(compat(), "1.1", "a restored disk is qcow2 v3");
    assert.equal(virsh("domstate", domain), "shut off", "a VM that was stopped stays stopped");
    assert.equal((await cli("restore", "--confirm", project, "--yes")).code, 0);
    assert.equal(power("running").status, 0);
    clock = Date.now();
    await agentUp();
    console.log(`e2e timing: guest back with its agent: ${((Date.now() - clock) / 1000).toFixed(1)}s`);
    await sh("mkdir -p /mnt/project && mount /dev/vdb /mnt/project && test \"$(cat /mnt/project/marker)\" = 'marker e2e'");
    await appender();
    await sleep(3000);

    // Now with checkpoints: the first backup is full (the restored disk has no bitmap), and says why.
    clock = Date.now();
    const full = await cli("backup", project, "--json");
    const fullSeconds = (Date.now() - clock) / 1000;
    assert.equal(full.code, 0, full.err);
    const fullResult = JSON.parse(full.out).backups[0];
    assert.equal(fullResult.kind, "full");
    assert.match(full.err, /no longer has the dirty bitmap of .*: a full backup instead/);
    console.log(
        `timing: full backup of a 2 GiB disk with 1 GiB written (qcow2 v3, with a checkpoint): ${fullSeconds.toFixed(1)}s (${(fullResult.size / GiB).toFixed(2)} GiB)`,
    );
    assert.equal(virsh("checkpoint-list", domain, "--name"), "", "no checkpoint metadata left in libvirt: the domain can be replaced");
    before = await lines();
    await sleep(2000);
    assert.ok((await lines()) > before, "thawed again");

    // A small change, then an incremental.
    await sh(
        "dd if=/dev/urandom of=/mnt/project/change bs=1M count=3 status=none && echo 'changed after the full backup' >> /mnt/project/marker && sync",
    );
    const changeSum = await sh("sha256sum /mnt/project/change | cut -d' ' -f1");
    clock = Date.now();
    const inc = await cli("backup", project, "--json");
    const incSeconds = (Date.now() - clock) / 1000;
    assert.equal(inc.code, 0, inc.err);
    const incResult = JSON.parse(inc.out).backups[0];
    assert.equal(incResult.kind, "inc", inc.err);
    console.log(
        `timing: incremental backup after a 3 MiB change: ${incSeconds.toFixed(1)}s (${(incResult.size / 1024 ** 2).toFixed(1)} MiB)`,
    );
    assert.ok(
        incResult.size < fullResult.size / 10,
        `the incremental (${incResult.size}) is much smaller than the full (${fullResult.size})`,
    );

    // The backups folder moved whole (as to another disk): the incremental still finds its full
    // (relative backing path) and reads exactly as before.
    const moved = `${backupDir}-moved`;
    execFileSync("cp", ["-a", "--sparse=always", backupDir, moved]);
    try {
        const chain = JSON.parse(
            execFileSync("qemu-img", ["info", "-U", "--backing-chain", "--output=json", `${moved}/${incResult.volume}`], {
                encoding: "utf8",
            }),
        );
        assert.deepEqual(
            chain.map((i: any) => i.filename),
            [`${moved}/${incResult.volume}`, `${moved}/${fullResult.volume}`],
            "the moved incremental rests on the moved full",
        );
        execFileSync("qemu-img", ["compare", "-U", `${moved}/${incResult.volume}`, `${backupDir}/${incResult.volume}`]);
    } finally {
        fs.rmSync(moved, { recursive: true, force: true });
    }

    const listed = await cli("backups", project, "--json");
    assert.equal(listed.code, 0, listed.err);
    const list = JSON.parse(listed.out);
    assert.deepEqual(
        list.backups.map((b: any) => [b.volume, b.kind, b.base]),
        [
            [v2Result.volume, "full", v2Result.volume],
            [coldResult.volume, "full", coldResult.volume],
            [fullResult.volume, "full", fullResult.volume],
            [incResult.volume, "inc", fullResult.volume],
        ],
    );
    assert.ok(list.total >= v2Result.size + fullResult.size + incResult.size - 1024 ** 2, "space used is reported");

    // Damage: the appender stopped, files deleted, the superblock zeroed.
    await sh(
        "kill $(cat /run/appender.pid); sleep 1; rm -f /mnt/project/marker /mnt/project/change /mnt/project/big; sync; " +
            "dd if=/dev/zero of=/dev/vdb bs=4096 count=16 conv=fsync status=none; echo 3 > /proc/sys/vm/drop_caches",
    );
    const damaged = await libvirt.guestExec(domain, "/sbin/e2fsck", ["-fn", "/dev/vdb"], 5 * MINUTE);
    assert.notEqual(damaged.code, 0, "the filesystem is damaged");

    // Refused while running without --stop; then restored with --stop.
    const refused = await cli("restore", project, "latest", "--yes");
    assert.equal(refused.code, 1);
    assert.match(refused.err, /is running: a restore replaces its project disk/);
    const other = await cli("restore", project, `other--${incResult.volume.split("--")[1]}--full.qcow2`, "--yes");
    assert.equal(other.code, 2);
    assert.match(other.err, /is a backup of other, not of/);

    clock = Date.now();
    const restored = await cli("restore", project, "latest", "--stop", "--yes", "--json");
    const restoreSeconds = (Date.now() - clock) / 1000;
    assert.equal(restored.code, 0, restored.err);
    const r = JSON.parse(restored.out);
    assert.equal(r.restored, incResult.volume);
    assert.match(r.keptAside, /^project\.qcow2\.before-restore-\d{8}T\d{6}Z$/);
    console.log(
        `timing: restore of the chain (full + incremental; shutdown, copy aside, write back, start): ${restoreSeconds.toFixed(1)}s`,
    );
    assert.equal(virsh("domstate", domain), "running", "started again");

    clock = Date.now();
    await agentUp();
    console.log(`e2e timing: guest back with its agent: ${((Date.now() - clock) / 1000).toFixed(1)}s`);
    const fsck = await libvirt.guestExec(domain, "/sbin/e2fsck", ["-fn", "/dev/vdb"], 5 * MINUTE);
    assert.equal(fsck.code, 0, `e2fsck -fn is clean after the restore: ${fsck.stdout}${fsck.stderr}`);
    await sh("mkdir -p /mnt/project && mount /dev/vdb /mnt/project");
    assert.equal(await sh("cat /mnt/project/marker"), "marker e2e\nchanged after the full backup");
    assert.equal(await sh("sha256sum /mnt/project/change | cut -d' ' -f1"), changeSum, "the change, from the incremental");
    assert.equal(await sh("stat -c %s /mnt/project/big"), String(GiB));
    // The appended file is whole up to its last line: line 0, 1, 2, … with nothing torn.
    const log = (await sh("cat /mnt/project/append.log")).split("\n");
    assert.ok(log.length > 10);
    log.forEach((l, i) => assert.equal(l, `line ${i}`));
    assert.equal(compat(), "1.1");

    // The restored disk has no bitmap: the next backup is full, and says why.
    const next = await cli("backup", project, "--json");
    assert.equal(next.code, 0, next.err);
    assert.equal(JSON.parse(next.out).backups[0].kind, "full");
    assert.match(next.err, /no longer has the dirty bitmap/);

    // The replaced disk goes on --confirm; only it.
    const confirmed = await cli("restore", "--confirm", project, "--yes");
    assert.equal(confirmed.code, 0, confirmed.err);
    const vols = virsh("vol-list", domain)
        .split("\n")
        .map((l) => l.trim().split(/\s+/)[0])
        .filter(Boolean);
    assert.deepEqual(vols, ["project.qcow2"]);

    // A backup of the stopped VM between two of the running one: the next cannot build on the
    // bitmap the first left, so it is full and drops that bitmap; one bitmap stays in the disk.
    const stampOf = (volume: string) => volume.split("--")[1];
    assert.equal(power("stopped").status, 0);
    const cold2 = await cli("backup", project, "--json");
    assert.equal(JSON.parse(cold2.out).backups[0].kind, "full", cold2.err);
    assert.equal(power("running").status, 0);
    await agentUp();
    const hot = await cli("backup", project, "--json");
    assert.equal(hot.code, 0, hot.err);
    const hotResult = JSON.parse(hot.out).backups[0];
    assert.equal(hotResult.kind, "full");
    assert.match(
        hot.err,
        new RegExp(`dropped the dirty bitmap of an earlier backup \\(project-vms-${stampOf(JSON.parse(next.out).backups[0].volume)}\\)`),
    );
    assert.equal(power("stopped").status, 0);
    const info = JSON.parse(execFileSync("qemu-img", ["info", "--output=json", projectDisk], { encoding: "utf8" }));
    assert.deepEqual(
        (info["format-specific"].data.bitmaps ?? []).map((b: any) => b.name),
        [`project-vms-${stampOf(hotResult.volume)}`],
        "one bitmap at rest: the newest backup's",
    );

    // The timer's backup --all: the VM ran after its newest backup and was then stopped, so its
    // disk changed since: backed up; the next --all skips it (nothing changed since).
    const all = await cli("backup", "--all", "--json");
    assert.equal(all.code, 0, all.err);
    assert.deepEqual(
        JSON.parse(all.out).backups.map((b: any) => [b.project, b.ok, b.kind]),
        [[project, true, "full"]],
        all.err,
    );
    assert.match(all.err, /is shut off, but its disk changed at .*, after its newest backup/);
    const again = await cli("backup", "--all", "--json");
    assert.equal(again.code, 0, again.err);
    assert.deepEqual(
        JSON.parse(again.out).backups.map((b: any) => [
            b.project,
            b.ok,
            /is shut off: its disk has not changed since its newest backup/.test(b.skipped),
        ]),
        [[project, true, true]],
    );

    // The project removed, disk and pool included: its backups stay and are listed. (A plain
    // undefine: no checkpoint metadata is in the way.)
    virsh("undefine", domain);
    virsh("vol-delete", "--pool", domain, "project.qcow2");
    virsh("pool-destroy", domain);
    virsh("pool-undefine", domain);
    w.writeStack("storage", stackText(false));
    const survived = await cli("backups", project, "--json");
    assert.equal(survived.code, 0, survived.err);
    assert.equal(JSON.parse(survived.out).backups.length, 8);
    console.log(
        `e2e: backups of the removed project: ${JSON.parse(survived.out)
            .backups.map((b: any) => `${b.volume} ${b.kind}`)
            .join(", ")}`,
    );
});
