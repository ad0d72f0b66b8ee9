// Backups that restore (issue #18 items 5, 6, 9, 10), through the CLI in its stand-in world and the
// real host script over the stand-in virsh: what a user sees (exit codes, messages naming the key
// and value) and what is left on the host (volumes, checkpoint metadata, virsh calls).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { eachBackupWorld, BPOOL, runAt } from "./support/backupWorld";
import { World } from "./support/cli";
import { FakeHost } from "./support/fakeVirsh";

let w: World;
let host: FakeHost;

eachBackupWorld((x) => ({ w, host } = x));

const at = (iso: string, ...args: string[]) => runAt(w, iso, ...args);

/** The stack file with `project-vms:backups` set to `yaml` (indented lines). */
function setBackups(yaml: string): void {
    w.writeStack("storage", w.stackText("storage").replace("config:\n", `config:\n  project-vms:backups:\n${yaml}`));
}

test("9. backups.dir: a system, virtual or volatile folder is refused by storageDir's rules, naming key and value; libvirt untouched", async () => {
    const original = w.stackText("storage");
    for (const dir of [
        "/",
        "/proc",
        "/etc",
        "/usr",
        "/tmp",
        "/run/backups",
        "/dev/shm",
        "/nix/store/x-backups",
        "/sys/x",
        "/var/tmp/b",
        "/var/lock/b",
    ]) {
        w.writeStack("storage", original);
        setBackups(`    dir: ${dir}\n`);
        for (const args of [
            ["backup", "myapp"],
            ["backup", "--all"],
            ["restore", "myapp", "latest", "--yes"],
            ["backups", "myapp"],
        ]) {
            const r = await at("2026-11-27T02:00:00Z", ...args);
            assert.equal(r.code, 2, `${dir} ${args.join(" ")}: ${w.errText()}`);
            assert.ok(w.errText().includes(`project-vms:backups.dir "${dir}"`), `${dir}: ${w.errText()}`);
        }
    }
    assert.deepEqual(host.calls(), [], "no virsh call: no pool defined anywhere");
    assert.deepEqual(host.volumes(BPOOL), []);
    assert.deepEqual(host.volumes("project-myapp"), ["project.qcow2"]);
    // A folder of its own on another disk is still fine.
    w.writeStack("storage", original);
    setBackups("    dir: /mnt/nas/vm-backups\n");
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    assert.equal(host.volumes(BPOOL).length, 1);
});

/** The project disk's stand-in content: "<capacity> <allocation> <backing> <compat>". */
const disk = () => host.read("pools/project-myapp/project.qcow2").trim();

test("10. backup and restore hold the stack's lock for every libvirt call, so no start/stop/destroy comes between", async () => {
    const lock = path.join(fs.realpathSync(w.dir), ".Pulumi.storage.yaml.lock");
    w.env = { ...w.env, FAKE_LOCK: lock };
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    host.state("shut off");
    assert.equal((await at("2026-11-27T03:00:00Z", "restore", "myapp", "latest", "--yes")).code, 0, w.errText());
    assert.equal((await at("2026-11-27T04:00:00Z", "restore", "--confirm", "myapp", "--yes")).code, 0, w.errText());
    const seen = host.read("lock-seen").trim().split("\n");
    assert.ok(
        seen.some((l) => l === "held vol-delete"),
        "restore's vol-delete ran",
    );
    assert.deepEqual(
        seen.filter((l) => l.startsWith("free")),
        [],
        "every call of backup and restore under the lock",
    );
    assert.ok(!fs.existsSync(lock), "released afterwards");
});

