// Two projects of one stack whose MACs (per host and project) collide: refused before anything is registered.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { projectMac } from "../components/names";
import { runProgram } from "./support/program";

test("two projects of a stack deriving the same MAC stop the program before any resource", async (t) => {
    // Found by search: on stack storage these two names derive one MAC.
    assert.equal(projectMac("storage", "p85695"), projectMac("storage", "p130656"));
    let error: unknown;
    let skipped = false;
    try {
        await runProgram(
            "storage",
            (r) => {
                skipped = true;
                t.skip(r);
            },
            { "project-vms:projects": [{ name: "p85695" }, { name: "p130656" }] },
        );
    } catch (e) {
        error = e;
    }
    if (skipped) return; // no schema here: nothing ran
    assert.ok(error instanceof pulumi.RunError, `a RunError, got ${error}`);
    assert.match(
        (error as Error).message,
        /projects p85695 and p130656 derive the same MAC address \(52:54:23:21:6f:ad\) on stack storage; rename one of them/,
    );
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const monitor = require("@pulumi/pulumi/runtime/settings").getMonitor();
    assert.equal(monitor.getRegisteredResources().size, 0, "nothing registered");
});
