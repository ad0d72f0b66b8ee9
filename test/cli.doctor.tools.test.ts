// doctor's tool checks as a user reads them: the version line each real tool gives when asked the
// way it answers, and what a missing one is needed for.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { nodeCheck } from "../cli/commands/doctor";
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

test("doctor needs Node.js 20 or newer, by its major number", () => {
    assert.deepEqual(nodeCheck("20.0.0"), { name: "node", ok: true, detail: "v20.0.0" });
    assert.deepEqual(nodeCheck("22.11.0").ok, true);
    assert.deepEqual(nodeCheck("19.9.0"), { name: "node", ok: false, detail: "v19.9.0: 20 or newer is needed" });
    assert.equal(nodeCheck("100.0.0").ok, true, "a number, not a string compared");
});

test("doctor finds the real language host on PATH or beside the pulumi that PATH's symlink leads to, and says when it is neither", async (t) => {
    const w = worldFor(t);
    const deps = w.deps();
    const fake = deps.runTool!;
    const bin = path.join(w.dir, "bin");
    const release = path.join(w.dir, "release");
    for (const d of [bin, release]) fs.mkdirSync(d);
    const exe = (file: string) => fs.writeFileSync(file, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    exe(path.join(release, "pulumi"));
    fs.symlinkSync(path.join(release, "pulumi"), path.join(bin, "pulumi"));
    // Only the check's own shell runs for real, with nothing on PATH but bin and the system's.
    deps.runTool = (cmd, args) =>
        cmd === "sh"
            ? new Promise((resolve) =>
                  execFile(cmd, args, { env: { PATH: `${bin}:/usr/bin:/bin` }, timeout: 10_000 }, (e, stdout, stderr) =>
                      resolve({ code: e ? Number(e.code) || 1 : 0, stdout, stderr }),
                  ),
              )
            : fake(cmd, args);
    const { main } = await import("../cli/main");
    const check = async () => {
        w.out.length = 0;
        await main(["doctor", "--json"], deps);
        return (JSON.parse(w.out.join("\n")).checks as { name: string; ok: boolean; detail: string }[]).find(
            (c) => c.name === "pulumi-language-nodejs",
        );
    };
    assert.deepEqual(await check(), {
        name: "pulumi-language-nodejs",
        ok: false,
        detail: "not found on PATH nor beside pulumi: the Node.js language host runs the program (bash engine/build.sh builds it)",
    });
    exe(path.join(release, "pulumi-language-nodejs"));
    assert.deepEqual(await check(), { name: "pulumi-language-nodejs", ok: true, detail: path.join(release, "pulumi-language-nodejs") });
    exe(path.join(bin, "pulumi-language-nodejs"));
    assert.deepEqual(await check(), { name: "pulumi-language-nodejs", ok: true, detail: path.join(bin, "pulumi-language-nodejs") });
});
