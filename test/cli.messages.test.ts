// What the CLI tells a user in the less travelled cases: the command lines it prints work when
// pasted, a failure halfway names what to run next and exits non-zero, and the text names the
// hosts, values and placeholders it should.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { systemDiskUrn } from "../cli/pulumi";
import { lockWaitMs } from "../cli/factory";
import { lockPathOf, processStart } from "../cli/lock";
import { World, worldFor } from "./support/cli";

const SHA = "ab".repeat(64);
const url = (d: string) => `https://cloud.debian.org/images/cloud/forky/${d}/debian-14-genericcloud-amd64-${d}.qcow2`;

/** `base add 2026-12`, with Debian's SHA512SUMS answered. */
async function baseAdd(w: World): Promise<number> {
    const deps = w.deps();
    deps.fetchText = async (u) => `${SHA}  ${path.basename(u.replace("SHA512SUMS", "debian-14-genericcloud-amd64-20261201.qcow2"))}\n`;
    const { main } = await import("../cli/main");
    return main(["-H", "storage", "base", "add", "2026-12", url("20261201")], deps);
}

test("base add says how to move a project, and that line, with a name, moves it", async (t) => {
    const w = worldFor(t);
    assert.equal(await baseAdd(w), 0, w.errText());
    const [hint] = w.printedCommands();
    assert.match(hint, /^project-vm -C \S+ -H storage base move <name> 2026-12$/);
    assert.equal(await w.paste(`${hint.replace("<name>", "myapp")} --yes`), 0, w.errText());
    const entry = parse(w.stackText("storage")).config["project-vms:projects"].find((p: { name: string }) => p.name === "myapp");
    assert.equal(entry.base, "2026-12");
});

test("base move whose replacement of the system disk fails: exit 1, and the line it prints finishes the move", async (t) => {
    const w = worldFor(t);
    assert.equal(await baseAdd(w), 0, w.errText());
    const first = parse(w.stackText("storage")).config["project-vms:baseImages"][0].version;
    w.systemDisks.storage = { myapp: `debian-testing-${first}.qcow2` };
    w.diskTriggers.storage = {}; // made before its base was recorded: the move replaces it explicitly
    w.upCodes = [0, 1];
    w.err.length = 0;
    assert.equal(await w.run("-H", "storage", "base", "move", "myapp", "2026-12", "--yes"), 1);
    assert.match(w.errText(), /pulumi up --replace of its system disk failed \(exit 1\); its entry is pinned to 2026-12/);
    const again = w.printedCommands().find((c) => / base move /.test(c))!;
    assert.match(again, /^project-vm -C \S+ -H storage base move myapp 2026-12$/);
    assert.equal(await w.paste(`${again} --yes`), 0, w.errText());
    assert.deepEqual(w.applies.at(-1)!.replace, [systemDiskUrn("storage", "myapp")]);
    assert.equal(w.systemDisks.storage.myapp, "debian-testing-2026-12.qcow2");
});

test("base lists every VM on a version, separated", async (t) => {
    const w = worldFor(t);
    assert.equal(await baseAdd(w), 0, w.errText());
    const first = parse(w.stackText("storage")).config["project-vms:baseImages"][0].version;
    w.systemDisks.storage = { myapp: `debian-testing-${first}.qcow2`, webapp: `debian-testing-${first}.qcow2` };
    w.out.length = 0;
    assert.equal(await w.run("-H", "storage", "base"), 0, w.errText());
    assert.ok(w.out.includes("  VMs:    myapp, webapp"), w.out.join("\n"));
    assert.ok(w.out.includes("  VMs:    none"), "the new version has none yet");
});

