// host-scripts/backup.sh against a stand-in virsh: the order freeze → backup-begin → thaw, a thaw
// on every failure, a refusal without the guest agent, the checkpoint kept to one bitmap and no
// metadata, restore's copy aside, and never a volume of another project.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { backupProgram, BPOOL, backupScriptEnv, runBackupScript } from "./support/backupScript";
import { FakeHost } from "./support/fakeVirsh";

const GiB = 1024 ** 3;
const P = "myapp";
const POOL = "project-myapp";
let host: FakeHost;

beforeEach(() => {
    host = new FakeHost(`project-${P}`);
    host.state("running");
    host.agent();
    host.pool(POOL, "/var/lib/project-vms/myapp");
    host.volume(POOL, "project.qcow2", 2 * GiB, GiB);
    // Another project's disk and backups, which nothing here may touch.
    host.pool("project-other", "/var/lib/project-vms/other");
    host.volume("project-other", "project.qcow2", 2 * GiB, GiB);
});
afterEach(() => host.cleanup());

const run = (fn: string, env: Record<string, string> = {}) =>
    runBackupScript(host, P, fn, { STAMP: "20261127T020000Z", EPOCH: "1795744800", ...env });

/** The verbs called, in order, from a list of calls. */
const verbs = (calls: string[]) => calls.map((c) => c.split(" ")[0]);

/** Every pool a call names: only the project's own and the backups pool. */
function poolsTouched(calls: string[]): Set<string> {
    const pools = new Set<string>();
    for (const c of calls) {
        const a = c.split(" ");
        a.forEach((x, i) => {
            if (x === "--pool" || x === "--inputpool") pools.add(a[i + 1]);
        });
        if (
            [
                "vol-create",
                "vol-create-from",
                "vol-list",
                "pool-info",
                "pool-refresh",
                "pool-define-as",
                "pool-build",
                "pool-start",
                "pool-autostart",
                "pool-dumpxml",
            ].includes(a[0])
        )
            pools.add(a[1]);
    }
    return pools;
}

test("a running VM: the backups pool made, filesystems frozen, backup-begin, thawed at once; one checkpoint's bitmap and no metadata left", () => {
    const r = run("backup_take");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "myapp--20261127T020000Z--full.qcow2 full");
    const calls = host.calls();
    const v = verbs(calls);
    assert.ok(v.indexOf("pool-define-as") < v.indexOf("vol-create"), "the pool is made first");
    // (A thaw before the freeze is the sweep's, for a freeze a killed run may have left.)
    assert.deepEqual(
        v
            .slice(v.indexOf("domfsfreeze"))
            .filter((x) => ["domfsfreeze", "backup-begin", "domfsthaw", "domjobinfo"].includes(x))
            .slice(0, 3),
        ["domfsfreeze", "backup-begin", "domfsthaw"],
    );
    assert.ok(
        v.lastIndexOf("domfsthaw") < v.indexOf("domjobinfo"),
        "thawed before waiting for the copy: the point in time is fixed when the job starts",
    );
    assert.ok(!calls.includes("NOT FROZEN at backup-begin"));
    assert.match(
        calls.find((c) => c.startsWith("pool-define-as"))!,
        /^pool-define-as project-vms-backups dir --target \/mnt\/nas\/backups$/,
    );
    assert.deepEqual(host.volumes(BPOOL), ["myapp--20261127T020000Z--full.qcow2"]);
    assert.match(host.read("last-volume.xml"), /<compat>1\.1<\/compat>/, "qcow2 v3");
    const backupXml = host.read("last-backup.xml");
    assert.match(
        backupXml,
        /<disk name='vdb' backup='yes' type='file'><target file='\/pools\/project-vms-backups\/myapp--20261127T020000Z--full\.qcow2'\/>/,
    );
    assert.match(backupXml, /<disk name='vda' backup='no'\/><disk name='hdd' backup='no'\/>/, "only the project disk");
    assert.doesNotMatch(backupXml, /<incremental>/);
    assert.deepEqual(host.bitmaps(), ["project-vms-20261127T020000Z"]);
    assert.ok(
        calls.includes("checkpoint-delete project-myapp project-vms-20261127T020000Z --metadata"),
        "no checkpoint metadata stays in libvirt",
    );
    assert.deepEqual([...poolsTouched(calls)].sort(), [BPOOL, POOL].sort());
    assert.match(r.stderr, /freezing the filesystems of project-myapp/);
    assert.match(r.stderr, /thawed the filesystems of project-myapp/);
});

