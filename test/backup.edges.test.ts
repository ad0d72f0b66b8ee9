// host-scripts/backup.sh and restore.sh at their edges, against the stand-in virsh: a project whose
// name ends another's, a VM started while its disk is copied, a restore onto a disk that grew
// since the backup (or shrank), and one past the end of a chain.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { BPOOL, runBackupScript } from "./support/backupScript";
import { FakeHost } from "./support/fakeVirsh";

const GiB = 1024 ** 3;
let host: FakeHost;

beforeEach(() => {
    host = new FakeHost("project-app");
    host.state("shut off");
    host.pool("project-app", "/var/lib/project-vms/app");
    host.volume("project-app", "project.qcow2", 4 * GiB, GiB);
    host.pool(BPOOL, "/mnt/nas/backups");
});
afterEach(() => host.cleanup());

const run = (fn: string, env: Record<string, string> = {}) =>
    runBackupScript(host, "app", fn, { STAMP: "20261129T100000Z", SHUTDOWN_TIMEOUT: "10", ...env });

const capacity = (pool: string, vol: string) => Number(host.read(`pools/${pool}/${vol}`).split(" ")[0]);

test("app's restore and incremental never take myapp's backups, whose names end like app's", () => {
    host.volume(BPOOL, "myapp--20261128T020000Z--full.qcow2", 4 * GiB, GiB);
    const restore = run("restore_run", { BACKUP: "myapp--20261128T020000Z--full.qcow2" });
    assert.equal(restore.status, 1);
    assert.match(restore.stderr, /'myapp--20261128T020000Z--full\.qcow2' is not a backup of app/);
    assert.deepEqual(host.volumes("project-app"), ["project.qcow2"], "nothing copied aside or replaced");

    host.state("running");
    host.agent();
    const inc = run("backup_take", { KIND: "inc", PARENT: "myapp--20261128T020000Z--full.qcow2", PARENT_EPOCH: "1795744800" });
    assert.equal(inc.status, 1);
    assert.match(inc.stderr, /'myapp--20261128T020000Z--full\.qcow2' is not a backup of app/);
    assert.deepEqual(host.volumes(BPOOL), ["myapp--20261128T020000Z--full.qcow2"], "no backup of app rests on myapp's");
});

test("a stopped VM started while its disk is copied: the copy, which may be torn, is not kept as a backup", () => {
    host.after("vol-create-from", 'echo running > "$FAKE_VIRSH/domains/project-app/state"');
    const r = run("backup_take");
    assert.equal(r.status, 1);
    assert.match(
        r.stderr,
        /project-app was started while its disk was being copied: that copy may be torn and is deleted; back it up again/,
    );
    assert.deepEqual(host.volumes(BPOOL), [], "neither the copy nor its marker");
});

test("a VM started while restore copies its disk aside: the disk is not replaced, and its copy is kept", () => {
    host.volume(BPOOL, "app--20261128T020000Z--full.qcow2", 4 * GiB, GiB);
    host.after("vol-create-from", 'echo running > "$FAKE_VIRSH/domains/project-app/state"');
    const r = run("restore_run", { BACKUP: "app--20261128T020000Z--full.qcow2" });
    assert.equal(r.status, 1);
    assert.match(
        r.stderr,
        /project-app was started meanwhile; the disk was not replaced \(its copy project\.qcow2\.before-restore-20261129T100000Z is kept\)/,
    );
    assert.ok(!host.calls().some((c) => c.startsWith("vol-delete")), "the running VM's disk is not deleted");
    assert.ok(!host.calls().some((c) => c.includes(`--inputpool ${BPOOL}`)), "nothing written from the backup");
});

test("a restore onto a disk that grew since the backup keeps the disk's size; onto a smaller one takes the backup's", () => {
    host.volume(BPOOL, "app--20261128T020000Z--full.qcow2", 2 * GiB, GiB);
    const grown = run("restore_run", { BACKUP: "app--20261128T020000Z--full.qcow2" });
    assert.equal(grown.status, 0, grown.stderr);
    assert.equal(
        capacity("project-app", "project.qcow2"),
        4 * GiB,
        "the grown disk's size (the config's) kept: the guest grows its filesystem into it",
    );
    assert.equal(capacity("project-app", "project.qcow2.before-restore-20261129T100000Z"), 4 * GiB);

    host.volume(BPOOL, "app--20261128T030000Z--full.qcow2", 8 * GiB, GiB);
    const larger = run("restore_run", { BACKUP: "app--20261128T030000Z--full.qcow2", STAMP: "20261129T110000Z" });
    assert.equal(larger.status, 0, larger.stderr);
    assert.equal(capacity("project-app", "project.qcow2"), 8 * GiB, "a backup larger than the disk is restored whole");
});