test("status of a project marked for purge names the command that clears the mark, and it does", async (t) => {
    const w = worldFor(t);
    w.writeStack("storage", w.stackText("storage").replace(/(- name: webapp\n)/, "$1      purge: true\n"));
    w.host.define("project-webapp", { state: "running" });
    assert.equal(await w.run("status", "-H", "storage", "webapp"), 0, w.errText());
    const line = w.out.find((l) => l.includes("purge:"))!;
    const hint = /'(project-vm [^']+)' clears it/.exec(line)?.[1];
    assert.match(hint ?? line, /^project-vm -C \S+ -H storage start webapp$/);
    assert.equal(await w.paste(hint!), 0, w.errText());
    assert.equal(parse(w.stackText("storage")).config["project-vms:projects"][1].purge, undefined, "the mark is gone");
});

test("ssh to a running VM with no address anywhere says why, naming it", async (t) => {
    const w = worldFor(t);
    w.host.define("project-sandbox", { state: "running" });
    assert.equal(await w.run("ssh", "-H", "raider", "sandbox"), 2);
    assert.match(
        w.errText(),
        /no address known for project-sandbox: it is not on the tailnet, and neither the stack outputs nor libvirt know its IP/,
    );
    assert.deepEqual(w.interactive, []);
});

test("list shows - for what a stack file with problems leaves unknown", async (t) => {
    const w = worldFor(t);
    w.writeStack("storage", w.stackText("storage").replace("cpus: 8", "cpus: eight"));
    assert.equal(await w.run("list", "-H", "storage"), 0, w.errText());
    assert.match(w.out[1], /^storage\s+myapp\s+\?\s+-\s+-\s+-\s+-$/, "state, memory, cpus, disk and address unknown");
});

test("list when no stack file can be read: each named, and no 'has none' for an empty rest", async (t) => {
    const w = worldFor(t);
    w.writeStack("storage", "config: [\n");
    w.writeStack("raider", "config: {\n");
    assert.equal(await w.run("list", "--all"), 2);
    assert.match(w.errText(), /the projects of raider, storage are unknown: their stack files could not be read \(see above\)$/m);
    assert.doesNotMatch(w.errText(), /has none/);
    w.writeStack("raider", "config: {}\n");
    assert.equal(await w.run("list", "--all"), 2);
    assert.match(w.errText(), /the projects of storage are unknown: its stack file could not be read \(see above\); raider has none$/m);
});

test("create of a name that two other hosts have names both", async (t) => {
    const w = worldFor(t, ["storage", "raider"]);
    fs.writeFileSync(path.join(w.dir, "Pulumi.third.yaml"), w.stackText("raider").replace("name: sandbox", "name: newapp"));
    w.writeStack("raider", w.stackText("raider").replace("name: sandbox", "name: newapp"));
    const before = w.stackText("storage");
    assert.equal(await w.run("create", "-H", "storage", "newapp"), 2);
    assert.match(w.errText(), /project 'newapp' already exists on host raider, third: its VM is project-newapp on the tailnet/);
    assert.equal(w.stackText("storage"), before);
});

