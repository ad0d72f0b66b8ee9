// `start`, `stop` and `restart`, their edges: an entry that already says what is asked while the
// VM is elsewhere (stopped by hand, crashed, libvirt not answering), the apply that sets it right
// and its failure, what a waiting user sees holding the stack, and a restart of a VM that is not there.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { main } from "../cli/main";
import { worldFor } from "./support/cli";

const entryOf = (text: string, name: string) => parse(text).config["project-vms:projects"].find((p: { name: string }) => p.name === name);

test("stop of a project whose entry says stopped and whose VM is shut off: nothing to do, nothing applied", async (t) => {
    const w = worldFor(t);
    w.editEntry("storage", "webapp", "running: false");
    w.host.define("project-webapp", { state: "shut off" });
    assert.equal(await w.run("stop", "-H", "storage", "webapp"), 0, w.errText());
    assert.deepEqual(w.err, ["project-vm: webapp is already stopped; nothing to do"]);
    assert.equal(w.applies.length, 0);
});

test("stop of a project whose entry says stopped but whose VM runs (started by hand) applies the stack to stop it", async (t) => {
    const w = worldFor(t);
    w.editEntry("storage", "webapp", "running: false");
    const before = w.stackText("storage");
    w.host.define("project-webapp", { state: "running" });
    assert.equal(await w.run("stop", "-H", "storage", "webapp"), 0, w.errText());
    assert.deepEqual(w.err, [
        "project-vm: webapp's entry already says stopped, but its VM is running: applying the stack to set it right",
        "project-vm: webapp is stopped",
    ]);
    assert.equal(w.applies.length, 1);
    assert.equal(w.applies[0].text, before, "the stack file as it was");
});

test("start when libvirt does not answer: the VM's state is said to be unknown, and the stack is applied", async (t) => {
    const w = worldFor(t);
    w.host.down();
    assert.equal(await w.run("start", "-H", "storage", "webapp"), 0, w.errText());
    assert.equal(
        w.err[0],
        "project-vm: webapp's entry already says running, but its VM is in an unknown state (libvirt did not answer): applying the stack to set it right",
    );
    assert.equal(w.err.at(-1), "project-vm: webapp is running");
    assert.equal(w.applies.length, 1);
});

test("start of a project with no VM yet applies the stack, saying the VM is absent", async (t) => {
    const w = worldFor(t);
    assert.equal(await w.run("start", "-H", "storage", "webapp"), 0, w.errText());
    assert.match(w.err[0], /^project-vm: webapp's entry already says running, but its VM is absent: applying/);
    assert.equal(w.applies.length, 1);
});

test("the apply that sets a VM right fails: exit 1, the stack file unchanged, and the failure says so", async (t) => {
    const w = worldFor(t);
    w.host.define("project-webapp", { state: "shut off" });
    const before = w.stackText("storage");
    w.upCodes = [3];
    assert.equal(await w.run("start", "-H", "storage", "webapp"), 1);
    assert.match(w.errText(), /^project-vm: start webapp: pulumi up --stack storage failed \(exit 3\); the stack file is unchanged/m);
    assert.doesNotMatch(w.errText(), /webapp is running/);
    assert.equal(w.stackText("storage"), before);
});

test("setting a VM right also applies what an earlier apply left unapplied, and says so, naming the command", async (t) => {
    const w = worldFor(t);
    assert.equal(await w.run("stop", "-H", "storage", "webapp"), 0, w.errText());
    w.writeStack("storage", w.stackText("storage").replace("memory: 16384", "memory: 8192"));
    w.host.define("project-webapp", { state: "running" });
    w.err.length = 0;
    assert.equal(await w.run("stop", "-H", "storage", "webapp"), 0, w.errText());
    assert.match(
        w.errText(),
        /^project-vm: note: Pulumi\.storage\.yaml also holds changes that were not applied since .*: 'stop webapp' applies them too$/m,
    );
    assert.equal(entryOf(w.applies.at(-1)!.text, "myapp").memory, 8192);
});

test("start and stop hold the stack under their own name while Pulumi applies", async (t) => {
    const w = worldFor(t);
    const { deps, holders } = w.depsNotingHolders();
    assert.equal(await main(["stop", "-H", "storage", "webapp"], deps), 0, w.errText());
    assert.equal(await main(["start", "-H", "storage", "webapp"], deps), 0, w.errText());
    w.host.define("project-webapp", { state: "shut off" });
    assert.equal(await main(["start", "-H", "storage", "webapp"], deps), 0, w.errText());
    assert.deepEqual(holders, ["project-vm stop webapp", "project-vm start webapp", "project-vm start webapp"]);
});

test("restart of a project without a VM says it is absent and how to start it", async (t) => {
    const w = worldFor(t);
    assert.equal(await w.run("restart", "-H", "storage", "webapp"), 2);
    assert.match(
        w.errText(),
        /^project-vm: project-webapp is absent, not running: start it with 'project-vm -C \S+ -H storage start webapp'$/m,
    );
    assert.ok(!w.host.calls().some((c) => / reboot /.test(c)), w.host.calls().join("\n"));
});

test("start stops (exit 1, nothing applied) on an error asking libvirt that is not libvirt being unreachable", async (t) => {
    const w = worldFor(t);
    const deps = w.deps();
    deps.virsh = async () => {
        throw new TypeError("Cannot read properties of undefined (reading 'split')");
    };
    assert.equal(await main(["start", "-H", "storage", "webapp"], deps), 1);
    assert.match(w.errText(), /^project-vm: Cannot read properties of undefined \(reading 'split'\)$/m);
    assert.equal(w.applies.length, 0);
});
