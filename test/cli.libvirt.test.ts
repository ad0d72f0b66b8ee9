// project-vm list and status against a real libvirtd (qemu:///system; .ci/run starts one), read
// with the real virsh: a project whose VM is gone but whose pool and project disk are kept. (A
// running VM is read in e2e/hostScripts.extra.ts: defining a domain costs libvirtd here ~30 s.)
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { virshOnPath } from "../cli/libvirt";
import { World } from "./support/cli";
import { REPO } from "./support/schemas";
import { libvirtReachable } from "./support/tools";

const URI = "qemu:///system";

test("list and status read libvirt's live state and the kept project disk's size", async (t) => {
    if (!libvirtReachable(URI, (r) => t.skip(r))) return;
    const name = `pvmscli${randomBytes(3).toString("hex")}`;
    const hostname = `project-${name}`;
    // Not under /tmp: the config refuses a storageDir there (disks in a tmpfs would be lost).
    const storage = fs.mkdtempSync("/var/lib/pvms-cli-libvirt-");
    const virsh = (...args: string[]) => {
        const r = spawnSync("virsh", ["-c", URI, ...args], { encoding: "utf8" });
        assert.equal(r.status, 0, `virsh ${args.join(" ")}: ${r.stderr}`);
    };
    t.after(() => {
        for (const args of [
            ["pool-destroy", hostname],
            ["pool-undefine", hostname],
        ])
            spawnSync("virsh", ["-c", URI, ...args]);
        fs.rmSync(storage, { recursive: true, force: true });
    });
    fs.mkdirSync(path.join(storage, name));
    virsh("pool-define-as", hostname, "dir", "--target", path.join(storage, name));
    virsh("pool-start", hostname);
    virsh("vol-create-as", hostname, "project.qcow2", "3G", "--format", "qcow2");
    const w = new World(["storage"]);
    t.after(() => w.cleanup());
    const text = w
        .stackText("storage")
        .replace("qemu+ssh://admin@storage/system", URI)
        .replace("project-vms:storageDir: /var/lib/project-vms", `project-vms:storageDir: ${storage}`)
        .replace("    - name: webapp", `    - name: webapp\n    - name: ${name}\n      memory: 1024\n      cpus: 1\n      disk: 3G`);
    w.writeStack("storage", text);
    const deps = w.deps();
    deps.virsh = virshOnPath;
    const { main } = await import("../cli/main");

    assert.equal(await main(["list", "--json"], deps), 0, w.errText());
    const rows = JSON.parse(w.out.join("\n")).projects;
    assert.deepEqual(
        rows.map((r: any) => [r.name, r.state]),
        [
            ["myapp", "absent"],
            ["webapp", "absent"],
            [name, "absent"],
        ],
    );

    w.out.length = 0;
    assert.equal(await main(["status", name, "--json"], deps), 0, w.errText());
    const status = JSON.parse(w.out.join("\n"));
    assert.equal(status.state, "absent", "no VM: its entry is not applied, or it was removed and its disk kept");
    assert.equal(status.disks.project.path, `${storage}/${name}/project.qcow2`);
    assert.equal(status.disks.project.capacity, 3 * 1024 ** 3, "the volume's size, from libvirt");
    assert.equal(status.cloudInit, null, "not asked of a VM that is not there");
    assert.equal(status.disks.system.capacity, undefined, "no system disk volume in this pool");
});

test("the host scripts' sure domain state with the real virsh: no such domain is none, a libvirt that does not answer is an error", (t) => {
    if (!libvirtReachable(URI, (r) => t.skip(r))) return;
    const state = (uri: string, domain: string) =>
        spawnSync("bash", ["-c", `. ${JSON.stringify(path.join(REPO, "host-scripts", "lib.sh"))}; domain_state_sure "$1"`, "_", domain], {
            encoding: "utf8",
            env: { ...process.env, LIBVIRT_URI: uri },
        });
    const none = state(URI, `pvms-none-${randomBytes(3).toString("hex")}`);
    assert.deepEqual([none.status, none.stdout], [0, ""], none.stderr);
    const down = state("qemu+unix:///system?socket=/nonexistent/libvirt-sock", "project-myapp");
    assert.equal(down.status, 1);
    assert.match(down.stderr, /ERROR: could not read the state of project-myapp: libvirt at \S+ does not answer/);
});
