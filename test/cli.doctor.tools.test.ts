// doctor's tool checks as a user reads them: the version line each real tool gives when asked the
// way it answers, and what a missing one is needed for.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MIN_PULUMI, versionAtLeast } from "../cli/pulumi";
import { run } from "../cli/run";
import { worldFor } from "./support/cli";
import { requireTool } from "./support/tools";

test("doctor shows the version of the real ssh, asked as OpenSSH answers (ssh -V)", async (t) => {
    if (!requireTool("ssh", "openssh-client", (r) => t.skip(r))) return;
    const w = worldFor(t);
    const deps = w.deps();
    const fake = deps.runTool!;
    deps.runTool = (cmd, args) => (cmd === "ssh" ? run(cmd, args) : fake(cmd, args));
    const { main } = await import("../cli/main");
    await main(["doctor"], deps);
    const line = w.out.find((l) => /^\S+\s+ssh:/.test(l));
    assert.match(line ?? w.out.join("\n"), /^ok\s+ssh: OpenSSH_\S+/);
});

test("a missing mkisofs fails doctor, saying what it is needed for and which package has it", async (t) => {
    const w = worldFor(t);
    const deps = w.deps();
    const fake = deps.runTool!;
    deps.runTool = (cmd, args) => (cmd === "mkisofs" ? Promise.resolve({ code: 127, stdout: "", stderr: "" }) : fake(cmd, args));
    const { main } = await import("../cli/main");
    assert.equal(await main(["doctor"], deps), 1);
    assert.ok(
        w.out.includes("FAIL  mkisofs: not found: needed for the libvirt provider's cloud-init ISO (cdrkit/genisoimage)"),
        w.out.join("\n"),
    );
});

test("the Pulumi version check compares numbers, not digits: 3.207.10 is past 3.207.9", () => {
    assert.equal(versionAtLeast("v3.207.10", "v3.207.9"), true);
    assert.equal(versionAtLeast("3.274.1-dev.0", MIN_PULUMI), true);
    assert.equal(versionAtLeast("v3.206.99", MIN_PULUMI), false);
    assert.equal(versionAtLeast("v10.0.0", MIN_PULUMI), true);
    assert.equal(versionAtLeast("pulumi", MIN_PULUMI), false, "unreadable");
});
