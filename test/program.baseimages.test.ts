// The storage stack with versioned base images: a pinned project and an unpinned one.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runProgram } from "./support/program";
import { assertWiring, settingsOf } from "./support/wiring";

test("versioned base images: one volume per version, pinned projects on theirs, new ones on the newest", async (t) => {
    const overrides = {
        "project-vms:baseImages": [
            { version: "2026-10", url: "https://cloud.debian.org/images/cloud/forky/20261001/debian-14-genericcloud-amd64-20261001.qcow2" },
            { version: "2026-11", url: "https://cloud.debian.org/images/cloud/forky/20261101/debian-14-genericcloud-amd64-20261101.qcow2" },
        ],
        "project-vms:projects": [{ name: "myapp", base: "2026-10" }, { name: "webapp" }],
    };
    const run = await runProgram("storage", (r) => t.skip(r), overrides);
    if (!run) return;
    assertWiring(run, settingsOf("storage", overrides));
    assert.equal(run.named("project-myapp-system-disk").inputs.baseVolumeId, "/var/lib/project-vms/base/debian-testing-2026-10.qcow2");
    assert.equal(run.named("project-webapp-system-disk").inputs.baseVolumeId, "/var/lib/project-vms/base/debian-testing-2026-11.qcow2");
});
