// A stack with bad config: the user reads every problem, and nothing is registered.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { runProgram } from "./support/program";

test("bad config stops the program before any resource, with every problem named", async (t) => {
    const overrides = {
        "project-vms:projects": [{ name: "MyApp" }, { name: "ok", memory: 10 }],
        "project-vms:sshPublicKeys": [],
    };
    let error: unknown;
    let skipped = false;
    try {
        await runProgram(
            "storage",
            (r) => {
                skipped = true;
                t.skip(r);
            },
            overrides,
        );
    } catch (e) {
        error = e;
    }
    if (skipped) return;
    assert.ok(error instanceof pulumi.RunError, `a RunError (shown without a stack trace), got ${error}`);
    const message = (error as Error).message;
    assert.match(message, /project-vms:projects\[0\]\.name "MyApp" must be a DNS label/);
    assert.match(message, /project-vms:projects\[1\]\.memory is 10 MiB/);
    assert.match(message, /project-vms:sshPublicKeys must list at least one/);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const monitor = require("@pulumi/pulumi/runtime/settings").getMonitor();
    assert.equal(monitor.getRegisteredResources().size, 0, "nothing registered");
});
