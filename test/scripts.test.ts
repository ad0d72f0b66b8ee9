// The provisioning scripts: shellcheck-clean, and failing loudly with the step's name.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { CLOUD_INIT_DIR } from "../components/cloudInit";
import { hostCalls, hostProgram, PROGRAM_VAR, unpackProgram, HOST_SCRIPTS_DIR, hostScript } from "../components/hostCommands";
import { FakeDomain, FakeHost } from "./support/fakeVirsh";
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

test("a host command is lib.sh's prelude, the library functions the script calls, the script, and the call of one of its functions", () => {
    const text = hostScript("power.sh", "power_stop");
    assert.ok(text.startsWith("set -Eeuo pipefail\n"), "strict mode first");
    assert.ok(text.endsWith("\npower_stop\n"));
    for (const used of ["acpi_shutdown() {", "domain_state() {", "log() {", "die() {", "v() {"]) assert.ok(text.includes(used), used);
    for (const unused of ["guest_exec() {", "curl_config_line() {", "dir_pool_ensure() {", "human_size() {"])
        assert.ok(!text.includes(unused), `no ${unused}`);
    assert.ok(!/^\s*#/m.test(text), "no comment lines: they do not run");
    assert.deepEqual(
        hostProgram("power.sh")
            .split("\n")
            .filter((l) => l.trim() === ""),
        [],
        "no blank lines: every VM's state holds this text",
    );
    assert.ok(hostScript("ready.sh", "ready_wait").includes("guest_exec() {"), "a function the script calls comes along");
    assert.throws(() => hostScript("power.sh", "power_explode"), /has no function power_explode/);
});

test("a command carries its program once, packed, and runs it from its own inputs alone", () => {
    const calls = hostCalls("tailnet.sh", { create: "tailnet_node_record", update: "tailnet_node_keep", delete: "tailnet_node_delete" });
    assert.equal(unpackProgram(calls.program[PROGRAM_VAR]), hostProgram("tailnet.sh"));
    for (const [call, fn] of [
        [calls.create, "tailnet_node_record"],
        [calls.update, "tailnet_node_keep"],
        [calls.delete, "tailnet_node_delete"],
    ]) {
        assert.ok(call!.endsWith(`\n${fn}\n`));
        assert.ok(call!.length < 100, "the call only unpacks and calls");
    }
    assert.ok(calls.program[PROGRAM_VAR].length < hostProgram("tailnet.sh").length / 1.5, "packed to well under the text's size");
    // Run as the command provider runs it: bash -c with the environment, from no checkout at all.
    const power = hostCalls("power.sh", { create: "power_apply" });
    const r = spawnSync("bash", ["-c", power.create], { cwd: "/", encoding: "utf8", env: { PATH: process.env.PATH, ...power.program } });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /LIBVIRT_URI is not set/, "the unpacked program ran (its first check)");
    assert.throws(() => hostCalls("power.sh", { create: "power_explode" }), /has no function power_explode/);
});

test("host scripts refuse to run without a libvirt URI, and size messages use the config's units", () => {
    const noUri = spawnSync("bash", ["-c", hostScript("power.sh", "power_apply")], { encoding: "utf8", env: { PATH: process.env.PATH } });
    assert.notEqual(noUri.status, 0);
    assert.match(noUri.stderr, /LIBVIRT_URI is not set/);
    const sizes = spawnSync(
        "bash",
        [
            "-c",
            `${fs.readFileSync(path.join(HOST_SCRIPTS_DIR, "lib.sh"), "utf8")}\nhuman_size 107374182400; human_size 536870912; human_size 1000`,
        ],
        { encoding: "utf8", env: { PATH: process.env.PATH, LIBVIRT_URI: "test:///default" } },
    );
    assert.deepEqual(sizes.stdout.trim().split("\n"), ["100G", "512M", "1000B"]);
});

/**
 * Runs a ready.sh function against the stand-in virsh, its guest's cloud-init exiting `code` with
 * `status`, `log` its output log; the agent's first ping fails. `instance`: the config the
 * program attached and the one the guest runs; `domain`: more of the domain's setup.
 */
function runReady(
    code: number,
    status: string,
    log: string,
    instance?: { attached: string; running: string },
    domain: FakeDomain = {},
    fn = "ready_wait",
    setup: (host: FakeHost) => void = () => {},
) {
    const host = new FakeHost("project-myapp").noSleep();
    host.define("project-myapp", {
        state: "running",
        agentLate: 1,
        cloudInitText: status,
        cloudInitCode: code,
        log: log ? log.replace(/\n$/, "").split("\n") : undefined,
        instanceId: instance?.running,
        ...domain,
    });
    setup(host);
    try {
        return spawnSync("bash", ["-c", hostScript("ready.sh", fn)], {
            encoding: "utf8",
            env: {
                ...host.env(),
                LIBVIRT_URI: "qemu:///system",
                DOMAIN: "project-myapp",
                READY_TIMEOUT: "60",
                ...(instance ? { INSTANCE_ID: instance.attached } : {}),
            },
            timeout: 60_000,
        });
    } finally {
        host.cleanup();
    }
}

