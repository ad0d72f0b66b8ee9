// project-vm backup / backups / restore: the commands over the real host script and a stand-in
// virsh, in the CLI's stand-in world: JSON shapes, exit codes, retention, refusals.
import assert from "node:assert/strict";
import { test } from "node:test";
import { World } from "./support/cli";
import { backupWorld, eachBackupWorld, BPOOL, GiB, runAt } from "./support/backupWorld";
import { FakeHost } from "./support/fakeVirsh";

let w: World;
let host: FakeHost;

eachBackupWorld((x) => ({ w, host } = x));

const at = (iso: string, ...args: string[]) => runAt(w, iso, ...args);

test("backup: a full, then incrementals; --json reports each; backups lists them with sizes and chains", async () => {
    const first = await at("2026-11-27T02:00:00Z", "backup", "myapp", "--json");
    assert.equal(first.code, 0, w.errText());
    assert.deepEqual(Object.keys(first.json), ["host", "backups"]);
    const r = first.json.backups[0];
    assert.equal(r.project, "myapp");
    assert.equal(r.ok, true);
    assert.equal(r.volume, "myapp--20261127T020000Z--full.qcow2");
    assert.equal(r.kind, "full");
    assert.equal(typeof r.seconds, "number");
    assert.match(w.errText(), /backing up myapp \(full\) to \/var\/lib\/project-vms\/_backups/);

    const second = await at("2026-11-28T02:00:00Z", "backup", "myapp", "--json");
    assert.equal(second.code, 0, w.errText());
    assert.equal(second.json.backups[0].kind, "inc");
    assert.match(w.errText(), /incremental over myapp--20261127T020000Z--full\.qcow2/);

    const listed = await at("2026-11-28T03:00:00Z", "backups", "myapp", "--json");
    assert.equal(listed.code, 0, w.errText());
    assert.deepEqual(Object.keys(listed.json), ["host", "project", "dir", "backups", "total", "keptAside"]);
    assert.deepEqual(
        listed.json.backups.map((b: any) => [b.volume, b.kind, b.time, b.base]),
        [
            ["myapp--20261127T020000Z--full.qcow2", "full", "2026-11-27T02:00:00.000Z", "myapp--20261127T020000Z--full.qcow2"],
            ["myapp--20261128T020000Z--inc.qcow2", "inc", "2026-11-28T02:00:00.000Z", "myapp--20261127T020000Z--full.qcow2"],
        ],
    );
    for (const b of listed.json.backups) for (const k of ["size", "capacity", "chainSize"]) assert.equal(typeof b[k], "number");
    assert.equal(listed.json.keptAside.length, 0);

    const text = await at("2026-11-28T03:00:00Z", "backups", "myapp");
    assert.equal(text.code, 0);
    assert.match(w.out[0], /^2026-11-28T02:00:00Z {2}inc {3}.*myapp--20261128T020000Z--inc\.qcow2$/, "newest first");
    assert.match(w.errText(), /2 backup\(s\) of myapp, .* in \/var\/lib\/project-vms\/_backups/);
    assert.deepEqual(host.volumes("project-webapp"), ["project.qcow2"], "the other project untouched");
});

test("backup without an agent exits 1 with the way on; a usage mistake exits 2", async () => {
    host.agent(false);
    const r = await at("2026-11-27T02:00:00Z", "backup", "myapp", "--json");
    assert.equal(r.code, 1);
    assert.equal(r.json.backups[0].ok, false);
    assert.match(r.json.backups[0].error, /backup take failed/);
    // Commands named by the script's hints carry -C and -H, so they work as printed.
    assert.match(
        w.errText(),
        /project-vm -C \S+ -H storage stop myapp; project-vm -C \S+ -H storage backup myapp; project-vm -C \S+ -H storage start myapp/,
    );
    assert.equal((await at("2026-11-27T02:00:00Z", "backup")).code, 2);
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "nosuch")).code, 2);
    assert.match(w.errText(), /there is no project 'nosuch' on host storage \(its projects: myapp, webapp\)$/m);
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp", "--all")).code, 2);
});

test("retention runs after each backup: older chains go whole, the newest week stays", async () => {
    for (let d = 0; d < 20; d++) {
        const day = new Date(Date.UTC(2026, 10, 1 + d, 2)).toISOString();
        const r = await at(day, "backup", "myapp", "--json");
        assert.equal(r.code, 0, w.errText());
    }
    const names = host.volumes(BPOOL);
    // Fulls on days 1, 8, 15 (fullEvery 7). Week 44 ends on Sunday the 1st: keepWeekly keeps its
    // newest, the full of the 1st, whose incrementals of the 2nd to the 7th (week 45, whose newest
    // is the full of the 8th) went as soon as nothing kept rested on them.
    assert.deepEqual(
        names.filter((n) => n.endsWith("--full.qcow2")),
        ["myapp--20261101T020000Z--full.qcow2", "myapp--20261108T020000Z--full.qcow2", "myapp--20261115T020000Z--full.qcow2"],
    );
    assert.equal(names.length, 1 + 7 + 6);
    w.writeStack(
        "storage",
        w
            .stackText("storage")
            .replace("config:\n", "config:\n  project-vms:backups:\n    keepDaily: 2\n    keepWeekly: 0\n    keepLast: 1\n"),
    );
    const r = await at("2026-11-21T02:00:00Z", "backup", "myapp", "--json");
    assert.equal(r.code, 0, w.errText());
    // Kept: the chain of the 15th (the newest two days rest on it); deleted: the older chains, whole.
    assert.equal(r.json.backups[0].deleted.length, 8);
    assert.ok(
        host.volumes(BPOOL).every((n) => n >= "myapp--20261115"),
        host.volumes(BPOOL).join(" "),
    );
    assert.match(w.errText(), /retention deleted 8/);
});