test("a change whose undo record cannot be kept is still applied, with a warning", async (t) => {
    const w = worldFor(t);
    fs.mkdirSync(path.join(w.dir, ".project-vm", "undo.storage.json", "blocked"), { recursive: true });
    assert.equal(await w.run("stop", "-H", "storage", "webapp"), 0, w.errText());
    assert.match(w.errText(), /project-vm: warning: could not keep the previous Pulumi\.storage\.yaml for undo \(/);
    assert.equal(w.applies.length, 1);
    assert.equal(parse(w.stackText("storage")).config["project-vms:projects"][1].running, false);
});

test("PROJECT_VM_LOCK_WAIT takes whole seconds only", () => {
    assert.equal(lockWaitMs({ PROJECT_VM_LOCK_WAIT: "90" }), 90_000);
    assert.equal(lockWaitMs({ PROJECT_VM_LOCK_WAIT: " 5 " }), 5_000);
    assert.equal(lockWaitMs({}), undefined);
    for (const bad of ["x5", "5x", "-5", "1.5", "5s"])
        assert.throws(() => lockWaitMs({ PROJECT_VM_LOCK_WAIT: bad }), new RegExp(`must be a whole number of seconds, got '${bad}'`), bad);
});

test("status of a VM off the tailnet with no address yet says its login is unknown, and why", async (t) => {
    const w = worldFor(t);
    w.host.define("project-sandbox", { state: "running" });
    assert.equal(await w.run("status", "-H", "raider", "sandbox"), 0, w.errText());
    assert.ok(w.out.includes("  login:      unknown (no tailnet name and no address yet)"), w.out.join("\n"));
});

test("base move's usage names what it moves and where", async (t) => {
    const w = worldFor(t);
    assert.equal(await w.run("base", "move", "--help"), 0);
    assert.match(w.out.join("\n"), /^Usage: project-vm base move \[options\] <name> <version>$/m);
});

test("a kept project disk of a size that is no whole KiB is taken up at the MiB above it, never below", async (t) => {
    const w = worldFor(t);
    w.host.volume("project-oldapp", "project.qcow2", 60 * 1024 ** 3 + 512, 1024 ** 3);
    assert.equal(await w.run("create", "-H", "storage", "oldapp"), 0, w.errText());
    const entry = w.applies[0].projects.find((p) => p.name === "oldapp");
    assert.equal(entry?.disk, "61441M");
    assert.match(w.errText(), /oldapp takes up the project disk kept on storage: \S+project\.qcow2 \(61441M, 1\.0G used\)/);
});

test("status says cloud-init is unknown when it could not be asked, and not asked of a stopped VM", async (t) => {
    const w = worldFor(t);
    w.host.define("project-webapp", { state: "shut off" });
    assert.equal(await w.run("status", "-H", "storage", "webapp"), 0, w.errText());
    assert.ok(w.out.includes("  cloud-init: - (asked of the guest while it runs)"), w.out.join("\n"));
    w.out.length = 0;
    w.host.down();
    assert.equal(await w.run("status", "-H", "storage", "webapp"), 0, w.errText());
    assert.ok(w.out.includes("  cloud-init: unknown"), w.out.join("\n"));
});

test("status finds a VM's address through its guest agent when it has no DHCP lease, and never shows loopback", async (t) => {
    const w = worldFor(t);
    w.host.define("project-webapp", { state: "running", agentIp: "10.17.0.42" });
    assert.equal(await w.run("status", "-H", "storage", "webapp", "--json"), 0, w.errText());
    assert.equal(JSON.parse(w.out.join("\n")).ip, "10.17.0.42");
    w.out.length = 0;
    w.host.define("project-webapp", { state: "running", ip: "10.17.0.7", agentIp: "10.17.0.42" });
    assert.equal(await w.run("status", "-H", "storage", "webapp", "--json"), 0, w.errText());
    assert.equal(JSON.parse(w.out.join("\n")).ip, "10.17.0.7", "the lease first");
});

test("an apply that worked but could not be recorded succeeds, with a warning that says why", async (t) => {
    const w = worldFor(t);
    fs.mkdirSync(path.join(w.dir, ".project-vm", "applied.storage.json", "in-the-way"), { recursive: true });
    assert.equal(await w.run("create", "-H", "storage", "newapp"), 0, w.errText());
    assert.match(w.errText(), /^project-vm: warning: could not record what was applied \(.*applied\.storage\.json.*\)$/m);
});

test("a change waiting for another one's lock says whom it waits for and how long it will", async (t) => {
    const w = worldFor(t);
    // Another live process holds it (a lock of this very process would be a bug, said as one).
    const other = spawn("sleep", ["60"]);
    t.after(() => other.kill());
    const holder = {
        pid: other.pid,
        started: processStart(other.pid!),
        hostname: os.hostname(),
        command: "project-vm stop myapp",
        since: "then",
    };
    fs.writeFileSync(lockPathOf(path.join(w.dir, "Pulumi.storage.yaml")), JSON.stringify(holder));
    w.env.PROJECT_VM_LOCK_WAIT = "1";
    assert.equal(await w.run("create", "-H", "storage", "late"), 2, w.errText());
    assert.match(
        w.errText(),
        /^project-vm: waiting for pid \d+ \(project-vm stop myapp, since then\) editing Pulumi\.storage\.yaml… \(up to 1s\)$/m,
    );
});
