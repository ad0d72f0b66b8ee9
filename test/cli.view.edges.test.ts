// The reading commands, their edges: `status` read whole (its warnings, a pinned base, disks
// libvirt does not know, cloud-init's errors or its silence, a purge armed in Pulumi's state),
// `list`'s warnings and hints over several hosts, and how a row's state and address are told.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { main } from "../cli/main";
import { addressOrNull, ProjectRow, stateText } from "../cli/commands/view";
import { parseCloudInitStatus } from "../cli/commands/status";
import { Deps } from "../cli/factory";
import { World, worldFor } from "./support/cli";

const SHA = "ab".repeat(64);

/** Pins myapp to base image version 2026-12, declared in the stack file. */
function pinMyapp(w: World): void {
    const image = `https://cloud.debian.org/images/cloud/forky/20261201/debian-14-genericcloud-amd64-20261201.qcow2`;
    w.writeStack(
        "storage",
        w
            .stackText("storage")
            .replace(
                "  project-vms:projects:\n",
                `  project-vms:baseImages:\n    - version: "2026-12"\n      url: ${image}\n      sha512: ${SHA}\n  project-vms:projects:\n`,
            )
            .replace(/(- name: myapp\n)/, `$1      base: "2026-12"\n`),
    );
}

/** A stack file's text with its project list taken out. */
const withoutProjects = (text: string) => text.replace(/ {2}project-vms:projects:\n(?: {4}.*\n|\n)*/, "");

/** Deps whose Pulumi reads of the purge marks fail with `error`, counting the reads. */
function purgesFailing(w: World, error: Error): { deps: Deps; reads: () => number } {
    const deps = w.deps();
    const pulumi = deps.pulumi;
    let reads = 0;
    deps.pulumi = (dir) => ({
        ...pulumi(dir),
        armedPurges: async () => {
            reads++;
            throw error;
        },
    });
    return { deps, reads: () => reads };
}

test("status read whole: the warning, no address, disks libvirt has no volume for, the pinned base, cloud-init's two errors", async (t) => {
    const w = worldFor(t);
    pinMyapp(w);
    w.pulumiMissing = true;
    w.host.define("project-myapp", { state: "running", cloudInit: { status: "done", errors: ["a failed", "b failed"] } });
    assert.equal(await w.run("status", "-H", "storage", "myapp"), 0, w.errText());
    assert.deepEqual(w.err, [
        `project-vm: Pulumi.storage.yaml in ${w.dir}`,
        "project-vm: warning: storage: no stack outputs (the Pulumi CLI (pulumi) is not installed or not on PATH); addresses come from libvirt",
    ]);
    assert.deepEqual(w.out, [
        "project-myapp on storage",
        "  state:      running; wanted: running",
        "  login:      ssh dev@project-myapp.bat-boa.ts.net",
        "  ip:         -",
        "  size:       16384 MiB memory, 8 vCPUs",
        "  purge:      no: the project disk is kept when the project goes",
        "  project:    /var/lib/project-vms/myapp/project.qcow2 → /home/dev/project (entry says 100G)",
        "  system:     /var/lib/project-vms/myapp/disk.qcow2 (base 2026-12)",
        "  cloud-init: done: a failed; b failed",
    ]);
});

test("status: cloud-init done without errors is just its status; a guest that cannot be asked is 'unknown', with the reason", async (t) => {
    const w = worldFor(t);
    w.host.define("project-sandbox", { state: "running", ip: "10.17.0.3", cloudInit: { status: "done" } });
    assert.equal(await w.run("status", "-H", "raider", "sandbox"), 0, w.errText());
    assert.equal(w.out.at(-1), "  cloud-init: done");
    assert.ok(w.out.includes("  ip:         10.17.0.3"), w.out.join("\n"));
    assert.deepEqual(w.err, [`project-vm: Pulumi.raider.yaml in ${w.dir}`], "nothing to warn of");
    w.out.length = 0;
    w.err.length = 0;
    w.host.agent(false, "project-sandbox");
    assert.equal(await w.run("status", "-H", "raider", "sandbox"), 0, w.errText());
    assert.equal(w.out.at(-1), "  cloud-init: unknown", "it runs, but nobody could ask: not '- (asked of the guest while it runs)'");
    assert.equal(
        w.err[1],
        "project-vm: warning: cloud-init status unknown: the guest agent of project-sandbox did not answer: Guest agent is not responding: QEMU guest agent is not connected",
    );
    w.out.length = 0;
    assert.equal(await w.run("status", "-H", "raider", "sandbox", "--json"), 0, w.errText());
    const json = JSON.parse(w.out.join("\n"));
    assert.equal(json.cloudInit, null);
    assert.match(json.warnings.join("\n"), /^cloud-init status unknown: the guest agent of project-sandbox did not answer/);
});

