// The storage stack with a stopped project marked for purge and a grown disk.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runProgram } from "./support/program";
import { assertWiring, settingsOf } from "./support/wiring";

test("stopped, purged and resized projects: power, retention and grow wired accordingly", async (t) => {
    const overrides = {
        "project-vms:projects": [{ name: "myapp", running: false, purge: true, disk: "200G" }, { name: "webapp" }],
        "project-vms:shutdownTimeout": 300,
    };
    const run = await runProgram("storage", (r) => t.skip(r), overrides);
    if (!run) return;
    assertWiring(run, settingsOf("storage", overrides));

    assert.equal(run.named("project-myapp-power").inputs.environment.DESIRED, "stopped");
    assert.equal(run.named("project-myapp-power").inputs.environment.SHUTDOWN_TIMEOUT, "300");
    assert.equal(run.named("project-myapp").inputs.autostart, false, "a stopped project does not start with the host");
    assert.equal(run.named("project-webapp").inputs.autostart, true);
    assert.equal(run.named("project-myapp-pool").inputs.environment.PURGE, "true");
    assert.equal(run.named("project-myapp-project-disk").retainOnDelete, false, "purge: the disk goes with the project");
    assert.equal(run.named("project-webapp-project-disk").retainOnDelete, true);
    assert.equal(run.named("project-myapp-grow-project-disk").inputs.environment.SIZE, String(200 * 1024 ** 3));
});