test("10. while another command holds the lock, backup and restore wait, then refuse naming it: nothing touched", async () => {
    const lock = path.join(fs.realpathSync(w.dir), ".Pulumi.storage.yaml.lock");
    fs.writeFileSync(
        lock,
        JSON.stringify({ pid: 1, started: "", hostname: "elsewhere.example", command: "project-vm start myapp", since: "then" }),
    );
    w.env = { ...w.env, PROJECT_VM_LOCK_WAIT: "0" };
    host.state("shut off");
    for (const args of [
        ["backup", "myapp"],
        ["backup", "--all"],
        ["restore", "myapp", "latest", "--yes"],
        ["restore", "--confirm", "myapp", "--yes"],
    ]) {
        const r = await at("2026-11-27T02:00:00Z", ...args);
        assert.equal(r.code, 2, `${args.join(" ")}: ${w.errText()}`);
        assert.match(
            w.errText(),
            /is being changed by pid 1 on elsewhere\.example \(project-vm start myapp, since then\).*nothing changed/,
            args.join(" "),
        );
    }
    assert.deepEqual(host.calls(), [], "no virsh call at all");
    assert.deepEqual(host.volumes("project-myapp"), ["project.qcow2"]);
    assert.ok(fs.existsSync(lock), "someone else's lock is left alone");
});

test("10. restore compares what it wrote with the backup on the host; a difference puts the disk back and fails", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    host.state("shut off");
    const before = disk();
    host.set("compare-differs");
    const r = await at("2026-11-27T03:00:00Z", "restore", "myapp", "latest", "--yes", "--json");
    assert.equal(r.code, 1, w.errText());
    assert.match(
        w.errText(),
        /what was written differs from the backup; the disk as it was is back, and kept as project\.qcow2\.before-restore-20261127T030000Z/,
    );
    const compare = host
        .calls()
        .findIndex(
            (c) =>
                c ===
                "qemu-img compare -U -f qcow2 -F qcow2 /pools/project-vms-backups/myapp--20261127T020000Z--full.qcow2 /pools/project-myapp/project.qcow2",
        );
    assert.ok(compare > 0 && host.calls()[compare - 1] === "ssh admin@storage", "compared on the libvirt host (qemu+ssh://admin@storage)");
    assert.equal(disk(), before, "the disk as it was is back");
    assert.deepEqual(host.volumes("project-myapp"), ["project.qcow2", "project.qcow2.before-restore-20261127T030000Z"]);
    assert.ok(!host.calls().includes("start project-myapp"));
});

test("10. a restore that could not be compared says so (exit 0, verified: false), never 'verified'", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    host.state("shut off");
    host.set("compare-fails");
    const r = await at("2026-11-27T03:00:00Z", "restore", "myapp", "latest", "--yes", "--json");
    assert.equal(r.code, 0, w.errText());
    assert.equal(r.json.verified, false);
    assert.match(w.errText(), /could not compare \(exit 2\): qemu-img: Could not open .*Permission denied/);
    assert.match(w.errText(), /restored to 20261127T020000Z in [\d.]+s, NOT verified against the backup/);
});

test("10. backups and restore with libvirt unreachable say libvirt could not be read, exit 1 — never 'no backups'", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    host.down();
    for (const args of [
        ["backups", "myapp"],
        ["backups", "myapp", "--json"],
        ["restore", "myapp", "latest", "--yes"],
    ]) {
        const r = await at("2026-11-27T03:00:00Z", ...args);
        assert.equal(r.code, 1, `${args.join(" ")}: ${w.errText()}`);
        assert.match(
            w.errText(),
            /could not read libvirt at qemu\+ssh:\/\/admin@storage\/system: error: failed to connect to the hypervisor/,
            args.join(" "),
        );
        assert.doesNotMatch(w.errText(), /has no backup/);
        assert.deepEqual(w.out, [], `${args.join(" ")}: nothing printed as a result`);
    }
});