test("restore walks a chain to its full backup, and refuses a chain that comes back on itself", () => {
    host.volume(BPOOL, "app--20261127T020000Z--full.qcow2", 4 * GiB, GiB);
    host.volume(BPOOL, "app--20261128T020000Z--inc.qcow2", 4 * GiB, 1, "/pools/project-vms-backups/app--20261127T020000Z--full.qcow2");
    host.volume(BPOOL, "app--20261129T020000Z--inc.qcow2", 4 * GiB, 1, "/pools/project-vms-backups/app--20261128T020000Z--inc.qcow2");
    const chain = run("restore_run", { BACKUP: "app--20261129T020000Z--inc.qcow2" });
    assert.equal(chain.status, 0, chain.stderr);
    assert.equal(chain.stdout, "project.qcow2.before-restore-20261129T100000Z verified");

    host.volume(BPOOL, "app--20261130T020000Z--inc.qcow2", 4 * GiB, 1, "/pools/project-vms-backups/app--20261201T020000Z--inc.qcow2");
    host.volume(BPOOL, "app--20261201T020000Z--inc.qcow2", 4 * GiB, 1, "/pools/project-vms-backups/app--20261130T020000Z--inc.qcow2");
    const loop = run("restore_run", { BACKUP: "app--20261130T020000Z--inc.qcow2", STAMP: "20261129T110000Z" });
    assert.equal(loop.status, 1);
    assert.match(
        loop.stderr,
        /the backup chain of app--20261130T020000Z--inc\.qcow2 comes back to app--20261130T020000Z--inc\.qcow2: it cannot be restored/,
    );
});

test("an incremental over a previous backup that is gone becomes a full backup: no backup rests on a missing one", () => {
    host.state("running");
    host.agent();
    host.bitmap("project-vms-20261128T020000Z");
    const r = run("backup_take", { KIND: "inc", PARENT: "app--20261128T020000Z--full.qcow2", PARENT_EPOCH: "1795831200" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "app--20261129T100000Z--full.qcow2 full");
    assert.match(r.stderr, /the previous backup app--20261128T020000Z--full\.qcow2 is gone: a full backup instead/);
    assert.equal(host.read(`pools/${BPOOL}/app--20261129T100000Z--full.qcow2`).split(" ")[2], "-", "on no backing file");
});

test("restore --confirm deletes the copies a restore kept of this disk only, not a volume whose name ends like one", () => {
    host.volume("project-app", "project.qcow2.before-restore-20261129T100000Z", 4 * GiB, GiB);
    host.volume("project-app", "old-project.qcow2.before-restore-20261129T100000Z", 4 * GiB, GiB);
    host.volume("project-app", "project.qcow2.before-restore-20261129T100000Z.bak", 4 * GiB, GiB);
    assert.equal(run("restore_kept").stdout, `project.qcow2.before-restore-20261129T100000Z ${GiB}`);
    const r = run("restore_confirm");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "project.qcow2.before-restore-20261129T100000Z");
    assert.deepEqual(host.volumes("project-app"), [
        "old-project.qcow2.before-restore-20261129T100000Z",
        "project.qcow2",
        "project.qcow2.before-restore-20261129T100000Z.bak",
    ]);
});

test("a copy aside that came out smaller than the disk stops the restore before the disk is touched", () => {
    host.volume(BPOOL, "app--20261128T020000Z--full.qcow2", 4 * GiB, GiB);
    host.set("copy-short");
    const r = run("restore_run", { BACKUP: "app--20261128T020000Z--full.qcow2" });
    assert.equal(r.status, 1);
    assert.match(
        r.stderr,
        /the copy aside \(project\.qcow2\.before-restore-20261129T100000Z\) does not have the disk's size; nothing else was changed/,
    );
    assert.equal(capacity("project-app", "project.qcow2"), 4 * GiB, "the disk itself untouched");
    assert.ok(!host.calls().some((c) => c.startsWith("vol-delete")), "not deleted");
});