test("backup --all: running VMs, and stopped ones only without a backup; a bad backups setting is refused", async () => {
    host.state("shut off");
    // Both disks last written when their VMs stopped, before the first backup.
    for (const p of ["project-myapp", "project-webapp"]) host.changed(p, "project.qcow2", new Date("2026-11-26T12:00:00Z"));
    const first = await at("2026-11-27T02:00:00Z", "backup", "--all", "--json");
    assert.equal(first.code, 0, w.errText());
    // The fake libvirt has the one domain project-myapp; webapp's VM is not defined: it has no backup yet, so it is copied.
    assert.deepEqual(
        first.json.backups.map((b: any) => [b.project, b.kind ?? null]),
        [
            ["myapp", "full"],
            ["webapp", "full"],
        ],
    );
    const second = await at("2026-11-28T02:00:00Z", "backup", "--all", "--json");
    assert.equal(second.code, 0, w.errText());
    assert.deepEqual(
        second.json.backups.map((b: any) => [b.project, b.skipped ? "skipped" : b.kind]),
        [
            ["myapp", "skipped"],
            ["webapp", "skipped"],
        ],
    );

    w.writeStack("storage", w.stackText("storage").replace("config:\n", "config:\n  project-vms:backups:\n    dir: ../elsewhere\n"));
    const bad = await at("2026-11-28T02:00:00Z", "backup", "myapp");
    assert.equal(bad.code, 2);
    assert.match(w.errText(), /project-vms:backups\.dir "\.\.\/elsewhere" must be an absolute path/);
});

test("restore: asks (or needs --yes), refuses another project's backup, keeps the replaced disk until --confirm", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    host.state("shut off");

    w.answers = [undefined];
    assert.equal((await at("2026-11-27T03:00:00Z", "restore", "myapp", "latest")).code, 2, "no terminal, no --yes");
    assert.match(w.errText(), /give --yes/);
    assert.equal((await at("2026-11-27T03:00:00Z", "restore", "myapp", "webapp--20261127T020000Z--full.qcow2", "--yes")).code, 2);
    assert.match(w.errText(), /is a backup of webapp, not of myapp/);
    assert.equal((await at("2026-11-27T03:00:00Z", "restore", "myapp", "20261101T000000Z", "--yes")).code, 2);
    assert.match(w.errText(), /myapp has no backup '20261101T000000Z'/);
    assert.equal((await at("2026-11-27T03:00:00Z", "restore", "myapp")).code, 2);
    w.answers = ["yeah"];
    assert.equal((await at("2026-11-27T03:00:00Z", "restore", "myapp", "latest")).code, 2, "only y or yes is a yes");
    assert.equal(w.asked.at(-1), "Restore myapp on storage to 20261127T020000Z? [y/N] ");
    assert.match(w.errText(), /restore cancelled; nothing changed$/);
    assert.deepEqual(host.volumes("project-myapp"), ["project.qcow2"], "nothing changed so far");

    w.answers = ["y"];
    const r = await at("2026-11-27T03:00:00Z", "restore", "myapp", "20261127T020000Z", "--json");
    assert.equal(r.code, 0, w.errText());
    assert.deepEqual(Object.keys(r.json), ["project", "restored", "keptAside", "verified", "seconds"]);
    assert.equal(r.json.verified, true);
    assert.equal(r.json.restored, "myapp--20261127T020000Z--full.qcow2");
    assert.equal(r.json.keptAside, "project.qcow2.before-restore-20261127T030000Z");
    const confirmLine = w.printedCommands().find((c) => / restore --confirm myapp$/.test(c));
    assert.ok(confirmLine, w.errText());
    assert.match(confirmLine, /^project-vm -C \S+ -H storage restore --confirm myapp$/);
    assert.deepEqual(host.volumes("project-myapp"), ["project.qcow2", "project.qcow2.before-restore-20261127T030000Z"]);

    const listed = await at("2026-11-27T04:00:00Z", "backups", "myapp", "--json");
    assert.deepEqual(
        listed.json.keptAside.map((k: any) => k.volume),
        ["project.qcow2.before-restore-20261127T030000Z"],
    );

    w.answers = ["n"];
    assert.equal((await at("2026-11-27T04:00:00Z", "restore", "--confirm", "myapp")).code, 2);
    assert.equal(w.asked.at(-1), "Delete it? [y/N] ");
    assert.match(w.errText(), /nothing deleted$/);
    assert.equal(host.volumes("project-myapp").length, 2);
    assert.equal((await at("2026-11-27T04:00:00Z", "restore", "--confirm", "myapp", "--yes")).code, 0, w.errText());
    assert.deepEqual(host.volumes("project-myapp"), ["project.qcow2"]);
    assert.deepEqual(host.volumes("project-webapp"), ["project.qcow2"]);
});

