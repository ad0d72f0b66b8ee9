// The storage stack attached to a host bridge instead of the program's own network.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runProgram } from "./support/program";
import { assertWiring, settingsOf } from "./support/wiring";

test("a host bridge: no network of our own, NICs on the bridge, addresses from the guest agent", async (t) => {
    const overrides = { "project-vms:network": { bridge: "br0" } };
    const run = await runProgram("storage", (r) => t.skip(r), overrides);
    if (!run) return;
    assertWiring(run, settingsOf("storage", overrides));
    assert.equal(run.ofType("libvirt:index/network:Network").length, 0);
    const nic = run.named("project-myapp").inputs.networkInterfaces[0];
    assert.equal(nic.bridge, "br0");
    assert.equal(nic.networkId, undefined);
    assert.equal(run.named("project-myapp").inputs.qemuAgent, true);
});
