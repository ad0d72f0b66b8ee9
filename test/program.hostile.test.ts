// A hostile stack file: values that would reach libvirt XML, virsh and curl stop the program
// before any resource is registered, and a malformed secret is named but never shown.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { runProgram } from "./support/program";

test("hostile config stops the program before any resource, secrets unshown", async (t) => {
    const clientId = 'k123"\nurl = "https://evil.example';
    const overrides = {
        "project-vms:storageDir": "/srv/x</path><permissions><mode>0777</mode></permissions><path>/srv/x",
        "project-vms:libvirtUri": "qemu+ext:///system?command=/tmp/evil",
        "project-vms:projects": [{ name: "vms-base" }],
        "tailscale:oauthClientId": clientId,
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
    if (skipped) return; // no schema here: nothing ran
    assert.ok(error instanceof pulumi.RunError, `a RunError (shown without a stack trace), got ${error}`);
    const message = (error as Error).message;
    assert.match(message, /project-vms:storageDir "\/srv\/x<\/path>/);
    assert.match(message, /project-vms:libvirtUri .*got "qemu\+ext:\/\/\/system\?command=\/tmp\/evil"/);
    assert.match(message, /project-vms:projects\[0\]\.name "vms-base" is reserved/);
    assert.match(message, /tailscale:oauthClientId is malformed/);
    assert.ok(!message.includes("evil.example"), "the secret is not shown");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const monitor = require("@pulumi/pulumi/runtime/settings").getMonitor();
    assert.equal(monitor.getRegisteredResources().size, 0, "nothing registered");
});