test("restore names the command that deletes the disk it keeps aside, before and after; without --json it prints that disk's name", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    host.state("shut off");
    const r = await at("2026-11-27T03:00:00Z", "restore", "myapp", "latest", "--yes");
    assert.equal(r.code, 0, w.errText());
    assert.deepEqual(w.out, ["project.qcow2.before-restore-20261127T030000Z"]);
    assert.match(w.err[0], /The disk as it is now is kept aside until '(project-vm [^']+)'\.$/);
    assert.match(
        w.err.at(-1)!,
        /\. Check it, then '(project-vm [^']+)' deletes the replaced disk \(project\.qcow2\.before-restore-20261127T030000Z\)\.$/,
    );
    const printed = w.printedCommands();
    assert.equal(printed.length, 2, w.errText());
    for (const line of printed) assert.match(line, /^project-vm -C \S+ -H storage restore --confirm myapp$/);
    w.answers = ["y"];
    assert.equal(await w.paste(printed[1]), 0, w.errText());
    assert.deepEqual(host.volumes("project-myapp"), ["project.qcow2"], "the printed command deletes what was kept aside");
});

test("a running VM is not restored without --stop (exit 1, the disk untouched)", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    const r = await at("2026-11-27T03:00:00Z", "restore", "myapp", "latest", "--yes");
    assert.equal(r.code, 1);
    assert.match(w.errText(), /is running: a restore replaces its project disk/);
    assert.deepEqual(host.volumes("project-myapp"), ["project.qcow2"]);
});

test("backups of a project no longer in the stack are still listed", async () => {
    host.pool(BPOOL, "/var/lib/project-vms/_backups");
    host.volume(BPOOL, "gone--20261101T020000Z--full.qcow2", GiB, GiB);
    const r = await at("2026-11-27T02:00:00Z", "backups", "gone", "--json");
    assert.equal(r.code, 0, w.errText());
    assert.deepEqual(
        r.json.backups.map((b: any) => b.volume),
        ["gone--20261101T020000Z--full.qcow2"],
    );
    assert.equal((await at("2026-11-27T02:00:00Z", "backups", "gone")).code, 0);
    assert.match(w.errText(), /gone is not a project of storage \(any more\); its backups are kept/);
    assert.equal(
        (await at("2026-11-27T02:00:00Z", "restore", "gone", "latest", "--yes")).code,
        2,
        "restore needs the project (create it first)",
    );
});

test("a backup from a machine whose clock is behind the newest backup is refused, saying so; nothing is made", async (t) => {
    const { w, host } = backupWorld();
    t.after(() => {
        w.cleanup();
        host.cleanup();
    });
    assert.equal((await runAt(w, "2026-11-27T10:15:00Z", "backup", "-H", "storage", "myapp")).code, 0, w.errText());
    const before = host.volumes(BPOOL);
    const r = await runAt(w, "2026-11-27T09:45:00Z", "backup", "-H", "storage", "myapp");
    assert.equal(r.code, 1);
    assert.match(
        w.errText(),
        /myapp: backup FAILED: this machine's clock \(20261127T094500Z\) is not later than the newest backup's \(myapp--20261127T101500Z--full\.qcow2\).*no backup was made/,
    );
    assert.deepEqual(host.volumes(BPOOL), before);
});

test("backups lists chains as the backing files say", async (t) => {
    const { w, host } = backupWorld();
    t.after(() => {
        w.cleanup();
        host.cleanup();
    });
    for (const at of ["2026-11-27T10:00:00Z", "2026-11-27T11:00:00Z"])
        assert.equal((await runAt(w, at, "backup", "-H", "storage", "myapp")).code, 0, w.errText());
    // A backup stamped before its parent (taken before the clock check, by a clock behind): its file says what it rests on.
    host.volume(BPOOL, "myapp--20261127T093000Z--inc.qcow2", 100 * GiB, GiB, "myapp--20261127T110000Z--inc.qcow2");
    const r = await runAt(w, "2026-11-27T12:00:00Z", "backups", "-H", "storage", "myapp", "--json");
    assert.equal(r.code, 0, w.errText());
    assert.deepEqual(
        r.json.backups.map((b: any) => [b.volume, b.base]),
        [
            ["myapp--20261127T100000Z--full.qcow2", "myapp--20261127T100000Z--full.qcow2"],
            ["myapp--20261127T110000Z--inc.qcow2", "myapp--20261127T100000Z--full.qcow2"],
            ["myapp--20261127T093000Z--inc.qcow2", "myapp--20261127T100000Z--full.qcow2"],
        ],
    );
});