test("cloud-init's JSON without a status or errors is 'unknown' with no errors", () => {
    assert.deepEqual(parseCloudInitStatus({ code: 0, stdout: "{}", stderr: "" }), { status: "unknown", detail: undefined, errors: [] });
    assert.deepEqual(parseCloudInitStatus({ code: 1, stdout: '{"status":"error","errors":"not a list"}', stderr: "" }).errors, []);
});

test("status of a project whose entry already says purge does not read Pulumi's state for it", async (t) => {
    const w = worldFor(t);
    w.editEntry("storage", "webapp", "purge: true");
    const { deps, reads } = purgesFailing(w, new TypeError("Cannot read properties of undefined (reading 'resources')"));
    assert.equal(await main(["status", "-H", "storage", "webapp"], deps), 0, w.errText());
    assert.equal(reads(), 0);
    assert.match(
        w.out.find((l) => l.startsWith("  purge:"))!,
        /^ {2}purge: {6}PENDING: removing this project deletes its project disk/,
    );
});

test("status stops (exit 1) on an error reading Pulumi's state that is not the backend being unreachable, never saying 'no' to purge", async (t) => {
    const w = worldFor(t);
    const { deps, reads } = purgesFailing(w, new TypeError("Cannot read properties of undefined (reading 'resources')"));
    assert.equal(await main(["status", "-H", "storage", "webapp"], deps), 1);
    assert.equal(reads(), 1);
    assert.match(w.errText(), /^project-vm: Cannot read properties of undefined \(reading 'resources'\)$/m);
    assert.ok(!w.out.some((l) => l.includes("purge:")), w.out.join("\n"));
});

test("status of a project on a stack file with problems stops on them, as every other command does", async (t) => {
    const w = worldFor(t);
    w.writeStack("storage", w.stackText("storage").replace("cpus: 8", "cpus: eight"));
    assert.equal(await w.run("status", "-H", "storage", "myapp"), 2);
    assert.equal(
        w.errText(),
        `project-vm: ${path.join(w.dir, "Pulumi.storage.yaml")}: The stack's configuration has 1 problem:\n` +
            '  - project-vms:projects[0].cpus must be a whole number, got "eight"',
    );
    assert.deepEqual(w.out, []);
});

test("list -q warns of a stack file it cannot read, by host, and goes on with the others", async (t) => {
    const w = worldFor(t);
    w.writeStack("storage", "config: [\n");
    assert.equal(await w.run("ls", "-a", "-q"), 0, w.errText());
    assert.deepEqual(w.out, ["datalab", "sandbox"]);
    assert.equal(w.err.length, 1);
    assert.match(w.err[0], /^project-vm: warning: storage: \S+Pulumi\.storage\.yaml is not valid YAML: line 2, column 1: /);
});

test("list over hosts without projects: each named, and a hint that works pasted elsewhere", async (t) => {
    const w = worldFor(t);
    const none = withoutProjects(w.stackText("raider"));
    w.writeStack("raider", none);
    w.writeStack("storage", none);
    assert.equal(await w.run("list", "-a"), 0, w.errText());
    assert.equal(w.err.at(-1), `project-vm: no projects on raider, storage; add one with 'project-vm -C ${w.dir} -H <host> create <name>'`);
    assert.deepEqual(w.out, []);
});

test("list when one stack file cannot be read and two others have no projects names them all", async (t) => {
    const w = worldFor(t);
    const none = withoutProjects(w.stackText("raider"));
    w.writeStack("raider", none);
    fs.writeFileSync(path.join(w.dir, "Pulumi.third.yaml"), none);
    w.writeStack("storage", "config: [\n");
    assert.equal(await w.run("list", "-a"), 2);
    assert.match(
        w.errText(),
        /the projects of storage are unknown: its stack file could not be read \(see above\); raider, third have none$/m,
    );
});

