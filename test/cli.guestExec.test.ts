// The CLI's guest agent calls (status's cloud-init, logs) against the stand-in virsh: a program in
// the guest that never ends is given up on after its time, which the message gives in seconds; one
// the agent could not start is said so.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Libvirt, LibvirtUnavailable } from "../cli/libvirt";
import { FakeHost } from "./support/fakeVirsh";

test("a guest program that does not end in its time is given up on, the time named in seconds", async (t) => {
    const host = new FakeHost("project-myapp");
    t.after(() => host.cleanup());
    host.define("project-myapp", { state: "running", cloudInitText: "status: done\n" });
    const libvirt = new Libvirt("qemu:///system", host.virsh);
    const done = await libvirt.guestExec("project-myapp", "cloud-init", ["status"]);
    assert.deepEqual([done.code, done.stdout], [0, "status: done\n"]);

    host.define("project-myapp", { execHangs: true });
    const started = Date.now();
    await assert.rejects(
        libvirt.guestExec("project-myapp", "cloud-init", ["status", "--wait"], 1500),
        (e: Error) => e instanceof LibvirtUnavailable && e.message === "cloud-init did not finish in project-myapp within 1.5s",
    );
    assert.ok(Date.now() - started >= 1500, "not before its time");
});

test("an agent that answers guest-exec without a pid: the program could not run, said so", async (t) => {
    const host = new FakeHost("project-myapp");
    t.after(() => host.cleanup());
    host.define("project-myapp", { state: "running", execNoPid: true });
    await assert.rejects(
        new Libvirt("qemu:///system", host.virsh).guestExec("project-myapp", "cloud-init", ["status"]),
        (e: Error) => e instanceof LibvirtUnavailable && e.message === "the guest agent of project-myapp could not run cloud-init",
    );
});