test("ready.sh waits for the guest agent, then for cloud-init, and says ready", (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r))) return;
    const r = runReady(0, "status: done\n", "");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "ready");
    assert.match(r.stderr, /project-myapp is ready: cloud-init finished/);
});

test("ready.sh's update: a stopped VM has nothing to wait for; a running one is waited for; a new VM that is not running fails", (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r))) return;
    const stopped = runReady(1, "status: error\n", "", undefined, { state: "shut off" }, "ready_recheck");
    assert.equal(stopped.status, 0, stopped.stderr);
    assert.match(stopped.stderr, /project-myapp is shut off: nothing to wait for; its config applies when it next starts/);
    const running = runReady(1, "status: error\n", "", undefined, {}, "ready_recheck");
    assert.notEqual(running.status, 0, "a running VM whose provisioning failed still fails the update");
    assert.match(running.stderr, /provisioning FAILED/);
    const unsure = runReady(1, "status: error\n", "", undefined, {}, "ready_recheck", (h) =>
        h.fails("domstate", "error: Cannot recv data"),
    );
    assert.notEqual(unsure.status, 0, "a VM whose state libvirt cannot give is not taken for a stopped one, and so ready");
    assert.match(unsure.stderr, /could not read the state of project-myapp from libvirt/);
    const created = runReady(0, "status: done\n", "", undefined, { state: "shut off" });
    assert.notEqual(created.status, 0, "a create never takes a stopped VM as ready");
    assert.match(created.stderr, /project-myapp is not running \(state: 'shut off'\)/);
});

test("ready.sh fails with cloud-init's failing step and the tail of its output log", (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r))) return;
    const r = runReady(
        1,
        "status: error\nerrors:\n\t- Failed to run module scripts-user\n",
        "project-vms[nix]: FAILED (exit 7) at line 15: curl\n",
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /provisioning FAILED/);
    assert.match(r.stderr, /Failed to run module scripts-user/);
    assert.match(r.stderr, /project-vms\[nix\]: FAILED \(exit 7\) at line 15: curl/);
    assert.match(r.stderr, /ERROR: project-myapp: cloud-init failed/);
});

test("ready.sh on a VM whose provisioning of the current config failed: no reboot (it would fail the same), the failure and its log", (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r))) return;
    const r = runReady(1, "status: error\n", "project-vms[packages]: FAILED (exit 100) at line 9: apt-get\n", {
        attached: "project-myapp-aaaaaaaaaaaa",
        running: "project-myapp-aaaaaaaaaaaa",
    });
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.stderr, /rebooting/);
    assert.match(r.stderr, /project-vms\[packages\]: FAILED \(exit 100\) at line 9: apt-get/);
    assert.match(r.stderr, /ERROR: project-myapp: cloud-init failed/);
});

test("ready.sh on a VM running fine with an older config: the new one applies at its next boot, no reboot", (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r))) return;
    const r = runReady(0, "status: done\n", "", { attached: "project-myapp-bbbbbbbbbbbb", running: "project-myapp-aaaaaaaaaaaa" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /runs config project-myapp-aaaaaaaaaaaa; the new one \(project-myapp-bbbbbbbbbbbb\) applies at its next boot/);
    assert.doesNotMatch(r.stderr, /rebooting/);
});

test("ready.sh polls again when one poll of the guest agent fails", (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r))) return;
    const r = runReady(0, "status: done\n", "", undefined, { agentBusy: 1 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "ready");
});

test("a command the guest agent cannot start for a while (its channel resetting as the guest boots) is started again: ready.sh gives no verdict of failure", (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r))) return;
    const r = runReady(
        0,
        "status: done\n",
        "",
        { attached: "project-myapp-aaaaaaaaaaaa", running: "project-myapp-aaaaaaaaaaaa" },
        { execLate: 2 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "ready");
    assert.doesNotMatch(r.stderr, /FAILED/);
});

test("ready.sh lets warnings through", (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r))) return;
    const r = runReady(2, "status: done\nrecoverable_errors:\n  WARNING: deprecated key\n", "");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /ready; cloud-init reported warnings/);
    assert.match(r.stderr, /deprecated key/);
});