test("an incremental: the previous checkpoint redefined, the target an overlay over the previous backup, the old bitmap dropped", () => {
    assert.equal(run("backup_take").status, 0);
    const before = host.calls().length;
    const r = run("backup_take", {
        STAMP: "20261128T020000Z",
        KIND: "inc",
        PARENT: "myapp--20261127T020000Z--full.qcow2",
        PARENT_EPOCH: "1795744800",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "myapp--20261128T020000Z--inc.qcow2 inc");
    const calls = host.calls().slice(before);
    assert.ok(calls.some((c) => /^checkpoint-create project-myapp \S+ --redefine --redefine-validate$/.test(c)));
    assert.match(
        host.read("last-volume.xml"),
        /<backingStore><path>myapp--20261127T020000Z--full\.qcow2<\/path><format type='qcow2'\/><\/backingStore>/,
        "the parent by name: relative to the backups folder, which can then be moved whole",
    );
    assert.match(host.read("last-backup.xml"), /<incremental>project-vms-20261127T020000Z<\/incremental>/);
    assert.deepEqual(host.bitmaps(), ["project-vms-20261128T020000Z"], "one bitmap at rest");
    assert.ok(calls.includes("checkpoint-delete project-myapp project-vms-20261127T020000Z"), "the old checkpoint deleted with its bitmap");
});

test("bitmaps earlier backups left in the disk (a backup of the stopped VM came between) are dropped; the new one stays", () => {
    host.bitmap("project-vms-20261125T020000Z");
    const r = run("backup_take", { OLD: "20261125T020000Z:1795572000 20261126T020000Z:1795658400 bad:1" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(host.bitmaps(), ["project-vms-20261127T020000Z"]);
    assert.match(r.stderr, /dropped the dirty bitmap of an earlier backup \(project-vms-20261125T020000Z\)/);
    assert.ok(!host.calls().some((c) => c.includes("project-vms-bad")), "only stamps");
});

test("an incremental whose bitmap is gone (disk restored or replaced) becomes a full backup, and says so", () => {
    const r = run("backup_take", {
        STAMP: "20261128T020000Z",
        KIND: "inc",
        PARENT: "myapp--20261127T020000Z--full.qcow2",
        PARENT_EPOCH: "1795744800",
    });
    // The parent volume does not even exist here: full.
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "myapp--20261128T020000Z--full.qcow2 full");
    host.volume(BPOOL, "myapp--20261128T020000Z--full.qcow2", 2 * GiB, GiB);
    host.set("bitmaps/project-vms-20261128T020000Z", false);
    const r2 = run("backup_take", {
        STAMP: "20261129T020000Z",
        KIND: "inc",
        PARENT: "myapp--20261128T020000Z--full.qcow2",
        PARENT_EPOCH: "1795831200",
    });
    assert.equal(r2.status, 0, r2.stderr);
    assert.equal(r2.stdout, "myapp--20261129T020000Z--full.qcow2 full");
    assert.match(r2.stderr, /no longer has the dirty bitmap of myapp--20261128T020000Z--full\.qcow2 .*: a full backup instead/);
});

test("a qcow2 v2 project disk (as libvirt makes one without <compat>): full backups without a checkpoint, and the way out named", () => {
    host.volume(POOL, "project.qcow2", 2 * GiB, GiB, "-", "v2");
    host.set("v2");
    const r = run("backup_take", { KIND: "inc", PARENT: "myapp--20261126T020000Z--full.qcow2", PARENT_EPOCH: "1" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "myapp--20261127T020000Z--full.qcow2 full");
    assert.match(
        r.stderr,
        /qcow2 v2 .*full backups only\. A restore writes it back as qcow2 v3; to get there losing nothing: project-vm stop myapp; project-vm backup myapp; project-vm restore myapp latest; project-vm start myapp\./,
    );
    assert.ok(
        host.calls().some((c) => /^backup-begin project-myapp \S+ --reuse-external$/.test(c)),
        "no checkpoint XML",
    );
});

test("without a guest agent: refused, nothing frozen, nothing made, the two ways named", () => {
    host.agent(false);
    const r = run("backup_take");
    assert.notEqual(r.status, 0);
    assert.match(
        r.stderr,
        /guest agent of project-myapp does not answer.*project-vm stop myapp; project-vm backup myapp; project-vm start myapp.*No backup was made/,
    );
    assert.ok(!verbs(host.calls()).some((v) => ["domfsfreeze", "backup-begin", "vol-create", "vol-create-from"].includes(v)));
    assert.deepEqual(host.volumes(BPOOL), []);
});

test("a failing backup job is thawed, its target and its new checkpoint deleted, and fails", () => {
    const knobs: Record<string, (on: boolean) => void> = {
        "begin-fails": (on) => host.fails("backup-begin", on ? "error: backup failed to start" : undefined),
        "job-fails": (on) => host.set("job-fails", on),
    };
    for (const [knob, set] of Object.entries(knobs)) {
        set(true);
        const from = host.calls().length;
        const r = run("backup_take");
        assert.notEqual(r.status, 0, knob);
        const v = verbs(host.calls().slice(from));
        assert.ok(v.includes("domfsfreeze") && v.includes("backup-begin"), `${knob}: ${v.join(" ")}`);
        assert.ok(v.lastIndexOf("domfsthaw") > v.indexOf("domfsfreeze"), `${knob}: thawed: ${v.join(" ")}`);
        assert.deepEqual(host.volumes(BPOOL), [], `${knob}: nothing kept`);
        assert.deepEqual(host.bitmaps(), [], `${knob}: no bitmap left`);
        assert.match(r.stderr, /the backup of project-myapp failed; nothing was kept/);
        set(false);
    }
    host.fails("domfsfreeze", "error: freeze failed");
    const from = host.calls().length;
    const r = run("backup_take");
    assert.notEqual(r.status, 0);
    assert.ok(!verbs(host.calls().slice(from)).includes("backup-begin"), "no backup without a freeze");
    assert.match(r.stderr, /could not freeze its filesystems; no backup was made/);
    assert.deepEqual(host.volumes(BPOOL), []);
});

test("a stopped VM: a full copy with vol-create-from, no agent needed", () => {
    host.state("shut off");
    host.agent(false);
    const r = run("backup_take", { KIND: "inc", PARENT: "myapp--20261126T020000Z--full.qcow2", PARENT_EPOCH: "1" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "myapp--20261127T020000Z--full.qcow2 full");
    assert.ok(host.calls().some((c) => /^vol-create-from project-vms-backups \S+ --inputpool project-myapp project\.qcow2$/.test(c)));
    assert.ok(!verbs(host.calls()).includes("domfsfreeze"));
});

test("a backups pool elsewhere than backups.dir is not silently used", () => {
    host.pool(BPOOL, "/old/place");
    const r = run("backup_take");
    assert.notEqual(r.status, 0);
    assert.match(
        r.stderr,
        /pool project-vms-backups already exists at \/old\/place, not at \/mnt\/nas\/backups \(the stack's backups\.dir: move the backups there, or set backups\.dir to where they are\)/,
    );
});

test("restore: refused while running; with STOP the VM is shut down, the disk copied aside, replaced, and started again", () => {
    host.pool(BPOOL, "/mnt/nas/backups");
    host.volume(BPOOL, "myapp--20261127T020000Z--full.qcow2", 2 * GiB, GiB);
    host.volume(
        BPOOL,
        "myapp--20261128T020000Z--inc.qcow2",
        2 * GiB,
        3 * 1024 ** 2,
        "/pools/project-vms-backups/myapp--20261127T020000Z--full.qcow2",
    );
    host.volume(BPOOL, "other--20261128T020000Z--full.qcow2", 2 * GiB, GiB);
    const env = { BACKUP: "myapp--20261128T020000Z--inc.qcow2", STAMP: "20261129T100000Z" };
    const refused = run("restore_run", env);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /project-myapp is running: a restore replaces its project disk.*--stop/);
    assert.deepEqual(host.volumes(POOL), ["project.qcow2"]);

    const r = run("restore_run", { ...env, STOP: "true", SHUTDOWN_TIMEOUT: "10" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "project.qcow2.before-restore-20261129T100000Z verified");
    const calls = host.calls();
    const i = (re: RegExp) => calls.findIndex((c) => re.test(c));
    const order = [
        i(/^shutdown project-myapp --mode acpi$/),
        i(/^vol-create-from project-myapp \S+ --inputpool project-myapp project\.qcow2$/),
        i(/^vol-delete --pool project-myapp project\.qcow2$/),
        i(/^vol-create-from project-myapp \S+ --inputpool project-vms-backups myapp--20261128T020000Z--inc\.qcow2$/),
        i(/^start project-myapp$/),
    ];
    assert.ok(
        order.every((n) => n >= 0),
        JSON.stringify(order),
    );
    assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
        "shut down, copy aside, then replace, then start",
    );
    assert.deepEqual(host.volumes(POOL), ["project.qcow2", "project.qcow2.before-restore-20261129T100000Z"]);
    assert.deepEqual(host.volumes("project-other"), ["project.qcow2"]);
    assert.deepEqual([...poolsTouched(calls)].sort(), [BPOOL, POOL].sort(), "never another project's pool");

    // The kept copy is listed and deleted on confirm; nothing else is.
    assert.equal(run("restore_kept").stdout, `project.qcow2.before-restore-20261129T100000Z ${GiB}`);
    assert.equal(run("restore_confirm").status, 0);
    assert.deepEqual(host.volumes(POOL), ["project.qcow2"]);
});

test("restore refuses another project's backup and a chain that leaves the backups folder; a failed write puts the disk back", () => {
    host.state("shut off");
    host.pool(BPOOL, "/mnt/nas/backups");
    host.volume(BPOOL, "other--20261128T020000Z--full.qcow2", 2 * GiB, GiB);
    host.volume(BPOOL, "myapp--20261128T020000Z--inc.qcow2", 2 * GiB, 1, "/var/lib/project-vms/other/project.qcow2");
    host.volume(BPOOL, "myapp--20261129T020000Z--inc.qcow2", 2 * GiB, 1, "/pools/project-vms-backups/other--20261128T020000Z--full.qcow2");
    for (const [backup, why] of [
        ["other--20261128T020000Z--full.qcow2", /'other--20261128T020000Z--full\.qcow2' is not a backup of myapp/],
        ["myapp--20261128T020000Z--inc.qcow2", /rests on \/var\/lib\/project-vms\/other\/project\.qcow2, outside the backups folder/],
        ["myapp--20261129T020000Z--inc.qcow2", /'other--20261128T020000Z--full\.qcow2' is not a backup of myapp/],
        ["../project-other/project.qcow2", /is not a backup of myapp/],
    ] as const) {
        const r = run("restore_run", { BACKUP: backup });
        assert.notEqual(r.status, 0, backup);
        assert.match(r.stderr, why);
    }
    assert.ok(!verbs(host.calls()).some((v) => ["vol-delete", "vol-create-from"].includes(v)), "nothing copied or deleted");

    host.volume(BPOOL, "myapp--20261127T020000Z--full.qcow2", GiB, GiB);
    host.set("copy-fails");
    const failed = run("restore_run", { BACKUP: "myapp--20261127T020000Z--full.qcow2" });
    assert.notEqual(failed.status, 0);
    assert.match(
        failed.stderr,
        /restoring myapp--20261127T020000Z--full\.qcow2 failed; the disk as it was is kept as project\.qcow2\.before-restore-20261127T020000Z/,
    );
    assert.deepEqual(
        host.volumes(POOL),
        ["project.qcow2", "project.qcow2.before-restore-20261127T020000Z"],
        "the disk put back, and its copy kept",
    );
});

test("retention deletes only the project's own backups", () => {
    host.pool(BPOOL, "/mnt/nas/backups");
    host.volume(BPOOL, "myapp--20261101T020000Z--full.qcow2", GiB, GiB);
    host.volume(BPOOL, "other--20261101T020000Z--full.qcow2", GiB, GiB);
    for (const vols of ["other--20261101T020000Z--full.qcow2", "myapp--20261101T020000Z--full.qcow2 project.qcow2"]) {
        const r = run("backup_delete", { VOLUMES: vols });
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /refusing to delete '(other--20261101T020000Z--full\.qcow2|project\.qcow2)': not a backup of myapp/);
    }
    assert.deepEqual(host.volumes(BPOOL), ["myapp--20261101T020000Z--full.qcow2", "other--20261101T020000Z--full.qcow2"], "all or nothing");
    assert.equal(run("backup_delete", { VOLUMES: "myapp--20261101T020000Z--full.qcow2" }).status, 0);
    assert.deepEqual(host.volumes(BPOOL), ["other--20261101T020000Z--full.qcow2"]);
    assert.deepEqual(run("backup_list").stdout, "", "the other project's backups are not listed as this one's");
});

test("5. a backup volume that cannot be made (pool full, name taken): the parent's redefined checkpoint forgotten, no marker, nothing of others touched", () => {
    assert.equal(run("backup_take").status, 0);
    const inc = { STAMP: "20261128T020000Z", KIND: "inc", PARENT: "myapp--20261127T020000Z--full.qcow2", PARENT_EPOCH: "1795744800" };
    host.set("pool-full");
    const full = run("backup_take", inc);
    assert.notEqual(full.status, 0);
    assert.match(full.stderr, /could not create the backup volume myapp--20261128T020000Z--inc\.qcow2 .*no backup was made/);
    assert.deepEqual(host.metadata(), [], "no checkpoint metadata: libvirt can still undefine the domain");
    assert.deepEqual(host.volumes(BPOOL), ["myapp--20261127T020000Z--full.qcow2"]);
    assert.deepEqual(host.bitmaps(), ["project-vms-20261127T020000Z"], "the parent's bitmap stays for the next incremental");
    host.set("pool-full", false);
    host.volume(BPOOL, "myapp--20261128T020000Z--inc.qcow2", 123, 45);
    const taken = run("backup_take", inc);
    assert.notEqual(taken.status, 0);
    assert.deepEqual(host.metadata(), []);
    assert.deepEqual(host.volumes(BPOOL), ["myapp--20261127T020000Z--full.qcow2", "myapp--20261128T020000Z--inc.qcow2"]);
    assert.equal(
        host.read(`pools/${BPOOL}/myapp--20261128T020000Z--inc.qcow2`),
        "123 45 - v3\n",
        "a volume it did not make is not touched",
    );
});

test("5. a backup interrupted (TERM) mid-job leaves nothing: no volume, no marker, no checkpoint, thawed", () => {
    assert.equal(run("backup_take").status, 0);
    host.write("begin-kill", "TERM");
    const r = run("backup_take", {
        STAMP: "20261128T020000Z",
        KIND: "inc",
        PARENT: "myapp--20261127T020000Z--full.qcow2",
        PARENT_EPOCH: "1795744800",
    });
    assert.equal(r.status, 143, r.stderr);
    assert.deepEqual(host.volumes(BPOOL), ["myapp--20261127T020000Z--full.qcow2"]);
    assert.deepEqual(host.metadata(), []);
    assert.ok(!host.bitmaps().includes("project-vms-20261128T020000Z"), "the interrupted run's bitmap deleted");
    assert.throws(() => host.read("frozen"), /ENOENT/, "thawed");
    assert.equal(run("backup_list").stdout.split("\n").length, 1);
});

test("5. a stopped VM's copy that fails, or that a start tore, leaves no volume and no marker", () => {
    host.state("shut off");
    host.set("copy-fails");
    assert.notEqual(run("backup_take").status, 0);
    assert.deepEqual(host.volumes(BPOOL), []);
    host.set("copy-fails", false);
    assert.equal(run("backup_take", { STAMP: "20261128T020000Z" }).status, 0);
    assert.deepEqual(host.volumes(BPOOL), ["myapp--20261128T020000Z--full.qcow2"], "complete: no marker beside it");
});

test("a freeze that took effect but reported an error is thawed; no backup is begun", () => {
    host.errsAfter("domfsfreeze", "error: Guest agent is not responding: timed out");
    const r = run("backup_take");
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /could not freeze its filesystems; no backup was made/);
    assert.equal(fs.existsSync(path.join(host.dir, "frozen")), false, "the guest is not left frozen");
    const v = verbs(host.calls());
    assert.ok(v.lastIndexOf("domfsthaw") > v.indexOf("domfsfreeze"));
    assert.ok(!v.includes("backup-begin"));
    assert.deepEqual(host.volumes(BPOOL), []);
});

test("Ctrl+C while the freeze runs: the guest is thawed on the way out and nothing is kept", async () => {
    host.slow("domfsfreeze", 30, "after");
    const child = spawn("bash", ["-c", backupProgram("backup_take")], {
        detached: true,
        env: backupScriptEnv(host, P, { STAMP: "20261127T020000Z", EPOCH: "1795744800" }),
    });
    const started = Date.now();
    while (!host.waiting("domfsfreeze")) {
        assert.ok(Date.now() - started < 20_000, "the freeze began");
        await new Promise((r) => setTimeout(r, 50));
    }
    process.kill(-child.pid!, "SIGINT"); // the terminal's Ctrl+C reaches the whole process group
    const code = await new Promise<number | null>((r) => child.on("close", r));
    assert.equal(code, 130);
    assert.equal(fs.existsSync(path.join(host.dir, "frozen")), false, "thawed although the freeze never returned");
    assert.deepEqual(host.volumes(BPOOL), [], "nothing kept");
});

test("a backup-begin that hangs is given up after its time limit: thawed, its job aborted, nothing kept", () => {
    host.slow("backup-begin", 30, "before");
    const started = Date.now();
    const r = run("backup_take", { BACKUP_BEGIN_TIMEOUT: "2" });
    assert.notEqual(r.status, 0);
    assert.ok(Date.now() - started < 20_000, "not the hang's 30 s");
    assert.match(r.stderr, /backup-begin of project-myapp did not return within 2s: its filesystems are thawed and its job aborted/);
    assert.equal(fs.existsSync(path.join(host.dir, "frozen")), false);
    assert.ok(verbs(host.calls()).includes("domjobabort"));
    assert.deepEqual(host.volumes(BPOOL), []);
});

test("Ctrl+C while a restore writes the backup: the project disk as it was is put back", async () => {
    host.state("shut off");
    host.pool(BPOOL, "/mnt/nas/backups");
    host.volume(BPOOL, "myapp--20261127T020000Z--full.qcow2", 2 * GiB, GiB);
    host.set("copy-slow");
    const child = spawn("bash", ["-c", backupProgram("restore_run")], {
        detached: true,
        env: backupScriptEnv(host, P, { STAMP: "20261129T100000Z", BACKUP: "myapp--20261127T020000Z--full.qcow2" }),
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const started = Date.now();
    while (!fs.existsSync(path.join(host.dir, "copying"))) {
        assert.ok(Date.now() - started < 20_000, "the write began");
        await new Promise((r) => setTimeout(r, 50));
    }
    process.kill(-child.pid!, "SIGINT");
    const code = await new Promise<number | null>((r) => child.on("close", r));
    assert.equal(code, 130);
    assert.match(stderr, /interrupted: putting the project disk as it was back from project\.qcow2\.before-restore-20261129T100000Z/);
    assert.deepEqual(
        host.volumes(POOL),
        ["project.qcow2", "project.qcow2.before-restore-20261129T100000Z"],
        "a project disk, and its copy aside",
    );
    assert.equal(host.size(POOL, "project.qcow2")?.capacity, 2 * GiB, "the disk as it was");
});
