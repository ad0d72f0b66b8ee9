// The provisioning scripts: shellcheck-clean, and failing loudly with the step's name.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { CLOUD_INIT_DIR } from "../components/cloudInit";
import { HOST_SCRIPTS_DIR, hostScript } from "../components/hostCommands";
import { requireTool } from "./support/tools";

const SCRIPTS = path.join(CLOUD_INIT_DIR, "scripts");
const scripts = fs.readdirSync(SCRIPTS).filter((f) => f.endsWith(".sh"));

test("every provisioning script passes shellcheck", (t) => {
    if (!requireTool("shellcheck", "shellcheck", (r) => t.skip(r))) return;
    const r = spawnSync("shellcheck", ["-x", "-S", "style", ...scripts], { cwd: SCRIPTS, encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("every step script is executable, uses bash and sources the shared library", () => {
    // grow-project-disk.sh runs on its own at every boot, from cloud-init's per-boot folder.
    for (const s of scripts.filter((f) => f !== "lib.sh" && f !== "grow-project-disk.sh")) {
        const text = fs.readFileSync(path.join(SCRIPTS, s), "utf8");
        assert.match(text, /^#!\/bin\/bash\n/, s);
        assert.match(text, /^\. "\$\(dirname "\$0"\)\/lib\.sh"$/m, s);
        assert.ok(fs.statSync(path.join(SCRIPTS, s)).mode & 0o100, `${s} is executable`);
    }
});

test("a failing command stops the step with its name, line and command, and a non-zero exit", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-"));
    fs.copyFileSync(path.join(SCRIPTS, "lib.sh"), path.join(dir, "lib.sh"));
    fs.writeFileSync(path.join(dir, "demo-step.sh"), '#!/bin/bash\n. "$(dirname "$0")/lib.sh"\nlog starting\nfalse\necho not reached\n');
    const r = spawnSync("bash", [path.join(dir, "demo-step.sh")], { encoding: "utf8" });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /project-vms\[demo-step\]: starting/);
    assert.match(r.stderr, /project-vms\[demo-step\]: FAILED \(exit 1\) at line 4: false/);
    assert.ok(!r.stdout.includes("not reached"));
});

test("project-disk.sh refuses to run without a mounted project disk", () => {
    const r = spawnSync("bash", [path.join(SCRIPTS, "project-disk.sh"), "/nonexistent/project", "project", "dev"], { encoding: "utf8" });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /FAILED: \/nonexistent\/project is not mounted/);
});

test("every host script passes shellcheck", (t) => {
    if (!requireTool("shellcheck", "shellcheck", (r) => t.skip(r))) return;
    const files = fs.readdirSync(HOST_SCRIPTS_DIR).filter((f) => f.endsWith(".sh"));
    assert.ok(files.length >= 4);
    const r = spawnSync("shellcheck", ["-x", "-S", "style", ...files], { cwd: HOST_SCRIPTS_DIR, encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("a host command is the shared library, the script, and the call of one of its functions", () => {
    const text = hostScript("power.sh", "power_stop");
    assert.ok(text.startsWith(fs.readFileSync(path.join(HOST_SCRIPTS_DIR, "lib.sh"), "utf8")));
    assert.ok(text.endsWith("\npower_stop\n"));
    assert.throws(() => hostScript("power.sh", "power_explode"), /has no function power_explode/);
});

test("host scripts refuse to run without a libvirt URI, and size messages use the config's units", () => {
    const noUri = spawnSync("bash", ["-c", hostScript("power.sh", "power_apply")], { encoding: "utf8", env: { PATH: process.env.PATH } });
    assert.notEqual(noUri.status, 0);
    assert.match(noUri.stderr, /LIBVIRT_URI is not set/);
    const sizes = spawnSync("bash", ["-c", `${fs.readFileSync(path.join(HOST_SCRIPTS_DIR, "lib.sh"), "utf8")}\nhuman_size 107374182400; human_size 536870912; human_size 1000`],
        { encoding: "utf8", env: { PATH: process.env.PATH, LIBVIRT_URI: "test:///default" } });
    assert.deepEqual(sizes.stdout.trim().split("\n"), ["100G", "512M", "1000B"]);
});
