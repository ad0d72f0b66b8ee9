// project-vm restore and backups at their edges: what a restore says it is about to put back (a
// chain, or one full backup), and what `backups` offers for a project no longer in the stack.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { secondsSince } from "../cli/backup";
import { lockPathOf } from "../cli/lock";
import { World } from "./support/cli";
import { BPOOL, eachBackupWorld, GiB, runAt } from "./support/backupWorld";
import { FakeHost } from "./support/fakeVirsh";

let w: World;
let host: FakeHost;

eachBackupWorld((x) => ({ w, host } = x));

const at = (iso: string, ...args: string[]) => runAt(w, iso, ...args);

test("restore says when the backup is a chain, and how long; a full backup alone is not called one", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    assert.equal((await at("2026-11-28T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    host.state("shut off");
    w.err.length = 0;
    assert.equal((await at("2026-11-28T03:00:00Z", "restore", "myapp", "latest", "--yes")).code, 0, w.errText());
    assert.match(
        w.errText(),
        /this replaces the project disk of myapp with myapp--20261128T020000Z--inc\.qcow2 \(2026-11-28T02:00:00\.000Z, a chain of 2\)\./,
    );
    w.err.length = 0;
    assert.equal((await at("2026-11-28T04:00:00Z", "restore", "myapp", "20261127T020000Z", "--yes")).code, 0, w.errText());
    assert.match(w.errText(), /with myapp--20261127T020000Z--full\.qcow2 \(2026-11-27T02:00:00\.000Z\)\./);
});

test("backups of a project removed from the stack offer no kept-aside copy: restore --confirm needs the project", async () => {
    host.pool("project-gone", "/var/lib/project-vms/gone");
    host.volume("project-gone", "project.qcow2.before-restore-20261101T030000Z", GiB, GiB);
    host.volume(BPOOL, "gone--20261101T020000Z--full.qcow2", GiB, GiB);
    const r = await at("2026-11-27T02:00:00Z", "backups", "gone", "--json");
    assert.equal(r.code, 0, w.errText());
    assert.deepEqual(r.json.keptAside, []);
    assert.equal((await at("2026-11-27T02:00:00Z", "backups", "gone")).code, 0, w.errText());
    assert.doesNotMatch(w.errText(), /restore --confirm/);
});

test("restore says the disk was verified against the backup; --confirm takes a y typed with spaces", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    host.state("shut off");
    assert.equal((await at("2026-11-27T03:00:00Z", "restore", "myapp", "latest", "--yes")).code, 0, w.errText());
    assert.match(w.errText(), /myapp restored to 20261127T020000Z in [\d.]+s, verified against the backup \(qemu-img compare\)\./);
    w.answers = [" y "];
    assert.equal((await at("2026-11-27T04:00:00Z", "restore", "--confirm", "myapp")).code, 0, w.errText());
    assert.match(
        w.errText(),
        /this deletes project\.qcow2\.before-restore-20261127T030000Z: myapp's project disk as it was before a restore\./,
        "it says what it deletes before asking",
    );
    assert.deepEqual(host.volumes("project-myapp"), ["project.qcow2"], "the kept copy deleted");
});

test("backups of a project with none says how to make one, and that line makes one", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backups", "webapp")).code, 0, w.errText());
    assert.match(w.errText(), /webapp has no backups in \/var\/lib\/project-vms\/_backups; make one with '[^']+'/);
    const line = w.printedCommands().find((c) => / backup webapp$/.test(c))!;
    assert.match(line, /^project-vm -C \S+ -H storage backup webapp$/);
});

test("backup --all with libvirt unreachable says so and stops, trying no project, even those backed up before", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "--all")).code, 0, w.errText());
    const before = host.volumes(BPOOL);
    host.down();
    const r = await at("2026-11-28T02:00:00Z", "backup", "--all");
    assert.notEqual(r.code, 0);
    assert.match(w.errText(), /libvirt at qemu\+ssh:\/\/admin@storage\/system cannot be reached; no backups were made/);
    assert.doesNotMatch(w.errText(), /backing up|skipped|backup FAILED/);
    host.down(false);
    assert.deepEqual(host.volumes(BPOOL), before);
});

test("backup --all reads each domain's state by its whole name: another domain whose name ends in a project's does not stand for it", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    host.define("x project-myapp", { state: "shut off" });
    const r = await at("2026-11-28T02:00:00Z", "backup", "--all");
    assert.equal(r.code, 0, w.errText());
    assert.match(w.errText(), /backing up myapp \(incremental/);
    assert.doesNotMatch(w.errText(), /myapp: (skipped|project-myapp is shut off)/, "myapp's VM runs");
});

test("backup --json gives only the fields that apply: a backup that deleted nothing has no deleted list", async () => {
    const r = await at("2026-11-27T02:00:00Z", "backup", "myapp", "--json");
    assert.equal(r.code, 0, w.errText());
    assert.deepEqual(Object.keys(r.json.backups[0]).sort(), ["kind", "ok", "project", "seconds", "size", "volume"]);
});

test("backup --all on a host with no VM at all backs up the kept project disks", async () => {
    fs.rmSync(path.join(host.dir, "domains", "project-myapp", "state"));
    assert.deepEqual(host.domains(), []);
    const r = await at("2026-11-27T02:00:00Z", "backup", "--all", "--json");
    assert.equal(r.code, 0, w.errText());
    assert.deepEqual(
        r.json.backups.map((b: { project: string; ok: boolean }) => [b.project, b.ok]),
        [
            ["myapp", true],
            ["webapp", true],
        ],
    );
});

