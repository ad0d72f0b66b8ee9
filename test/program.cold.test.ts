// The stack of program.baseimages.test.ts with prepare: false: the cold path (one program run per file).
import assert from "node:assert/strict";
import { test } from "node:test";
import { versions } from "./support/baseImages";
import { runProgram } from "./support/program";
import { assertWiring, settingsOf } from "./support/wiring";

const base = "/var/lib/project-vms/base";

test("prepare: false keeps the cold path: system disks on the images themselves, no builder", async (t) => {
    const overrides = { ...versions, "project-vms:prepare": false };
    const run = await runProgram("storage", (r) => t.skip(r), overrides);
    if (!run) return;
    assertWiring(run, settingsOf("storage", overrides));
    assert.equal(run.named("project-myapp-system-disk").inputs.baseVolumeId, `${base}/debian-testing-2026-10.qcow2`);
    assert.equal(run.named("project-webapp-system-disk").inputs.baseVolumeId, `${base}/debian-testing-2026-11.qcow2`);
    assert.equal(run.resources.filter((r) => r.name.startsWith("host-prepared-")).length, 0);
});
