// The storage stack with versioned base images: a pinned project and unpinned ones, on prepared
// layers (the default; program.cold.test.ts has the same stack with prepare: false).
import assert from "node:assert/strict";
import { test } from "node:test";
import { versions } from "./support/baseImages";
import { runProgram } from "./support/program";
import { assertWiring, settingsOf } from "./support/wiring";

const base = "/var/lib/project-vms/base";

test("versioned base images: one prepared layer per version and feature set, pinned projects on theirs, new ones on the newest", async (t) => {
    const run = await runProgram("storage", (r) => t.skip(r), versions);
    if (!run) return;
    assertWiring(run, settingsOf("storage", versions));
    const disk = (name: string) => run.named(`project-${name}-system-disk`).inputs.baseVolumeId as string;
    assert.match(disk("myapp"), new RegExp(`^${base}/debian-testing-2026-10-prepared-[0-9a-f]{12}\\.qcow2$`));
    assert.match(disk("webapp"), new RegExp(`^${base}/debian-testing-2026-11-prepared-[0-9a-f]{12}\\.qcow2$`));
    assert.match(disk("nonix"), new RegExp(`^${base}/debian-testing-2026-11-prepared-[0-9a-f]{12}\\.qcow2$`));
    assert.notEqual(disk("nonix"), disk("webapp"), "another feature set is another recipe");
    assert.equal(disk("alike"), disk("webapp"), "projects with the same features share a layer");
    assert.equal(run.resources.filter((r) => r.name.startsWith("host-prepared-")).length, 3);
});