test("list and status ask libvirt for the address of running VMs only, and leave out one that is no address, naming where it came from", async (t) => {
    const w = worldFor(t);
    w.host.define("project-myapp", { state: "shut off", ip: "10.17.0.9" });
    w.host.define("project-webapp", { state: "running", agentIp: "999.17.0.4" });
    w.host.clearCalls();
    assert.equal(await w.run("list", "-H", "storage", "--json"), 0, w.errText());
    const json = JSON.parse(w.out.join("\n"));
    assert.deepEqual(
        json.projects.map((p: ProjectRow) => [p.name, p.state, p.ip]),
        [
            ["myapp", "shut off", null],
            ["webapp", "running", null],
        ],
    );
    assert.deepEqual(json.warnings, ['storage: libvirt\'s address of project-webapp is not an IP address, left out: "999.17.0.4"']);
    assert.ok(!w.host.calls().some((c) => /domifaddr project-myapp/.test(c)), w.host.calls().join("\n"));
});

test("a stack file with several problems: list names them all, and no address is asked of libvirt", async (t) => {
    const w = worldFor(t);
    w.writeStack("storage", w.stackText("storage").replace("cpus: 8", "cpus: eight").replace("memory: 16384", "memory: lots"));
    assert.equal(await w.run("list", "-H", "storage", "--json"), 0, w.errText());
    assert.deepEqual(JSON.parse(w.out.join("\n")).warnings, [
        'storage: the stack file has problems, so only the project names are shown (project-vms:projects[0].memory must be MiB (e.g. 8192) or a size with a unit (e.g. 8G), got "lots"; project-vms:projects[0].cpus must be a whole number, got "eight")',
    ]);
});

test("without Pulumi and libvirt, a host's warning says where addresses come from: nowhere", async (t) => {
    const w = worldFor(t);
    w.pulumiMissing = true;
    w.host.down();
    assert.equal(await w.run("list", "-H", "storage", "--json"), 0, w.errText());
    const [outputs] = JSON.parse(w.out.join("\n")).warnings;
    assert.equal(outputs, "storage: no stack outputs (the Pulumi CLI (pulumi) is not installed or not on PATH)");
});

/** A row as viewHost makes it, with `fields` changed. */
const row = (fields: Partial<ProjectRow>): ProjectRow => ({
    host: "storage",
    name: "myapp",
    hostname: "project-myapp",
    desired: "running",
    state: "running",
    memory: 4096,
    cpus: 2,
    disk: "50G",
    base: null,
    purge: false,
    fqdn: null,
    ip: null,
    ssh: null,
    ...fields,
});

test("a row's state: as wanted it is the state alone; else what it wants; a pending purge said either way", () => {
    assert.equal(stateText(row({})), "running");
    assert.equal(stateText(row({ desired: "stopped", state: "shut off" })), "shut off", "stopped is libvirt's shut off");
    assert.equal(stateText(row({ desired: "stopped", state: "running" })), "running (wants stopped)");
    assert.equal(stateText(row({ desired: "running", state: "shut off" })), "shut off (wants running)");
    assert.equal(stateText(row({ purge: true })), "running (purge pending: removing it deletes its disk)");
    assert.equal(stateText(row({ purge: true, state: "absent" })), "absent (wants running, purge pending: removing it deletes its disk)");
    assert.equal(stateText(row({ state: null })), "? (wants running)");
    assert.equal(stateText(row({ state: null, desired: null })), "?");
});

test("an address: none given is null without a warning; one that is not an address is left out, shown escaped and cut to 80", () => {
    const warnings: string[] = [];
    for (const none of [undefined, null, ""]) assert.equal(addressOrNull(none, "x", warnings), null);
    assert.equal(warnings.length, 0);
    assert.equal(addressOrNull("fd00::5", "x", warnings), "fd00::5");
    assert.equal(addressOrNull(`10.0.0.1\n${"A".repeat(200)}`, "the address", warnings), null);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0], `the address is not an IP address, left out: ${`"10.0.0.1\\n${"A".repeat(200)}`.slice(0, 80)}`);
    assert.equal(warnings[0].length, "the address is not an IP address, left out: ".length + 80);
});
