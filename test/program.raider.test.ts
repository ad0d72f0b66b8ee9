// The program for the real Pulumi.raider.yaml under mocks, including a project off the tailnet.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runProgram } from "./support/program";
import { assertWiring, settingsOf } from "./support/wiring";

test("raider: resources, wiring and outputs", async (t) => {
    const run = await runProgram("raider", (r) => t.skip(r));
    if (!run) return;
    const s = settingsOf("raider");
    assert.deepEqual(
        s.projects.map((p) => p.name),
        ["datalab", "sandbox"],
    );
    assertWiring(run, s);

    assert.equal(run.named("project-datalab").inputs.autostart, false);
    assert.equal(run.named("project-sandbox").inputs.memory, 8192, "raider's default memory");
    assert.equal(run.ofType("tailscale:index/tailnetKey:TailnetKey").length, 1, "only datalab joins the tailnet");
    const sandboxUserData: string = run.named("project-sandbox-cloud-init").inputs.userData;
    assert.ok(!sandboxUserData.includes("claude-code.sh") && sandboxUserData.includes("nix.sh"));
});