test("a restore holds the stack's lock under its own name, which a command waiting for it shows", async () => {
    const lock = lockPathOf(path.join(w.dir, "Pulumi.storage.yaml"));
    const seen = path.join(host.dir, "lock-seen");
    const look = `cp ${JSON.stringify(lock)} ${JSON.stringify(seen)}`;
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    host.state("shut off");
    host.after("vol-create-from", look);
    assert.equal((await at("2026-11-27T03:00:00Z", "restore", "myapp", "latest", "--yes")).code, 0, w.errText());
    assert.equal(JSON.parse(fs.readFileSync(seen, "utf8")).command, "project-vm restore myapp");
    host.after("vol-delete", look);
    assert.equal((await at("2026-11-27T04:00:00Z", "restore", "--confirm", "myapp", "--yes")).code, 0, w.errText());
    assert.equal(JSON.parse(fs.readFileSync(seen, "utf8")).command, "project-vm restore --confirm myapp");
});

test("backup and restore name a malformed project name as such, before looking for it", async () => {
    for (const args of [
        ["backup", "Bad_Name"],
        ["restore", "Bad_Name", "latest"],
    ]) {
        assert.equal((await at("2026-11-27T02:00:00Z", ...args)).code, 2);
        assert.match(w.errText(), /^project-vm: project name 'Bad_Name' /m, args.join(" "));
    }
});

test("backups lists each disk restores kept aside with the command that deletes them all, which works as printed and names both", async () => {
    assert.equal((await at("2026-11-27T01:00:00Z", "backup", "webapp")).code, 0, w.errText());
    assert.match(w.errText(), /webapp--20261127T010000Z--full\.qcow2 \(full, 1\.00G\) in [\d.]+s; 1 backup\(s\) kept, 1\.00G in all/);
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    host.state("shut off");
    assert.equal((await at("2026-11-27T03:00:00Z", "restore", "myapp", "latest", "--yes")).code, 0, w.errText());
    assert.equal((await at("2026-11-27T04:00:00Z", "restore", "myapp", "latest", "--yes")).code, 0, w.errText());
    assert.equal((await at("2026-11-27T05:00:00Z", "backups", "myapp")).code, 0, w.errText());
    const kept = w.err.filter((l) => /a restore kept the replaced disk/.test(l));
    assert.equal(kept.length, 2, w.errText());
    const line = w.printedCommands().find((c) => / restore --confirm myapp$/.test(c));
    assert.ok(line, w.errText());
    w.answers = ["y"];
    assert.equal((await at("2026-11-27T06:00:00Z", ...line.split(" ").slice(1))).code, 0, w.errText());
    assert.match(
        w.errText(),
        /this deletes project\.qcow2\.before-restore-20261127T030000Z, project\.qcow2\.before-restore-20261127T040000Z: myapp's project disk/,
    );
    assert.deepEqual(host.volumes("project-myapp"), ["project.qcow2"]);
});

test("when libvirt cannot say whether the VM runs, backup and restore stop: no copy taken as if it were off, no disk replaced under it", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    const backups = host.volumes(BPOOL);
    host.fails("domstate", "error: Cannot recv data: Connection reset by peer");
    const taken = await at("2026-11-28T02:00:00Z", "backup", "myapp");
    assert.equal(taken.code, 1);
    assert.match(w.errText(), /could not read the state of project-myapp from libvirt/);
    assert.doesNotMatch(w.errText(), /a full copy of its project disk/);
    assert.deepEqual(host.volumes(BPOOL), backups, "no backup made");
    const restored = await at("2026-11-28T03:00:00Z", "restore", "myapp", "latest", "--yes");
    assert.notEqual(restored.code, 0);
    assert.match(w.errText(), /could not read the state of project-myapp from libvirt/);
    assert.deepEqual(host.volumes("project-myapp"), ["project.qcow2"], "the disk is neither replaced nor copied aside");
});

test("backup --all never skips a VM whose state libvirt cannot give, though its disk looks unchanged since its newest backup", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    host.changed("project-myapp", "project.qcow2", new Date("2026-11-27T01:00:00Z"));
    host.fails("domstate", "error: Cannot recv data: Connection reset by peer");
    const r = await at("2026-11-28T02:00:00Z", "backup", "--all", "--json");
    assert.equal(r.code, 1, "myapp's backup could not be made, and that is a failure");
    const myapp = r.json.backups.find((b: { project: string }) => b.project === "myapp");
    assert.equal(myapp.ok, false);
    assert.equal(myapp.skipped, undefined);
    assert.equal(r.json.backups.find((b: { project: string }) => b.project === "webapp").ok, true, "webapp has no VM: its disk is copied");
});

test("a backup's or restore's time is said in seconds to a tenth", () => {
    assert.equal(secondsSince(1_000, 2_234), 1.2);
    assert.equal(secondsSince(1_000, 1_049), 0);
    assert.equal(secondsSince(1_000, 1_050), 0.1);
    assert.equal(secondsSince(0, 125_960), 126);
    const started = Date.now();
    assert.ok(secondsSince(started) < 60, "from now by default");
});

test("a backups pool named by PROJECT_VMS_BACKUP_POOL must be a plain name: refused, named, before anything is run", async () => {
    w.env.PROJECT_VMS_BACKUP_POOL = "pool;rm -rf /";
    const r = await at("2026-11-27T02:00:00Z", "backup", "myapp");
    assert.equal(r.code, 2);
    assert.match(w.errText(), /PROJECT_VMS_BACKUP_POOL 'pool;rm -rf \/' is not a pool name$/m);
});
