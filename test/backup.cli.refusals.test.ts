// project-vm backup, backups and restore over the real host script and a stand-in virsh: the exact
// refusals and notes a user reads, a backup named each way it can be, and the sizes `backups` adds up.
import assert from "node:assert/strict";
import { test } from "node:test";
import { World } from "./support/cli";
import { BPOOL, eachBackupWorld, GiB, runAt } from "./support/backupWorld";
import { FakeHost } from "./support/fakeVirsh";

let w: World;
let host: FakeHost;

eachBackupWorld((x) => ({ w, host } = x));

const at = (iso: string, ...args: string[]) => runAt(w, iso, ...args);
const FULL = "myapp--20261127T020000Z--full.qcow2";

test("backup's usage mistakes are named: no project and no --all, or both", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup")).code, 2);
    assert.equal(w.errText(), "project-vm: backup needs a project name, or --all");
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp", "--all")).code, 2);
    assert.equal(w.errText(), "project-vm: give a project name or --all, not both");
});

test("a backups pool name with a slash in it is refused, though it ends like a pool name", async () => {
    w.env.PROJECT_VMS_BACKUP_POOL = "../project-vms-backups";
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 2);
    assert.equal(w.errText(), "project-vm: PROJECT_VMS_BACKUP_POOL '../project-vms-backups' is not a pool name");
});

test("backup --all with libvirt unreachable shows virsh's own words, and under PROJECT_VM_DEBUG a BackupFailed", async () => {
    host.down();
    w.env.PROJECT_VM_DEBUG = "1";
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "--all")).code, 1);
    assert.match(w.errText(), /failed to connect to the hypervisor/);
    assert.match(w.errText(), /^BackupFailed: libvirt at \S+ cannot be reached; no backups were made$/m);
});

test("backups adds up sizes: each chain's size to restore, the total; and no note of a missing project or backup", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    assert.equal((await at("2026-11-28T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    const r = await at("2026-11-28T03:00:00Z", "backups", "myapp", "--json");
    const [full, inc] = r.json.backups;
    assert.equal(full.chainSize, full.size);
    assert.equal(inc.chainSize, full.size + inc.size);
    assert.equal(r.json.total, full.size + inc.size);
    assert.equal((await at("2026-11-28T03:00:00Z", "backups", "myapp")).code, 0);
    assert.deepEqual(w.err, [
        `project-vm: 2 backup(s) of myapp, ${((full.size + inc.size) / GiB).toFixed(2)}G in /var/lib/project-vms/_backups (disk 100G)`,
    ]);
});

test("restore takes a backup by its volume name, with or without .qcow2, and by its stamp", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    host.state("shut off");
    for (const [i, which] of [FULL, FULL.replace(/\.qcow2$/, ""), "20261127T020000Z"].entries()) {
        const r = await at(`2026-11-27T0${3 + i}:00:00Z`, "restore", "myapp", which, "--yes", "--json");
        assert.equal(r.code, 0, `${which}: ${w.errText()}`);
        assert.equal(r.json.restored, FULL, which);
    }
});

test("restore names what is wrong with the backup asked for", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    host.state("shut off");
    const refused = async (...args: string[]) => {
        assert.equal((await at("2026-11-27T03:00:00Z", "restore", ...args)).code, 2, args.join(" "));
        return w.errText();
    };
    assert.match(
        await refused("myapp"),
        /^project-vm: restore needs the backup: a name 'project-vm -C \S+ -H storage backups myapp' lists, its time stamp, or latest$/,
    );
    assert.equal(
        await refused("myapp", "webapp--20261127T020000Z--full", "--yes"),
        "project-vm: webapp--20261127T020000Z--full is a backup of webapp, not of myapp: a restore never takes another project's backup",
    );
    assert.match(
        await refused("myapp", "myapp--20261101T020000Z--full.qcow2", "--yes"),
        /^project-vm: myapp has no backup 'myapp--20261101T020000Z--full\.qcow2'; 'project-vm -C \S+ -H storage backups myapp' lists them$/,
    );
    assert.equal(
        await refused("webapp", "latest", "--yes"),
        "project-vm: webapp has no backup 'latest' (it has none in /var/lib/project-vms/_backups)",
    );
    assert.equal(await refused("myapp", "latest", "--confirm"), "project-vm: restore --confirm takes only the project name");
});

test("restore of an incremental whose full backup is gone is refused: it rests on nothing whole", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    host.volume(BPOOL, "myapp--20261128T020000Z--inc.qcow2", 100 * GiB, GiB, "myapp--20261126T020000Z--full.qcow2");
    host.state("shut off");
    assert.equal((await at("2026-11-28T03:00:00Z", "restore", "myapp", "20261128T020000Z", "--yes")).code, 2);
    assert.equal(w.errText(), "project-vm: myapp--20261128T020000Z--inc.qcow2 rests on no full backup, so it cannot be restored");
    assert.deepEqual(host.volumes("project-myapp"), ["project.qcow2"]);
});

test("restore --confirm with no disk kept aside says so and asks nothing", async () => {
    w.answers = ["y"];
    assert.equal((await at("2026-11-27T02:00:00Z", "restore", "--confirm", "myapp")).code, 0, w.errText());
    assert.equal(w.errText(), "project-vm: no disk kept aside by a restore of myapp");
    assert.deepEqual(w.asked, []);
});
