// Backups that restore (issue #18 items 5, 6, 9, 10), through the CLI in its stand-in world and the
// real host script over the stand-in virsh: what a user sees (exit codes, messages naming the key
// and value) and what is left on the host (volumes, checkpoint metadata, virsh calls).
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { backupWorld, BPOOL, runAt } from "./support/backupWorld";
import { World } from "./support/cli";
import { FakeHost } from "./support/fakeVirsh";

let w: World;
let host: FakeHost;

beforeEach(() => ({ w, host } = backupWorld()));
afterEach(() => {
    w.cleanup();
    host.cleanup();
});

const at = (iso: string, ...args: string[]) => runAt(w, iso, ...args);

/** The stack file with `project-vms:backups` set to `yaml` (indented lines). */
function setBackups(yaml: string): void {
    w.writeStack("storage", w.stackText("storage").replace("config:\n", `config:\n  project-vms:backups:\n${yaml}`));
}

test("9. backups.dir: a system, virtual or volatile folder is refused by storageDir's rules, naming key and value; libvirt untouched", async () => {
    const original = w.stackText("storage");
    for (const dir of ["/", "/proc", "/etc", "/usr", "/tmp", "/run/backups", "/dev/shm", "/nix/store/x-backups", "/sys/x", "/var/tmp/b"]) {
        w.writeStack("storage", original);
        setBackups(`    dir: ${dir}\n`);
        for (const args of [["backup", "myapp"], ["backup", "--all"], ["restore", "myapp", "latest", "--yes"], ["backups", "myapp"]]) {
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