test("6. backup --all backs up a stopped VM whose disk changed after its newest backup, and skips only an unchanged one", async () => {
    host.state("shut off");
    const stopped = new Date("2026-11-26T12:00:00Z");
    for (const p of ["project-myapp", "project-webapp"]) host.changed(p, "project.qcow2", stopped);
    const first = await at("2026-11-27T02:00:00Z", "backup", "--all", "--json");
    assert.equal(first.code, 0, w.errText());
    // myapp ran after that backup and was stopped again (or was restored, or resized): its disk changed.
    host.changed("project-myapp", "project.qcow2", new Date("2026-11-27T18:30:00Z"));
    const second = await at("2026-11-28T02:00:00Z", "backup", "--all", "--json");
    assert.equal(second.code, 0, w.errText());
    assert.deepEqual(
        second.json.backups.map((b: any) => [b.project, b.skipped ? "skipped" : b.volume]),
        [
            ["myapp", "myapp--20261128T020000Z--full.qcow2"],
            ["webapp", "skipped"],
        ],
    );
    assert.match(
        w.errText(),
        /myapp: project-myapp is shut off, but its disk changed at 2026-11-27T18:30:00\.250Z, after its newest backup/,
    );
    assert.match(
        w.errText(),
        /webapp: skipped, project-webapp is not defined: its disk has not changed since its newest backup webapp--20261127T020000Z--full\.qcow2/,
    );
    assert.ok(host.volumes(BPOOL).includes("myapp--20261128T020000Z--full.qcow2"));
    // Unchanged since: the third run skips both.
    const third = await at("2026-11-29T02:00:00Z", "backup", "--all", "--json");
    assert.deepEqual(
        third.json.backups.map((b: any) => (b.skipped ? "skipped" : b.volume)),
        ["skipped", "skipped"],
    );
});

test("5. a backup killed outright is never listed nor restored; the next backup removes what it left", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    host.write("begin-kill", "KILL");
    assert.equal((await at("2026-11-28T02:00:00Z", "backup", "myapp")).code, 1);
    host.set("begin-kill", false);
    assert.ok(
        host.volumes(BPOOL).includes("myapp--20261128T020000Z--inc.qcow2"),
        "the killed run's volume is there (nothing could remove it)",
    );
    assert.ok(host.metadata().length > 0, "and so is its checkpoint metadata");

    const listed = await at("2026-11-28T03:00:00Z", "backups", "myapp", "--json");
    assert.deepEqual(
        listed.json.backups.map((b: any) => b.volume),
        ["myapp--20261127T020000Z--full.qcow2"],
    );
    host.state("shut off");
    const restored = await at("2026-11-28T04:00:00Z", "restore", "myapp", "latest", "--yes", "--json");
    assert.equal(restored.code, 0, w.errText());
    assert.equal(restored.json.restored, "myapp--20261127T020000Z--full.qcow2", "latest is the newest complete backup");

    const next = await at("2026-11-29T02:00:00Z", "backup", "myapp", "--json");
    assert.equal(next.code, 0, w.errText());
    assert.match(w.errText(), /removed myapp--20261128T020000Z--inc\.qcow2, which an interrupted backup left incomplete/);
    assert.deepEqual(host.volumes(BPOOL), ["myapp--20261127T020000Z--full.qcow2", "myapp--20261129T020000Z--full.qcow2"]);
    assert.deepEqual(host.metadata(), [], "no checkpoint metadata left to stop libvirt undefining the domain");
});

test("a backup killed outright (kill -9): the guest is thawed, and the next backup leaves one bitmap", async () => {
    assert.equal((await at("2026-11-27T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    host.write("begin-kill", "KILL");
    assert.equal((await at("2026-11-28T02:00:00Z", "backup", "myapp")).code, 1);
    host.set("begin-kill", false);
    assert.ok(!fs.existsSync(path.join(host.dir, "frozen")), "the guest is not left frozen");
    assert.equal((await at("2026-11-29T02:00:00Z", "backup", "myapp")).code, 0, w.errText());
    assert.deepEqual(host.bitmaps(), ["project-vms-20261129T020000Z"], "no bitmap of the killed run stays in the disk");
});
